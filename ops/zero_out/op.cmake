opforge_op(zero_out
  KERNELS     zero_out_cpu.cc
  CUDA        zero_out.cu
  TORCH       torch.cc
  TENSORFLOW  tensorflow.cc
  ONNXRUNTIME onnxruntime.cc
  TENSORRT    tensorrt.cc
  SELFTEST    selftest.cc)
