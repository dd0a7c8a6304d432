#include <cstring>

#include "opforge/parallel.h"
#include "zero_out.h"

namespace opforge::zero_out {
namespace {

template <typename T>
void run(const T* x, T* y, int64_t n) {
  if (n == 0) return;
  const T first = x[0];  // read before writing: x and y may alias
  parallel_for(n, kParallelGrain * 4, [=](int64_t b, int64_t e) {
    std::memset(y + b, 0, static_cast<size_t>(e - b) * sizeof(T));
  });
  y[0] = first;
}

}  // namespace

void cpu(DType t, const void* x, void* y, int64_t n) {
  if (t == DType::kInt32)
    run(static_cast<const int32_t*>(x), static_cast<int32_t*>(y), n);
  else if (t == DType::kInt64)
    run(static_cast<const int64_t*>(x), static_cast<int64_t*>(y), n);
}

}  // namespace opforge::zero_out
