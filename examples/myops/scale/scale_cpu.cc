#include "scale.h"

namespace myops::scale {

void cpu(const float* x, float* y, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * alpha;
}

}  // namespace myops::scale
