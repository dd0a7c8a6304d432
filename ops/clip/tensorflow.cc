#include "clip.h"
#include "tf_adapter.h"

namespace opforge::clip {
namespace {
using namespace opforge::tf_adapter;

REGISTER_OP(OPFORGE_TF_NAME("Clip"))
    .Input("x: T")
    .Output("y: T")
    .Attr("T: {float, half}")
    .Attr("lo: float")
    .Attr("hi: float")
    .SetShapeFn(::tensorflow::shape_inference::UnchangedShape);

struct Clip {
  explicit Clip(tf::OpKernelConstruction* c) {
    OP_REQUIRES_OK(c, c->GetAttr("lo", &lo));
    OP_REQUIRES_OK(c, c->GetAttr("hi", &hi));
  }
  void compute(tf::OpKernelContext* ctx, bool on_gpu) const {
    Input x;
    if (!input(ctx, 0, kName, "x", kDTypes, &x) || !check(ctx, validate(x.dtype))) return;
    void* y = output(ctx, 0);
    if (!y) return;
    run_on_device(
        ctx, on_gpu, [&] { cpu(x.dtype, x.data, y, x.numel(), lo, hi); },
        [&](Stream s) { return cuda(x.dtype, x.data, y, x.numel(), lo, hi, s); });
  }
  float lo = 0.f, hi = 0.f;
};

OPFORGE_TF_KERNELS("Clip", Clip)

}  // namespace
}  // namespace opforge::clip
