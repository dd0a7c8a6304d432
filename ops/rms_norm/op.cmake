opforge_op(rms_norm
  KERNELS     rms_norm_cpu.cc
  CUDA        rms_norm.cu
  TORCH       torch.cc
  TENSORFLOW  tensorflow.cc
  ONNXRUNTIME onnxruntime.cc
  TENSORRT    tensorrt.cc
  SELFTEST    selftest.cc)
