#include <algorithm>
#include <cmath>

#include "opforge/parallel.h"
#include "rms_norm.h"

namespace opforge::rms_norm {
namespace {

// 32 partial sums: the compiler may not reorder one float sum, but
// vectorises independent ones, and 32 keep several vector additions in flight.
struct SumOfSquares {
  static constexpr int kLanes = 32;
  float part[kLanes] = {};
  void add(const float* v, int64_t n) {  // n is a multiple of kLanes but at a row's end
    int64_t c = 0;
    for (; c + kLanes <= n; c += kLanes)
      for (int k = 0; k < kLanes; ++k) part[k] += v[c + k] * v[c + k];
    for (; c < n; ++c) part[0] += v[c] * v[c];
  }
  float total() const {
    float sum = 0.0f;
    for (float p : part) sum += p;
    return sum;
  }
};

template <typename T, typename Isa>
void normalise_row(Isa isa, const T* x, const T* w, T* y, int64_t cols, float eps) {
  SumOfSquares sum;
  if constexpr (std::is_same_v<T, float>) {
    sum.add(x, cols);
  } else {
    for (int64_t b = 0; b < cols; b += kHalfBlock) {
      float v[kHalfBlock];
      const int64_t n = std::min(kHalfBlock, cols - b);
      halves_to_floats(isa, x + b, v, n);
      sum.add(v, n);
    }
  }
  const float inv = 1.0f / std::sqrt(sum.total() / static_cast<float>(cols) + eps);
  for_blocks(isa, 0, cols, [=](float* out, const float* xv, const float* wv, int64_t n) {
    for (int64_t c = 0; c < n; ++c) out[c] = xv[c] * inv * wv[c];
  }, y, x, w);
}

template <typename T>
void run(const Args& a, const T* x, const T* w, T* y, int64_t rows, int64_t cols, float eps) {
  if (rows == 0 || cols == 0) return;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / cols);
  parallel_for_isa(a, rows, grain, [=](auto isa, int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) normalise_row(isa, x + r * cols, w, y + r * cols, cols, eps);
  });
}

}  // namespace

void Spec::cpu(const Args& a) {
  const float eps = a.attr(0);
  if (a.dtype == DType::kFloat32)
    run(a, a.in<float>(0), a.in<float>(1), a.out<float>(), a.rows(0), a.cols(0), eps);
  else if (a.dtype == DType::kFloat16)
    run(a, a.in<uint16_t>(0), a.in<uint16_t>(1), a.out<uint16_t>(), a.rows(0), a.cols(0), eps);
}

}  // namespace opforge::rms_norm
