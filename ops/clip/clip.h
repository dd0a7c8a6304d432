// clip: y = min(max(x, lo), hi), elementwise; a NaN in x or a bound gives NaN, and lo > hi gives hi.
#pragma once

#include "opforge/op_spec.h"

namespace opforge::clip {

struct Spec : SpecBase {
  static constexpr const char* kName = "clip";
  static constexpr DTypes kDTypes{DType::kFloat32, DType::kFloat16};
  static constexpr std::array<const char*, 1> kInputs{"x"};
  static constexpr std::array<Attr, 2> kAttrs{float_attr("lo"), float_attr("hi")};
  static constexpr double kSelftestAttrs[] = {-1.5, 2.5};
  static void cpu(const Args& a);
  static const char* cuda(const Args& a, Stream stream);
};
OPFORGE_OP(Spec)

}  // namespace opforge::clip
