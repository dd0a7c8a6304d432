#include "scale.h"
#include "selftest.h"

OPFORGE_SELFTEST(scale) {
  using namespace opforge::selftest;
  using opforge::DType;
  auto f = [](const void* p) { return static_cast<const float*>(p); };
  for (int64_t n : Harness::sizes()) {
    h.run({myops::scale::kName, DType::kFloat32, std::to_string(n), {n}, n},
          [=](const Inputs& in, void* y) { myops::scale::cpu(f(in[0]), static_cast<float*>(y), n, 0.75f); },
          [=](const Inputs& in, void* y, opforge::Stream s) {
            return myops::scale::cuda(f(in[0]), static_cast<float*>(y), n, 0.75f, s);
          });
  }
}
