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

const char* Spec::cuda(const Args& a, Stream stream) {
  if (a.dtype == DType::kFloat32)
    map2(a.in<float>(0), a.in<float>(1), a.out<float>(), a.numel, Mod{}, stream);
  else if (a.dtype == DType::kInt32)
    map2(a.in<int32_t>(0), a.in<int32_t>(1), a.out<int32_t>(), a.numel, Mod{}, stream);
  return launch_error();
}

}  // namespace opforge::modulo
