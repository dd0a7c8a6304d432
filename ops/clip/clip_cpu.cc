#include <limits>

#include "clip.h"
#include "opforge/parallel.h"

namespace opforge::clip {

// Comparisons, not std::fmin/fmax, so that NaN in x propagates and lo > hi
// yields hi, as numpy's min(max(x, lo), hi); in float for both dtypes. A NaN
// bound makes every element NaN (numpy, torch), decided once, outside the
// loop, which then vectorises.
void Spec::cpu(const Args& a) {
  const float lo = a.attr(0), hi = a.attr(1);
  const bool nan_bound = lo != lo || hi != hi;
  const auto clip = [=](float v) {
    const float t = v < lo ? lo : v;
    return t > hi ? hi : t;
  };
  const auto nan = [](float) { return std::numeric_limits<float>::quiet_NaN(); };
  const auto run = [&](auto* y, const auto* x) {
    if (nan_bound) map_cpu(a, nan, y, x);
    else map_cpu(a, clip, y, x);
  };
  if (a.dtype == DType::kFloat32) run(a.out<float>(), a.in<float>(0));
  else run(a.out<uint16_t>(), a.in<uint16_t>(0));
}

}  // namespace opforge::clip
