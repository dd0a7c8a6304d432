// A plain parallel split for large CPU tensors. Kernels cannot use a
// framework's thread pool (they include no framework header), and small
// tensors run inline because a thread start costs more than they do.
#pragma once

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

#include "opforge/half.h"

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

// Element storage: uint16_t holds float16, which an elementwise op sees as float.
template <typename T>
struct Elem {
  static T load(T v) { return v; }
  template <typename V>
  static T store(V v) { return static_cast<T>(v); }
};
template <>
struct Elem<uint16_t> {
  static float load(uint16_t h) { return half_to_float(h); }
  static uint16_t store(float v) { return float_to_half(v); }
};

// y[i] = f(in[i]...) for i in [0, n), in parallel chunks: the CPU twin of
// cuda_elementwise.cuh's map1 / map2.
template <typename T, typename F, typename... In>
void map_cpu(int64_t n, F f, T* y, const In*... in) {
  parallel_for(n, kParallelGrain, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = Elem<T>::store(f(Elem<In>::load(in[i])...));
  });
}

}  // namespace opforge
