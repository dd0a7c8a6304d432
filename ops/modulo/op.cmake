opforge_op(modulo
  KERNELS     modulo_cpu.cc
  CUDA        modulo.cu
  TORCH       torch.cc
  TENSORFLOW  tensorflow.cc
  ONNXRUNTIME onnxruntime.cc
  TENSORRT    tensorrt.cc
  SELFTEST    selftest.cc)
