#include "clip.h"
#include "torch_adapter.h"

namespace opforge::clip {
namespace {
using namespace opforge::torch_adapter;

at::Tensor clip_meta(const at::Tensor& x, double lo, double hi) {
  check(validate(dtype_of(x, kName, "x", kDTypes)));
  return empty_like_contiguous(x);
}

at::Tensor clip_torch(const at::Tensor& x, double lo, double hi) {
  const DType t = dtype_of(x, kName, "x", kDTypes);
  check(validate(t));
  const at::Tensor xc = x.contiguous();
  at::Tensor y = empty_like_contiguous(xc);
  const auto l = static_cast<float>(lo), h = static_cast<float>(hi);
  run_on_device(
      xc, [&] { cpu(t, xc.data_ptr(), y.data_ptr(), xc.numel(), l, h); },
      [&](Stream s) { return cuda(t, xc.data_ptr(), y.data_ptr(), xc.numel(), l, h, s); });
  return y;
}

}  // namespace

OPFORGE_TORCH_OP("clip(Tensor x, float lo, float hi) -> Tensor", "clip", clip_torch, clip_meta)

}  // namespace opforge::clip
