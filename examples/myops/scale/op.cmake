opforge_op(scale SPEC scale.h KERNELS scale_cpu.cc CUDA scale.cu)
