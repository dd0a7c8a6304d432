#include "clip.h"

#include "opforge/half.h"
#include "opforge/parallel.h"

namespace opforge::clip {
namespace {

// Written with comparisons, not std::fmin/fmax, so that NaN propagates and
// lo > hi yields hi (the composition min(max(x, lo), hi)).
inline float clip_one(float v, float lo, float hi) {
  const float t = v < lo ? lo : v;
  return t > hi ? hi : t;
}

}  // namespace

void Spec::cpu(const Args& a) {
  const int64_t n = a.numel;
  const float lo = a.attr(0), hi = a.attr(1);
  if (a.dtype == DType::kFloat32) {
    const float* in = a.in<float>(0);
    float* out = a.out<float>();
    parallel_for(n, kParallelGrain, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = clip_one(in[i], lo, hi);
    });
  } else if (a.dtype == DType::kFloat16) {
    const uint16_t* in = a.in<uint16_t>(0);
    uint16_t* out = a.out<uint16_t>();
    parallel_for(n, kParallelGrain, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = float_to_half(clip_one(half_to_float(in[i]), lo, hi));
    });
  }
}

}  // namespace opforge::clip
