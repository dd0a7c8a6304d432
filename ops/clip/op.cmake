opforge_op(clip SPEC clip.h KERNELS clip_cpu.cc CUDA clip.cu)
