#include "torch_adapter.h"
#include "zero_out.h"

namespace opforge::zero_out {
namespace {
using namespace opforge::torch_adapter;

at::Tensor zero_out_meta(const at::Tensor& x) {
  check(validate(dtype_of(x, kName, "x", kDTypes)));
  return empty_like_contiguous(x);
}

at::Tensor zero_out_torch(const at::Tensor& x) {
  const DType t = dtype_of(x, kName, "x", kDTypes);
  check(validate(t));
  const at::Tensor xc = x.contiguous();
  at::Tensor y = empty_like_contiguous(xc);
  run_on_device(
      xc, [&] { cpu(t, xc.data_ptr(), y.data_ptr(), xc.numel()); },
      [&](Stream s) { return cuda(t, xc.data_ptr(), y.data_ptr(), xc.numel(), s); });
  return y;
}

}  // namespace

OPFORGE_TORCH_OP("zero_out(Tensor x) -> Tensor", "zero_out", zero_out_torch, zero_out_meta)

}  // namespace opforge::zero_out
