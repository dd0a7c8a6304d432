#include "clip.h"
#include "selftest.h"

OPFORGE_SELFTEST(clip) {
  using namespace opforge;
  using namespace opforge::selftest;
  constexpr float lo = -1.5f, hi = 2.5f;
  auto runs = [&](DType t, int64_t n, bool huge) {
    const Run r{clip::kName, t, std::to_string(n), {n}, n};
    auto on_cpu = [=](const Inputs& in, void* y) { clip::cpu(t, in[0], y, n, lo, hi); };
    auto on_gpu = [=](const Inputs& in, void* y, Stream s) { return clip::cuda(t, in[0], y, n, lo, hi, s); };
    if (huge) h.run_huge(r, on_cpu, on_gpu);
    else h.run(r, on_cpu, on_gpu);
  };
  for (DType t : {DType::kFloat32, DType::kFloat16}) {
    for (int64_t n : Harness::sizes()) runs(t, n, false);
    const int64_t big = int64_t{1} << 28;
    h.bandwidth({clip::kName, t, std::to_string(big), {big}, big},
                [=](const Inputs& in, void* y, Stream s) { return clip::cuda(t, in[0], y, big, lo, hi, s); });
  }
  runs(DType::kFloat16, Harness::huge(), true);
}
