// rms_norm: y = x / sqrt(mean(x^2 over the last axis) + epsilon) * weight,
// accumulated in float32 whatever the storage dtype.
#pragma once

#include "opforge/op_spec.h"

namespace opforge::rms_norm {

struct Spec : SpecBase {
  static constexpr const char* kName = "rms_norm";
  static constexpr DTypes kDTypes{DType::kFloat32, DType::kFloat16};
  static constexpr std::array<const char*, 2> kInputs{"x", "weight"};
  static constexpr std::array<Attr, 1> kAttrs{float_attr("epsilon", 1e-6, 0)};
  static constexpr std::array<Relation, 1> kRelations{last_axis(1, 0)};
  // CPU and GPU sum in different orders: the self-test's tolerance (float32, float16).
  static constexpr double kSelftestTolerance[] = {1e-5, 2e-3};
  static void cpu(const Args& a);
  static const char* cuda(const Args& a, Stream stream);
};
OPFORGE_OP(Spec)

}  // namespace opforge::rms_norm
