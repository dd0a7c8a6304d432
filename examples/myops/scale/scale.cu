#include <cuda_runtime.h>

#include "opforge/cuda_launch.cuh"
#include "scale.h"

namespace myops::scale {
namespace {

__global__ void scale_kernel(const float* x, float* y, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = x[i] * alpha;
}

}  // namespace

const char* cuda(const float* x, float* y, int64_t n, float alpha, opforge::Stream stream) {
  if (n == 0) return nullptr;
  scale_kernel<<<opforge::elementwise_grid(n), opforge::kBlock, 0, stream>>>(x, y, n, alpha);
  return opforge::launch_error();
}

}  // namespace myops::scale
