// modulo: C fmod(a, b) elementwise; the result has the sign of a.
// Integers follow numpy.fmod: x % 0 == 0 and INT_MIN % -1 == 0 (both are
// undefined in C and would raise SIGFPE, killing the serving process).
#pragma once

#include "opforge/op_spec.h"

namespace opforge::modulo {

struct Spec : SpecBase {
  static constexpr const char* kName = "modulo";
  static constexpr DTypes kDTypes{DType::kFloat32, DType::kInt32};
  static constexpr std::array<const char*, 2> kInputs{"a", "b"};
  static constexpr std::array<Relation, 1> kRelations{same_shape(0, 1)};
  static constexpr bool kSelftestSmallInts = true;  // zero divisors, -1 and INT_MIN
  static void cpu(const Args& a);
  static const char* cuda(const Args& a, Stream stream);
};
OPFORGE_OP(Spec)

}  // namespace opforge::modulo
