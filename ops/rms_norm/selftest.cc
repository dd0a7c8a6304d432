#include "rms_norm.h"
#include "selftest.h"

OPFORGE_SELFTEST(rms_norm) {
  using namespace opforge;
  using namespace opforge::selftest;
  auto runs = [&](DType t, int64_t rows, int64_t cols, bool huge) {
    const double tol = t == DType::kFloat32 ? 1e-5 : 2e-3;  // accumulation order differs
    const Run r{rms_norm::kName, t, std::to_string(rows) + "x" + std::to_string(cols), {rows * cols, cols},
                rows * cols, tol};
    auto on_cpu = [=](const Inputs& in, void* y) { rms_norm::cpu(t, in[0], in[1], y, rows, cols, 1e-5f); };
    auto on_gpu = [=](const Inputs& in, void* y, Stream s) {
      return rms_norm::cuda(t, in[0], in[1], y, rows, cols, 1e-5f, s);
    };
    if (huge) h.run_huge(r, on_cpu, on_gpu);
    else h.run(r, on_cpu, on_gpu);
  };
  const std::pair<int64_t, int64_t> shapes[] = {{0, 8}, {1, 1}, {1, 31}, {31, 1}, {1000003, 1},
                                                {977, 1031}, {3, 8192}, {2, 65537}};
  for (DType t : {DType::kFloat32, DType::kFloat16}) {
    for (auto [rows, cols] : shapes) runs(t, rows, cols, false);
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{8192, 4096}, {65536, 1024}, {1048576, 128}}) {
      h.bandwidth({rms_norm::kName, t, std::to_string(rows) + "x" + std::to_string(cols), {rows * cols, cols},
                   rows * cols},
                  [=](const Inputs& in, void* y, Stream s) {
                    return rms_norm::cuda(t, in[0], in[1], y, rows, cols, 1e-5f, s);
                  });
    }
  }
  runs(DType::kFloat16, (int64_t{1} << 21) + 3, 1024, true);  // 2^31 + 3072 elements
}
