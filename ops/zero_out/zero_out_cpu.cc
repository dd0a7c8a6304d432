#include "opforge/parallel.h"
#include "zero_out.h"

namespace opforge::zero_out {
namespace {

template <typename T>
void run(const Args& a, const T* x, T* y) {
  if (a.numel == 0) return;
  const T first = x[0];  // read before writing: x and y may alias
  map_cpu(a, [](T) { return T{0}; }, y, x);
  y[0] = first;
}

}  // namespace

void Spec::cpu(const Args& a) {
  if (a.dtype == DType::kInt32)
    run(a, a.in<int32_t>(0), a.out<int32_t>());
  else if (a.dtype == DType::kInt64)
    run(a, a.in<int64_t>(0), a.out<int64_t>());
}

}  // namespace opforge::zero_out
