#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "opforge/cuda_launch.cuh"
#include "rms_norm.h"

namespace opforge::rms_norm {
namespace {

// One block per row (grid-strided): a strided sum of squares, a block reduction in float,
// then a second pass that scales and writes the row.
template <typename T>
__global__ void rms_norm_kernel(const T* x, const T* w, T* y, int64_t rows, int64_t cols,
                                float eps) {
  __shared__ float partial[kBlock];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
  const T* xr = x + row * cols;
  T* yr = y + row * cols;
  float sum = 0.f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float v = static_cast<float>(xr[c]);
    sum += v * v;
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  const float inv = rsqrtf(partial[0] / static_cast<float>(cols) + eps);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    yr[c] = static_cast<T>(static_cast<float>(xr[c]) * inv * static_cast<float>(w[c]));
  __syncthreads();  // partial[] is reused by the next row
  }
}

}  // namespace

const char* cuda(DType t, const void* x, const void* weight, void* y, int64_t rows, int64_t cols,
                 float epsilon, Stream stream) {
  if (rows == 0 || cols == 0) return nullptr;
  const auto grid = static_cast<unsigned>(rows < 65535 ? rows : 65535);
  if (t == DType::kFloat32)
    rms_norm_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const float*>(x),
                                                 static_cast<const float*>(weight),
                                                 static_cast<float*>(y), rows, cols, epsilon);
  else if (t == DType::kFloat16)
    rms_norm_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const __half*>(x),
                                                 static_cast<const __half*>(weight),
                                                 static_cast<__half*>(y), rows, cols, epsilon);
  return launch_error();
}

}  // namespace opforge::rms_norm
