opforge_op(zero_out SPEC zero_out.h KERNELS zero_out_cpu.cc CUDA zero_out.cu)
