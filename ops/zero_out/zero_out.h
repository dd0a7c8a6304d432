// zero_out: keeps the first element (row-major) of x, sets all others to 0.
#pragma once

#include "opforge/op_spec.h"

namespace opforge::zero_out {

struct Spec : SpecBase {
  static constexpr const char* kName = "zero_out";
  static constexpr DTypes kDTypes{DType::kInt32, DType::kInt64};
  static constexpr std::array<const char*, 1> kInputs{"x"};
  static constexpr bool kSelftestReadsOneElement = true;  // for the bandwidth: x[0] alone
  static void cpu(const Args& a);
  static const char* cuda(const Args& a, Stream stream);
};
OPFORGE_OP(Spec)

}  // namespace opforge::zero_out
