#include "tf_adapter.h"
#include "zero_out.h"

namespace opforge::zero_out {
namespace {
using namespace opforge::tf_adapter;

REGISTER_OP(OPFORGE_TF_NAME("ZeroOut"))
    .Input("x: T")
    .Output("y: T")
    .Attr("T: {int32, int64}")
    .SetShapeFn(::tensorflow::shape_inference::UnchangedShape);

struct ZeroOut {
  explicit ZeroOut(tf::OpKernelConstruction*) {}
  void compute(tf::OpKernelContext* ctx, bool on_gpu) const {
    Input x;
    if (!input(ctx, 0, kName, "x", kDTypes, &x) || !check(ctx, validate(x.dtype))) return;
    void* y = output(ctx, 0);
    if (!y) return;
    run_on_device(
        ctx, on_gpu, [&] { cpu(x.dtype, x.data, y, x.numel()); },
        [&](Stream s) { return cuda(x.dtype, x.data, y, x.numel(), s); });
  }
};

OPFORGE_TF_KERNELS("ZeroOut", ZeroOut)

}  // namespace
}  // namespace opforge::zero_out
