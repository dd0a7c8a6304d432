#include <cmath>

#include "modulo.h"
#include "opforge/parallel.h"

namespace opforge::modulo {
namespace {

inline int32_t imod(int32_t a, int32_t b) { return (b == 0 || b == -1) ? 0 : a % b; }

}  // namespace

void Spec::cpu(const Args& a) {
  const int64_t n = a.numel;
  if (a.dtype == DType::kFloat32) {
    const float *pa = a.in<float>(0), *pb = a.in<float>(1);
    float* out = a.out<float>();
    parallel_for(n, kParallelGrain / 4, [=](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = std::fmod(pa[i], pb[i]);
    });
  } else if (a.dtype == DType::kInt32) {
    const int32_t *pa = a.in<int32_t>(0), *pb = a.in<int32_t>(1);
    int32_t* out = a.out<int32_t>();
    parallel_for(n, kParallelGrain / 4, [=](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = imod(pa[i], pb[i]);
    });
  }
}

}  // namespace opforge::modulo
