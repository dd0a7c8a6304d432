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

void cpu(DType t, const void* x, void* y, int64_t n, float lo, float hi) {
  if (t == DType::kFloat32) {
    const float* in = static_cast<const float*>(x);
    float* out = static_cast<float*>(y);
    parallel_for(n, kParallelGrain, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = clip_one(in[i], lo, hi);
    });
  } else if (t == DType::kFloat16) {
    const uint16_t* in = static_cast<const uint16_t*>(x);
    uint16_t* out = static_cast<uint16_t*>(y);
    parallel_for(n, kParallelGrain, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = float_to_half(clip_one(half_to_float(in[i]), lo, hi));
    });
  }
}

}  // namespace opforge::clip
