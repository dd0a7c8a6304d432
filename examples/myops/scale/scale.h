// scale: y = x * alpha (float32). A minimal op outside the opforge tree.
#pragma once

#include "opforge/op_spec.h"

namespace myops::scale {
using namespace opforge;
struct Spec : SpecBase {
  static constexpr const char* kName = "scale";
  static constexpr DTypes kDTypes{DType::kFloat32};
  static constexpr std::array<const char*, 1> kInputs{"x"};
  static constexpr std::array<Attr, 1> kAttrs{float_attr("alpha")};
  static void cpu(const Args& a);
  static const char* cuda(const Args& a, Stream stream);
};
OPFORGE_OP(Spec)

}  // namespace myops::scale
