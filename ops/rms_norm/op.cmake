opforge_op(rms_norm SPEC rms_norm.h KERNELS rms_norm_cpu.cc CUDA rms_norm.cu)
