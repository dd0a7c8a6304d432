opforge_op(modulo SPEC modulo.h KERNELS modulo_cpu.cc CUDA modulo.cu)
