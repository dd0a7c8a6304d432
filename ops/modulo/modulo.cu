#include <cuda_runtime.h>

#include "modulo.h"
#include "opforge/cuda_elementwise.cuh"

namespace opforge::modulo {
namespace {

struct Mod {
  __device__ float operator()(float a, float b) const { return fmodf(a, b); }
  // numpy.fmod: x % 0 == 0 and INT_MIN % -1 == 0, where C would trap.
  __device__ int32_t operator()(int32_t a, int32_t b) const { return (b == 0 || b == -1) ? 0 : a % b; }
};

}  // namespace

const char* cuda(DType t, const void* a, const void* b, void* y, int64_t n, Stream stream) {
  if (n == 0) return nullptr;
  if (t == DType::kFloat32)
    map2(static_cast<const float*>(a), static_cast<const float*>(b), static_cast<float*>(y), n, Mod{}, stream);
  else if (t == DType::kInt32)
    map2(static_cast<const int32_t*>(a), static_cast<const int32_t*>(b), static_cast<int32_t*>(y), n, Mod{},
         stream);
  return launch_error();
}

}  // namespace opforge::modulo
