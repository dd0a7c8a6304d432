#include <cuda_runtime.h>

#include "modulo.h"
#include "opforge/cuda_launch.cuh"

namespace opforge::modulo {
namespace {

__device__ inline float mod_one(float a, float b) { return fmodf(a, b); }
__device__ inline int32_t mod_one(int32_t a, int32_t b) { return (b == 0 || b == -1) ? 0 : a % b; }

template <typename T>
__global__ void modulo_kernel(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = mod_one(a[i], b[i]);
}

}  // namespace

const char* cuda(DType t, const void* a, const void* b, void* y, int64_t n, Stream stream) {
  if (n == 0) return nullptr;
  const auto grid = elementwise_grid(n);
  if (t == DType::kFloat32)
    modulo_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const float*>(a),
                                               static_cast<const float*>(b),
                                               static_cast<float*>(y), n);
  else if (t == DType::kInt32)
    modulo_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const int32_t*>(a),
                                               static_cast<const int32_t*>(b),
                                               static_cast<int32_t*>(y), n);
  return launch_error();
}

}  // namespace opforge::modulo
