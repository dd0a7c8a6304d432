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

void cpu(DType t, const void* x, const void* weight, void* y, int64_t rows, int64_t cols,
         float epsilon) {
  if (t == DType::kFloat32)
    run(static_cast<const float*>(x), static_cast<const float*>(weight), static_cast<float*>(y),
        rows, cols, epsilon);
  else if (t == DType::kFloat16)
    run(static_cast<const uint16_t*>(x), static_cast<const uint16_t*>(weight),
        static_cast<uint16_t*>(y), rows, cols, epsilon);
}

}  // namespace opforge::rms_norm
