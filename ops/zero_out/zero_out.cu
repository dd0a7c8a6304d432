#include <cuda_runtime.h>

#include "opforge/cuda_launch.cuh"
#include "zero_out.h"

namespace opforge::zero_out {
namespace {

// Element 0 is written by the thread that owns it, so no thread reads x[0]
// after another has overwritten it when x and y alias.
template <typename T>
__global__ void zero_out_kernel(const T* x, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = i == 0 ? x[0] : T(0);
}

}  // namespace

const char* cuda(DType t, const void* x, void* y, int64_t n, Stream stream) {
  if (n == 0) return nullptr;
  const auto grid = elementwise_grid(n);
  if (t == DType::kInt32)
    zero_out_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const int32_t*>(x),
                                                 static_cast<int32_t*>(y), n);
  else if (t == DType::kInt64)
    zero_out_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const int64_t*>(x),
                                                 static_cast<int64_t*>(y), n);
  return launch_error();
}

}  // namespace opforge::zero_out
