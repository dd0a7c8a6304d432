#include "scale.h"
#include "tf_adapter.h"

namespace myops::scale {
namespace {
using namespace opforge::tf_adapter;
using opforge::Stream;

REGISTER_OP(OPFORGE_TF_NAME("Scale"))
    .Input("x: float")
    .Output("y: float")
    .Attr("alpha: float")
    .SetShapeFn(::tensorflow::shape_inference::UnchangedShape);

struct Scale {
  explicit Scale(tf::OpKernelConstruction* c) { OP_REQUIRES_OK(c, c->GetAttr("alpha", &alpha)); }
  void compute(tf::OpKernelContext* ctx, bool on_gpu) const {
    Input x;
    if (!input(ctx, 0, kName, "x", kDTypes, &x) || !check(ctx, validate(x.dtype))) return;
    auto* y = static_cast<float*>(output(ctx, 0));
    if (!y) return;
    const auto* in = static_cast<const float*>(x.data);
    run_on_device(ctx, on_gpu, [&] { cpu(in, y, x.numel(), alpha); },
                  [&](Stream s) { return cuda(in, y, x.numel(), alpha, s); });
  }
  float alpha = 1.f;
};

OPFORGE_TF_KERNELS("Scale", Scale)

}  // namespace
}  // namespace myops::scale
