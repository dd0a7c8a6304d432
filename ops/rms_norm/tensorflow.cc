#include "rms_norm.h"
#include "tf_adapter.h"

namespace opforge::rms_norm {
namespace {
using namespace opforge::tf_adapter;
namespace si = ::tensorflow::shape_inference;

REGISTER_OP(OPFORGE_TF_NAME("RmsNorm"))
    .Input("x: T")
    .Input("weight: T")
    .Output("y: T")
    .Attr("T: {float, half}")
    .Attr("epsilon: float = 1e-6")
    .SetShapeFn([](si::InferenceContext* c) {
      si::ShapeHandle x, w;
      si::DimensionHandle unused;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 1, &x));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &w));
      TF_RETURN_IF_ERROR(c->Merge(c->Dim(x, -1), c->Dim(w, 0), &unused));
      c->set_output(0, x);
      return ::tensorflow::OkStatus();
    });

struct RmsNorm {
  explicit RmsNorm(tf::OpKernelConstruction* c) {
    OP_REQUIRES_OK(c, c->GetAttr("epsilon", &epsilon));
    const std::string err = validate_epsilon(epsilon);
    OP_REQUIRES(c, err.empty(), tf::errors::InvalidArgument(err));
  }
  void compute(tf::OpKernelContext* ctx, bool on_gpu) const {
    Input x, w;
    if (!input(ctx, 0, kName, "x", kDTypes, &x) || !input(ctx, 1, kName, "weight", kDTypes, &w) ||
        !check(ctx, validate(x.dtype, w.dtype, x.dims(), w.dims(), epsilon)))
      return;
    void* y = output(ctx, 0);
    if (!y) return;
    const int64_t cols = x.shape.back(), rows = cols ? x.numel() / cols : 0;
    run_on_device(
        ctx, on_gpu, [&] { cpu(x.dtype, x.data, w.data, y, rows, cols, epsilon); },
        [&](Stream s) { return cuda(x.dtype, x.data, w.data, y, rows, cols, epsilon, s); });
  }
  float epsilon = kDefaultEpsilon;
};

OPFORGE_TF_KERNELS("RmsNorm", RmsNorm)

}  // namespace
}  // namespace opforge::rms_norm
