opforge_op(scale
  KERNELS     scale_cpu.cc
  CUDA        scale.cu
  TORCH       torch.cc
  TENSORFLOW  tensorflow.cc
  ONNXRUNTIME onnxruntime.cc
  TENSORRT    tensorrt.cc
  SELFTEST    selftest.cc)
