#include "modulo.h"
#include "selftest.h"

OPFORGE_SELFTEST(modulo) {
  using namespace opforge;
  using namespace opforge::selftest;
  auto runs = [&](DType t, int64_t n, bool huge) {
    Run r{modulo::kName, t, std::to_string(n), {n, n}, n};
    r.integer_divisors = true;  // ints: zero divisors, -1 and INT_MIN
    auto on_cpu = [=](const Inputs& in, void* y) { modulo::cpu(t, in[0], in[1], y, n); };
    auto on_gpu = [=](const Inputs& in, void* y, Stream s) { return modulo::cuda(t, in[0], in[1], y, n, s); };
    if (huge) h.run_huge(r, on_cpu, on_gpu);
    else h.run(r, on_cpu, on_gpu);
  };
  for (DType t : {DType::kFloat32, DType::kInt32}) {
    for (int64_t n : Harness::sizes()) runs(t, n, false);
    const int64_t big = int64_t{1} << 28;
    Run r{modulo::kName, t, std::to_string(big), {big, big}, big};
    r.integer_divisors = true;
    h.bandwidth(r, [=](const Inputs& in, void* y, Stream s) { return modulo::cuda(t, in[0], in[1], y, big, s); });
  }
  runs(DType::kInt32, Harness::huge(), true);
}
