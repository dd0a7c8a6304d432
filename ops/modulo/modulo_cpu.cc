#include <cmath>

#include "modulo.h"
#include "opforge/parallel.h"

namespace opforge::modulo {
namespace {

inline int32_t imod(int32_t a, int32_t b) { return (b == 0 || b == -1) ? 0 : a % b; }

}  // namespace

void cpu(DType t, const void* a, const void* b, void* y, int64_t n) {
  if (t == DType::kFloat32) {
    const float* pa = static_cast<const float*>(a);
    const float* pb = static_cast<const float*>(b);
    float* out = static_cast<float*>(y);
    parallel_for(n, kParallelGrain / 4, [=](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = std::fmod(pa[i], pb[i]);
    });
  } else if (t == DType::kInt32) {
    const int32_t* pa = static_cast<const int32_t*>(a);
    const int32_t* pb = static_cast<const int32_t*>(b);
    int32_t* out = static_cast<int32_t*>(y);
    parallel_for(n, kParallelGrain / 4, [=](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) out[i] = imod(pa[i], pb[i]);
    });
  }
}

}  // namespace opforge::modulo
