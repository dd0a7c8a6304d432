#include <cuda_runtime.h>

#include "opforge/cuda_elementwise.cuh"
#include "zero_out.h"

namespace opforge::zero_out {
namespace {

// Writes only: 16-byte stores of zeros over the aligned stretch of y, one by
// one around it. Element 0 is written by the thread that owns it, from x[0],
// which no other thread writes: x and y may be the same buffer.
template <typename T>
__global__ void zero_out_kernel(const T* x, T* y, int64_t n, int64_t head) {
  constexpr int L = pack_size<T>();
  const int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t packs = (n - head) / L;
  uint4* yp = reinterpret_cast<uint4*>(y + head);
  const uint4 zeros = make_uint4(0, 0, 0, 0);
  for (int64_t base = tid; base < packs; base += stride * kUnroll) {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + u * stride;
      if (i >= packs) break;
      uint4 raw = zeros;
      if (i == 0 && head == 0) reinterpret_cast<T*>(&raw)[0] = x[0];
      yp[i] = raw;
    }
  }
  const int64_t tail = head + packs * L, rest = head + (n - tail);
  for (int64_t i = tid; i < rest; i += stride) {
    const int64_t j = i < head ? i : tail + (i - head);
    y[j] = j == 0 ? x[0] : T(0);
  }
}

template <typename T>
void launch(const T* x, T* y, int64_t n, Stream stream) {
  const int64_t head = aligned_head<T>(n, {y});
  zero_out_kernel<<<grid_for_packs<T>(n, head), kBlock, 0, stream>>>(x, y, n, head);
}

}  // namespace

const char* Spec::cuda(const Args& a, Stream stream) {
  if (a.numel == 0) return nullptr;
  if (a.dtype == DType::kInt32)
    launch(a.in<int32_t>(0), a.out<int32_t>(), a.numel, stream);
  else if (a.dtype == DType::kInt64)
    launch(a.in<int64_t>(0), a.out<int64_t>(), a.numel, stream);
  return launch_error();
}

}  // namespace opforge::zero_out
