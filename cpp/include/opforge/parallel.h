// A plain parallel split for large CPU tensors. Kernels cannot use a
// framework's thread pool (they include no framework header), and small
// tensors run inline because a thread start costs more than they do.
#pragma once

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

namespace opforge {

constexpr int64_t kParallelGrain = int64_t{1} << 16;

// Calls fn(begin, end) over [0, n) in contiguous chunks of at least `grain`.
template <typename Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  const int64_t hw = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t chunks = std::min<int64_t>(hw, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (chunks <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(chunks - 1));
  int64_t begin = 0;
  for (int64_t c = 0; c + 1 < chunks; ++c, begin += step) {
    const int64_t end = std::min(n, begin + step);
    try {
      workers.emplace_back([&fn, begin, end] { fn(begin, end); });
    } catch (const std::system_error&) {  // no threads to be had: run inline
      fn(begin, end);
    }
  }
  fn(begin, n);
  for (auto& w : workers) w.join();
}

}  // namespace opforge
