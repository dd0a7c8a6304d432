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
    const float t = v < lo || lo != lo ? lo : v;  // a NaN bound gives NaN, as on the CPU
    return static_cast<T>(t > hi || hi != hi ? hi : t);
  }
};

}  // namespace

const char* Spec::cuda(const Args& a, Stream stream) {
  const Clip clip{a.attr(0), a.attr(1)};
  if (a.dtype == DType::kFloat32)
    map1(a.in<float>(0), a.out<float>(), a.numel, clip, stream);
  else if (a.dtype == DType::kFloat16)
    map1(a.in<__half>(0), a.out<__half>(), a.numel, clip, stream);
  return launch_error();
}

}  // namespace opforge::clip
