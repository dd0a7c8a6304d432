opforge_op(clip
  KERNELS     clip_cpu.cc
  CUDA        clip.cu
  TORCH       torch.cc
  TENSORFLOW  tensorflow.cc
  ONNXRUNTIME onnxruntime.cc
  TENSORRT    tensorrt.cc
  SELFTEST    selftest.cc)
