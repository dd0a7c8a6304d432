#include "clip.h"
#include "opforge/parallel.h"

namespace opforge::clip {

// Comparisons, not std::fmin/fmax, so that NaN propagates and lo > hi yields
// hi (the composition min(max(x, lo), hi)); in float for both dtypes.
void Spec::cpu(const Args& a) {
  const float lo = a.attr(0), hi = a.attr(1);
  const auto clip = [=](float v) {
    const float t = v < lo ? lo : v;
    return t > hi ? hi : t;
  };
  if (a.dtype == DType::kFloat32) map_cpu(a, clip, a.out<float>(), a.in<float>(0));
  else map_cpu(a, clip, a.out<uint16_t>(), a.in<uint16_t>(0));
}

}  // namespace opforge::clip
