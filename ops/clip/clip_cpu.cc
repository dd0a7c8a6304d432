#include "clip.h"
#include "opforge/parallel.h"

namespace opforge::clip {

// Comparisons, not std::fmin/fmax, so that a NaN (in x or a bound)
// propagates and lo > hi yields hi, as numpy's min(max(x, lo), hi); in float
// for both dtypes.
void Spec::cpu(const Args& a) {
  const float lo = a.attr(0), hi = a.attr(1);
  const bool lo_nan = lo != lo, hi_nan = hi != hi;
  const auto clip = [=](float v) {
    const float t = v < lo || lo_nan ? lo : v;
    return t > hi || hi_nan ? hi : t;
  };
  if (a.dtype == DType::kFloat32) map_cpu(a, clip, a.out<float>(), a.in<float>(0));
  else map_cpu(a, clip, a.out<uint16_t>(), a.in<uint16_t>(0));
}

}  // namespace opforge::clip
