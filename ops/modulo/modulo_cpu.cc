#include <cmath>

#include "modulo.h"
#include "opforge/parallel.h"

namespace opforge::modulo {

void Spec::cpu(const Args& a) {
  if (a.dtype == DType::kFloat32) {
    const auto mod = [](float x, float y) { return std::fmod(x, y); };
    map_cpu(a, mod, a.out<float>(), a.in<float>(0), a.in<float>(1));
  } else {  // int32, as numpy.fmod: x % 0 == 0 and INT_MIN % -1 == 0, where C would trap
    const auto mod = [](int32_t x, int32_t y) { return (y == 0 || y == -1) ? 0 : x % y; };
    map_cpu(a, mod, a.out<int32_t>(), a.in<int32_t>(0), a.in<int32_t>(1));
  }
}

}  // namespace opforge::modulo
