// The self-test's host side (cpp/selftest/host_data.h) on the CPU: the inputs
// made on every core are the bytes one core makes, and the comparison finds
// the first difference wherever the chunks fall. Prints what it checked;
// exit 1 on the first failure. Built and run by tests/test_selftest.py.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "selftest/host_data.h"

using namespace opforge;
using namespace opforge::selftest;

namespace {

void expect(bool ok, const std::string& what) {
  if (ok) return;
  std::printf("FAILED: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main() {
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  std::printf("cores: %lld\n", static_cast<long long>(cores));

  // Every index once, in chunks no smaller than the grain.
  for (int64_t n : {int64_t{0}, int64_t{1}, kHostGrain, kHostGrain + 1, 5 * kHostGrain + 3}) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    std::atomic<int> chunks{0};
    split_over_cores(n, kHostGrain, [&](int64_t b, int64_t e) {
      chunks++;
      expect(e - b >= std::min(n, kHostGrain), "a chunk smaller than the grain");
      for (int64_t i = b; i < e; ++i) seen[i]++;
    });
    for (int64_t i = 0; i < n; ++i) expect(seen[i] == 1, "index " + std::to_string(i) + " not covered once");
    std::printf("split %lld elements: %d chunks\n", static_cast<long long>(n), chunks.load());
  }

  const int64_t n = 3 * kHostGrain + 17;  // over two chunks on any machine with two cores
  for (DType t : {DType::kFloat32, DType::kFloat16, DType::kInt32, DType::kInt64}) {
    for (bool divisors : {false, true}) {
      Run r{"op", t, "n", {n}, n};
      r.integer_divisors = divisors;
      const size_t bytes = static_cast<size_t>(n) * dtype_size(t);
      std::vector<char> parallel(bytes), serial(bytes);
      fill(t, parallel.data(), n, 7, r, true);
      fill_range(t, serial.data(), 0, n, 7, r, true);
      expect(parallel == serial, std::string(dtype_name(t)) + ": the inputs depend on the split");

      std::vector<char> actual = parallel;
      expect(compare(t, parallel.data(), actual.data(), n, 0).empty(), "equal outputs compare unequal");
      const int64_t late = n - 5, early = 11;  // in the last chunk, then in the first
      for (int64_t at : {late, early}) {
        const size_t es = dtype_size(t);
        std::memcpy(actual.data() + at * es, parallel.data() + (at == late ? 1 : 2) * es, es);
        if (same_at(t, parallel.data(), actual.data(), at, 0))  // the two values happened to be equal
          actual[at * es] ^= 1;
        const std::string got = compare(t, parallel.data(), actual.data(), n, 0);
        expect(got.rfind("element " + std::to_string(at) + ": ", 0) == 0,
               std::string(dtype_name(t)) + ": expected the difference at " + std::to_string(at) + ", got '" +
                   got + "'");
      }
    }
    std::printf("%s: the same inputs on %lld cores as on one; the first difference found\n", dtype_name(t),
                static_cast<long long>(cores));
  }

  // Tolerance: a float32 value off by less than it passes, by more fails; NaN matches NaN.
  std::vector<float> e = {1.0f, NAN, 100.0f}, a = {1.0f + 1e-6f, NAN, 100.0f};
  expect(compare(DType::kFloat32, e.data(), a.data(), 3, 1e-5).empty(), "within the tolerance, unequal");
  a[2] = 100.1f;
  expect(compare(DType::kFloat32, e.data(), a.data(), 3, 1e-5).rfind("element 2: ", 0) == 0, "beyond it, equal");
  std::printf("ok\n");
  return 0;
}
