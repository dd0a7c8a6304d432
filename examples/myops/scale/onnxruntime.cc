#include "ort_adapter.h"
#include "scale.h"

namespace myops::scale {
namespace {
using namespace opforge::ort_adapter;
using opforge::Stream;

struct ScaleKernel {
  static constexpr const char* kOpType = "Scale";
  static constexpr size_t kInputs = 1;
  static bool supports(DType t) { return scale::supports(t); }

  ScaleKernel(const OrtKernelInfo* info, bool cuda)
      : alpha(float_attribute(info, kName, "alpha", nullptr)), on_cuda(cuda) {}

  void Compute(OrtKernelContext* context) {
    Ort::KernelContext ctx(context);
    const Input x = input(ctx, 0, kName, "x", kDTypes);
    check(validate(x.dtype));
    auto* y = static_cast<float*>(output(ctx, x.shape));
    const auto* in = static_cast<const float*>(x.data);
    run_on_device(on_cuda, ctx, [&] { cpu(in, y, x.numel(), alpha); },
                  [&](Stream s) { return cuda(in, y, x.numel(), alpha, s); });
  }

  float alpha;
  bool on_cuda;
};

}  // namespace

OPFORGE_ORT_OP(ScaleKernel)

}  // namespace myops::scale
