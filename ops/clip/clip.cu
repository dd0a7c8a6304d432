#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "clip.h"
#include "opforge/cuda_launch.cuh"

namespace opforge::clip {
namespace {

template <typename T>
__global__ void clip_kernel(const T* x, T* y, int64_t n, float lo, float hi) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = static_cast<float>(x[i]);
    const float t = v < lo ? lo : v;
    y[i] = static_cast<T>(t > hi ? hi : t);
  }
}

}  // namespace

const char* cuda(DType t, const void* x, void* y, int64_t n, float lo, float hi, Stream stream) {
  if (n == 0) return nullptr;
  const auto grid = elementwise_grid(n);
  if (t == DType::kFloat32)
    clip_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const float*>(x), static_cast<float*>(y),
                                             n, lo, hi);
  else if (t == DType::kFloat16)
    clip_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const __half*>(x),
                                             static_cast<__half*>(y), n, lo, hi);
  return launch_error();
}

}  // namespace opforge::clip
