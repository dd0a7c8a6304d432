#include "opforge/cuda_launch.cuh"
#include "scale.h"

namespace myops::scale {

__global__ void scale_kernel(const float* x, float* y, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    y[i] = x[i] * alpha;
}

const char* Spec::cuda(const Args& a, Stream stream) {
  if (a.numel == 0) return nullptr;
  scale_kernel<<<elementwise_grid(a.numel), kBlock, 0, stream>>>(a.in<float>(0), a.out<float>(), a.numel, a.attr(0));
  return launch_error();
}

}  // namespace myops::scale
