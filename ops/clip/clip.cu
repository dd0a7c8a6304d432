#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "clip.h"
#include "opforge/cuda_elementwise.cuh"

namespace opforge::clip {
namespace {

// In float for both dtypes, as the CPU kernel: NaN fails both compares and stays NaN.
struct Clip {
  float lo, hi;
  template <typename T>
  __device__ T operator()(T x) const {
    const float v = static_cast<float>(x);
    const float t = v < lo ? lo : v;
    return static_cast<T>(t > hi ? hi : t);
  }
};

}  // namespace

const char* cuda(DType t, const void* x, void* y, int64_t n, float lo, float hi, Stream stream) {
  if (n == 0) return nullptr;
  if (t == DType::kFloat32)
    map1(static_cast<const float*>(x), static_cast<float*>(y), n, Clip{lo, hi}, stream);
  else if (t == DType::kFloat16)
    map1(static_cast<const __half*>(x), static_cast<__half*>(y), n, Clip{lo, hi}, stream);
  return launch_error();
}

}  // namespace opforge::clip
