#include "modulo.h"
#include "tf_adapter.h"

namespace opforge::modulo {
namespace {
using namespace opforge::tf_adapter;
namespace si = ::tensorflow::shape_inference;

REGISTER_OP(OPFORGE_TF_NAME("Modulo"))
    .Input("a: T")
    .Input("b: T")
    .Output("y: T")
    .Attr("T: {float, int32}")
    .SetShapeFn([](si::InferenceContext* c) {
      si::ShapeHandle out;
      TF_RETURN_IF_ERROR(c->Merge(c->input(0), c->input(1), &out));
      c->set_output(0, out);
      return ::tensorflow::OkStatus();
    });

struct Modulo {
  explicit Modulo(tf::OpKernelConstruction*) {}
  void compute(tf::OpKernelContext* ctx, bool on_gpu) const {
    Input a, b;
    if (!input(ctx, 0, kName, "a", kDTypes, &a) || !input(ctx, 1, kName, "b", kDTypes, &b) ||
        !check(ctx, validate(a.dtype, b.dtype, a.dims(), b.dims())))
      return;
    void* y = output(ctx, 0);
    if (!y) return;
    run_on_device(
        ctx, on_gpu, [&] { cpu(a.dtype, a.data, b.data, y, a.numel()); },
        [&](Stream s) { return cuda(a.dtype, a.data, b.data, y, a.numel(), s); });
  }
};

OPFORGE_TF_KERNELS("Modulo", Modulo)

}  // namespace
}  // namespace opforge::modulo
