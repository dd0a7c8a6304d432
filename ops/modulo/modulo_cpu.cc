#include <cmath>

#include "modulo.h"
#include "opforge/parallel.h"

namespace opforge::modulo {
namespace {

// C's fmod, bit for bit. The C library computes it one element at a time
// with integer arithmetic; this is the same result eight at a time: where
// |x / y| < 2^22, the quotient computed in double truncates to the exact
// integer quotient q (its rounding error is far below the distance of a float
// quotient from the next integer), q * y has at most 46 significant bits, and
// x - q * y is the exact remainder. copysign gives a zero remainder the sign
// of x. Elsewhere (y zero or infinite, x not finite, NaN, larger quotients)
// the remainder comes out no smaller than |y| or NaN, and those elements go
// to the C library.
void fmod_floats(Baseline, const float* x, const float* y, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::fmod(x[i], y[i]);
}
#if OPFORGE_X86_V3
OPFORGE_TARGET_V3 inline __m128 exact_remainder(__m128 x, __m128 y) {
  const __m256d xd = _mm256_cvtps_pd(x), yd = _mm256_cvtps_pd(y), q = _mm256_div_pd(xd, yd);
  const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffff));
  const __m256d small = _mm256_cmp_pd(_mm256_and_pd(q, abs_mask), _mm256_set1_pd(0x1p22), _CMP_LT_OQ);
  const __m256d t = _mm256_round_pd(_mm256_and_pd(q, small), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  return _mm256_cvtpd_ps(_mm256_fnmadd_pd(t, yd, xd));
}
OPFORGE_TARGET_V3 void fmod_floats(X86V3, const float* x, const float* y, float* out, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i), yv = _mm256_loadu_ps(y + i);
    const __m256 r = _mm256_set_m128(exact_remainder(_mm256_extractf128_ps(xv, 1), _mm256_extractf128_ps(yv, 1)),
                                     exact_remainder(_mm256_castps256_ps128(xv), _mm256_castps256_ps128(yv)));
    const __m256 signed_r = _mm256_or_ps(_mm256_andnot_ps(sign, r), _mm256_and_ps(sign, xv));
    const int inexact = _mm256_movemask_ps(
        _mm256_cmp_ps(_mm256_andnot_ps(sign, signed_r), _mm256_andnot_ps(sign, yv), _CMP_NLT_UQ));
    if (inexact == 0) {
      _mm256_storeu_ps(out + i, signed_r);
      continue;
    }
    alignas(32) float xs[8], ys[8], rs[8];  // out may alias x or y
    _mm256_store_ps(xs, xv);
    _mm256_store_ps(ys, yv);
    _mm256_store_ps(rs, signed_r);
    for (int k = 0; k < 8; ++k) out[i + k] = (inexact >> k) & 1 ? std::fmod(xs[k], ys[k]) : rs[k];
  }
  fmod_floats(Baseline{}, x + i, y + i, out + i, n - i);
}
#endif

}  // namespace

void Spec::cpu(const Args& a) {
  if (a.dtype == DType::kFloat32) {
    const float *x = a.in<float>(0), *y = a.in<float>(1);
    float* out = a.out<float>();
    parallel_for_isa(a, a.numel, kParallelGrain,
                     [=](auto isa, int64_t b, int64_t e) { fmod_floats(isa, x + b, y + b, out + b, e - b); });
  } else {  // int32, as numpy.fmod: x % 0 == 0 and INT_MIN % -1 == 0, where C would trap
    const auto mod = [](int32_t x, int32_t y) { return (y == 0 || y == -1) ? 0 : x % y; };
    map_cpu(a, mod, a.out<int32_t>(), a.in<int32_t>(0), a.in<int32_t>(1));
  }
}

}  // namespace opforge::modulo
