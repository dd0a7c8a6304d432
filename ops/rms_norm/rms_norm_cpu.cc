#include <algorithm>
#include <cmath>

#include "opforge/parallel.h"
#include "rms_norm.h"

namespace opforge::rms_norm {
namespace {

template <typename T>
void run(const Args& a, const T* x, const T* w, T* y, int64_t rows, int64_t cols, float eps) {
  if (rows == 0 || cols == 0) return;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / cols);
  parallel_for(a, rows, grain, [=](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      // Eight partial sums: the compiler may not reorder one float sum, but
      // vectorises eight independent ones.
      float part[8] = {};
      int64_t c = 0;
      for (; c + 8 <= cols; c += 8)
        for (int k = 0; k < 8; ++k) {
          const float v = Elem<T>::load(xr[c + k]);
          part[k] += v * v;
        }
      for (; c < cols; ++c) {
        const float v = Elem<T>::load(xr[c]);
        part[0] += v * v;
      }
      const float sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
      const float inv = 1.0f / std::sqrt(sum / static_cast<float>(cols) + eps);
      for (c = 0; c < cols; ++c) yr[c] = Elem<T>::store(Elem<T>::load(xr[c]) * inv * Elem<T>::load(w[c]));
    }
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
