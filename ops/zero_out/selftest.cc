#include "selftest.h"
#include "zero_out.h"

OPFORGE_SELFTEST(zero_out) {
  using namespace opforge;
  using namespace opforge::selftest;
  auto runs = [&](DType t, int64_t n, bool huge) {
    const Run r{zero_out::kName, t, std::to_string(n), {n}, n};
    auto on_cpu = [=](const Inputs& in, void* y) { zero_out::cpu(t, in[0], y, n); };
    auto on_gpu = [=](const Inputs& in, void* y, Stream s) { return zero_out::cuda(t, in[0], y, n, s); };
    if (huge) h.run_huge(r, on_cpu, on_gpu);
    else h.run(r, on_cpu, on_gpu);
  };
  for (DType t : {DType::kInt32, DType::kInt64}) {
    for (int64_t n : Harness::sizes()) runs(t, n, false);
    const int64_t big = int64_t{1} << 28;
    Run r{zero_out::kName, t, std::to_string(big), {big}, big};
    r.moved_elements = big + 1;  // it reads x[0] alone and writes every y
    h.bandwidth(r, [=](const Inputs& in, void* y, Stream s) { return zero_out::cuda(t, in[0], y, big, s); });
  }
  runs(DType::kInt32, Harness::huge(), true);
}
