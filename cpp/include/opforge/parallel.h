// Parallel loops for CPU kernels, on the threads the framework lends through
// Args (kernel_api.h): kernels include no framework header and never start
// threads of their own, and small tensors run inline because handing out work
// costs more than they do.
#pragma once

#include <cstdint>
#include <type_traits>

#include "opforge/half.h"
#include "opforge/kernel_api.h"

namespace opforge {

constexpr int64_t kParallelGrain = int64_t{1} << 15;  // torch's own (at::internal::GRAIN_SIZE)

// Calls fn(begin, end) over [0, n) in contiguous chunks of at least `grain`.
template <typename Fn>
void parallel_for(const Args& a, int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  if (a.parallel == nullptr || n <= grain) return fn(int64_t{0}, n);
  using F = std::remove_reference_t<Fn>;
  a.parallel(a.pool, n, grain, [](void* ctx, int64_t b, int64_t e) { (*static_cast<F*>(ctx))(b, e); }, &fn);
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

// y[i] = f(in[i]...) for every element of the call: the CPU twin of
// cuda_elementwise.cuh's map1 / map2.
template <typename T, typename F, typename... In>
void map_cpu(const Args& a, F f, T* y, const In*... in) {
  parallel_for(a, a.numel, kParallelGrain, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = Elem<T>::store(f(Elem<In>::load(in[i])...));
  });
}

}  // namespace opforge
