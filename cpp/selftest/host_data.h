// The self-test's host side: the inputs it makes and the comparison of the
// outputs, on every core (with both on one core, a release's self-test took
// 4m42 on an H100, 3m55 of it CPU time). No CUDA here: tests/selftest_host
// checks it on any CPU.
#pragma once

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "opforge/half.h"
#include "selftest/harness.h"

namespace opforge::selftest {

// Calls fn(begin, end) over [0, n) in contiguous chunks of at least `grain`
// (as ParallelFor promises), at most one per core, on std::threads (the
// self-test has no framework to lend it threads). The chunks no thread could
// be started for (a container's pids limit) run on the calling thread.
template <class Fn>
void split_over_cores(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(cores, n / std::max<int64_t>(grain, 1)));
  const int64_t step = (n + chunks - 1) / chunks;
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(chunks));
  int64_t begin = step;
  for (; begin < n; begin += step) {
    try {
      workers.emplace_back([&fn, begin, n, step] { fn(begin, std::min(n, begin + step)); });
    } catch (const std::system_error&) {
      break;
    }
  }
  for (; begin < n; begin += step) fn(begin, std::min(n, begin + step));
  fn(int64_t{0}, std::min(n, step));
  for (auto& w : workers) w.join();
}

constexpr int64_t kHostGrain = int64_t{1} << 20;  // below this, a thread costs more than the loop

inline size_t dtype_size(DType t) { return t == DType::kFloat16 ? 2 : t == DType::kInt64 ? 8 : 4; }

inline uint64_t mix(uint64_t x) {  // splitmix64: cheap, and the same inputs on every run
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Elements [begin, end) of `fill`'s values: each element's value depends on
// its index alone, so any split gives the same bytes.
inline void fill_range(DType t, void* p, int64_t begin, int64_t end, uint64_t seed, const Run& r, bool specials) {
  for (int64_t i = begin; i < end; ++i) {
    const uint64_t u = mix(seed * 0x100000001b3ull + static_cast<uint64_t>(i));
    const float f = static_cast<float>(static_cast<int64_t>(u >> 40) - (1 << 23)) / (1 << 21);  // [-4, 4)
    float v = f;
    if (specials) {
      if (i % 97 == 13) v = NAN;
      else if (i % 101 == 17) v = INFINITY;
      else if (i % 103 == 19) v = -INFINITY;
      else if (i % 107 == 23) v = 0.0f;
      else if (i % 109 == 29) v = t == DType::kFloat16 ? 3e-6f : 1e-40f;  // subnormal
    }
    int64_t k = static_cast<int64_t>(u);
    if (r.integer_divisors) {
      k = static_cast<int64_t>(u % 2001) - 1000;
      if (i % 83 == 5) k = 0;
      else if (i % 79 == 7) k = -1;
      else if (i % 89 == 11) k = t == DType::kInt32 ? INT32_MIN : INT64_MIN;
    }
    switch (t) {
      case DType::kFloat32: static_cast<float*>(p)[i] = v; break;
      case DType::kFloat16: static_cast<uint16_t*>(p)[i] = float_to_half(v); break;
      case DType::kInt32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(k); break;
      case DType::kInt64: static_cast<int64_t*>(p)[i] = k; break;
    }
  }
}

// Random values, with NaN, +-Inf, zeros and subnormals sprinkled in where the
// case wants them, and (integer_divisors) small ints with 0, -1 and INT_MIN.
inline void fill(DType t, void* p, int64_t n, uint64_t seed, const Run& r, bool specials) {
  split_over_cores(n, kHostGrain, [&](int64_t b, int64_t e) { fill_range(t, p, b, e, seed, r, specials); });
}

inline double value_at(DType t, const void* p, int64_t i) {
  switch (t) {
    case DType::kFloat32: return static_cast<const float*>(p)[i];
    case DType::kFloat16: return half_to_float(static_cast<const uint16_t*>(p)[i]);
    case DType::kInt32: return static_cast<const int32_t*>(p)[i];
    case DType::kInt64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
  }
  return 0;
}

inline bool same_at(DType t, const void* expected, const void* actual, int64_t i, double tol) {
  if (t == DType::kInt32 || t == DType::kInt64)
    return std::memcmp(static_cast<const char*>(expected) + i * dtype_size(t),
                       static_cast<const char*>(actual) + i * dtype_size(t), dtype_size(t)) == 0;
  const double e = value_at(t, expected, i), a = value_at(t, actual, i);
  if (std::isnan(e) || std::isnan(a)) return std::isnan(e) && std::isnan(a);
  if (std::isinf(e) || std::isinf(a) || tol == 0) return e == a;
  return std::fabs(a - e) <= tol + tol * std::fabs(e);
}

// "" when equal within the tolerance (NaN matches NaN), else the first
// difference: the lowest index, however the elements were split.
inline std::string compare(DType t, const void* expected, const void* actual, int64_t n, double tol) {
  std::atomic<int64_t> first{n};
  split_over_cores(n, kHostGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end && i < first.load(std::memory_order_relaxed); ++i) {
      if (same_at(t, expected, actual, i, tol)) continue;
      int64_t seen = first.load();
      while (i < seen && !first.compare_exchange_weak(seen, i)) {
      }
      return;
    }
  });
  const int64_t i = first.load();
  if (i == n) return {};
  char buf[200];
  std::snprintf(buf, sizeof buf, "element %" PRId64 ": CUDA %.9g, CPU %.9g", i, value_at(t, actual, i),
                value_at(t, expected, i));
  return buf;
}

}  // namespace opforge::selftest
