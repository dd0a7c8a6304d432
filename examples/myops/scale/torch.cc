#include "scale.h"
#include "torch_adapter.h"

namespace myops::scale {
namespace {
using namespace opforge::torch_adapter;

at::Tensor scale_meta(const at::Tensor& x, double) {
  check(validate(dtype_of(x, kName, "x", kDTypes)));
  return empty_like_contiguous(x);
}

at::Tensor scale_torch(const at::Tensor& x, double alpha) {
  check(validate(dtype_of(x, kName, "x", kDTypes)));
  const at::Tensor xc = x.contiguous();
  at::Tensor y = empty_like_contiguous(xc);
  const auto* in = xc.data_ptr<float>();
  auto* out = y.data_ptr<float>();
  const auto a = static_cast<float>(alpha);
  run_on_device(xc, [&] { cpu(in, out, xc.numel(), a); },
                [&](opforge::Stream s) { return cuda(in, out, xc.numel(), a, s); });
  return y;
}

}  // namespace

OPFORGE_TORCH_OP("scale(Tensor x, float alpha) -> Tensor", "scale", scale_torch, scale_meta)

}  // namespace myops::scale
