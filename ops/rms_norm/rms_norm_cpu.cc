#include <cmath>

#include "opforge/half.h"
#include "opforge/parallel.h"
#include "rms_norm.h"

namespace opforge::rms_norm {
namespace {

inline float load(const float* p, int64_t i) { return p[i]; }
inline float load(const uint16_t* p, int64_t i) { return half_to_float(p[i]); }
inline void store(float* p, int64_t i, float v) { p[i] = v; }
inline void store(uint16_t* p, int64_t i, float v) { p[i] = float_to_half(v); }

template <typename T>
void run(const T* x, const T* w, T* y, int64_t rows, int64_t cols, float eps) {
  if (rows == 0 || cols == 0) return;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / cols);
  parallel_for(rows, grain, [=](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      float sum = 0.f;
      for (int64_t c = 0; c < cols; ++c) {
        const float v = load(xr, c);
        sum += v * v;
      }
      const float inv = 1.0f / std::sqrt(sum / static_cast<float>(cols) + eps);
      for (int64_t c = 0; c < cols; ++c) store(yr, c, load(xr, c) * inv * load(w, c));
    }
  });
}

}  // namespace

void Spec::cpu(const Args& a) {
  const float eps = a.attr(0);
  if (a.dtype == DType::kFloat32)
    run(a.in<float>(0), a.in<float>(1), a.out<float>(), a.rows(0), a.cols(0), eps);
  else if (a.dtype == DType::kFloat16)
    run(a.in<uint16_t>(0), a.in<uint16_t>(1), a.out<uint16_t>(), a.rows(0), a.cols(0), eps);
}

}  // namespace opforge::rms_norm
