// Parallel loops for CPU kernels, on the threads the framework lends through
// Args (kernel_api.h): kernels include no framework header and never start
// threads of their own, and small tensors run inline because handing out work
// costs more than they do.
//
// Each chunk runs in the better of two compiled copies of its loop: baseline
// x86-64 (SSE2), so that the libraries load on any x86-64, or x86-64-v3
// (AVX2, FMA, F16C) where the CPU has it, chosen at run time: twice the
// vector width, and float16 converted in hardware.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "opforge/half.h"
#include "opforge/kernel_api.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define OPFORGE_X86_V3 1
#define OPFORGE_TARGET_V3 __attribute__((target("avx2,fma,f16c")))
#else
#define OPFORGE_X86_V3 0
#endif

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

// The instruction set a loop is compiled for, passed to it as a tag.
struct Baseline {};
struct X86V3 {};

inline bool cpu_has_x86_v3() {
#if OPFORGE_X86_V3
  static const bool has = [] {
    // OPFORGE_CPU=baseline: the baseline copy on any CPU (tests compare both).
    const char* choice = std::getenv("OPFORGE_CPU");
    if (choice != nullptr && std::strcmp(choice, "baseline") == 0) return false;
    __builtin_cpu_init();
    unsigned eax, ebx, ecx, edx;  // F16C from CPUID: GCC 10's __builtin_cpu_supports does not know it
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
    return f16c && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
#else
  return false;
#endif
}

#if OPFORGE_X86_V3
// flatten inlines the whole body, so all of it is compiled for v3.
template <typename Body>
OPFORGE_TARGET_V3 __attribute__((flatten)) void run_x86_v3(Body& body) {
  body(X86V3{});
}
#endif

// Calls fn(isa, begin, end) over [0, n) in parallel chunks, each chunk in the
// best compiled copy this CPU can run.
template <typename Fn>
void parallel_for_isa(const Args& a, int64_t n, int64_t grain, Fn fn) {
  parallel_for(a, n, grain, [&](int64_t b, int64_t e) {
    auto chunk = [&](auto isa) { fn(isa, b, e); };
#if OPFORGE_X86_V3
    if (cpu_has_x86_v3()) return run_x86_v3(chunk);
#endif
    chunk(Baseline{});
  });
}

// float16 <-> float over n elements: F16C where the copy has it.
inline void halves_to_floats(Baseline, const uint16_t* h, float* f, int64_t n) {
  for (int64_t i = 0; i < n; ++i) f[i] = half_to_float(h[i]);
}
inline void floats_to_halves(Baseline, const float* f, uint16_t* h, int64_t n) {
  for (int64_t i = 0; i < n; ++i) h[i] = float_to_half(f[i]);
}
#if OPFORGE_X86_V3
OPFORGE_TARGET_V3 inline void halves_to_floats(X86V3, const uint16_t* h, float* f, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  for (; i < n; ++i) f[i] = _cvtsh_ss(h[i]);
}
OPFORGE_TARGET_V3 inline void floats_to_halves(X86V3, const float* f, uint16_t* h, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(f + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) h[i] = _cvtss_sh(f[i], _MM_FROUND_TO_NEAREST_INT);
}
#endif

// Elements as an op's arithmetic sees them: float16 (stored as uint16_t) as float.
template <typename T>
using Math = std::conditional_t<std::is_same_v<T, uint16_t>, float, T>;

// Calls fn(y, in..., count) on [begin, end) with the elements as the
// arithmetic sees them (Math<T>): float16 goes in blocks, converted to float
// and back around fn, so that fn is a plain float loop, which vectorises.
constexpr int64_t kHalfBlock = 256;
template <typename Isa, typename Fn, typename... In, std::size_t... I>
void half_blocks(Isa isa, int64_t begin, int64_t end, Fn& fn, uint16_t* y, std::index_sequence<I...>,
                 const In*... in) {
  float out[kHalfBlock], arg[sizeof...(In)][kHalfBlock];
  for (int64_t b = begin; b < end; b += kHalfBlock) {
    const int64_t n = end - b < kHalfBlock ? end - b : kHalfBlock;
    (halves_to_floats(isa, in + b, arg[I], n), ...);
    fn(out, static_cast<const float*>(arg[I])..., n);
    floats_to_halves(isa, out, y + b, n);
  }
}
template <typename T, typename Isa, typename Fn, typename... In>
void for_blocks(Isa isa, int64_t begin, int64_t end, Fn&& fn, T* y, const In*... in) {
  if constexpr (std::is_same_v<T, uint16_t>) {
    static_assert((std::is_same_v<In, uint16_t> && ...), "float16 ops take float16 inputs");
    half_blocks(isa, begin, end, fn, y, std::index_sequence_for<In...>{}, in...);
  } else {
    fn(y + begin, (in + begin)..., end - begin);
  }
}

// y[i] = f(in[i]...) for every element of the call: the CPU twin of
// cuda_elementwise.cuh's map1 / map2.
template <typename T, typename F, typename... In>
void map_cpu(const Args& a, F f, T* y, const In*... in) {
  parallel_for_isa(a, a.numel, kParallelGrain, [=](auto isa, int64_t begin, int64_t end) {
    for_blocks(isa, begin, end, [&](Math<T>* out, const Math<In>*... arg, int64_t n) {
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<Math<T>>(f(arg[i]...));
    }, y, in...);
  });
}

}  // namespace opforge
