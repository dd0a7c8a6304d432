#include "ort_adapter.h"
#include "rms_norm.h"

namespace opforge::rms_norm {
namespace {
using namespace opforge::ort_adapter;

struct RmsNormKernel {
  static constexpr const char* kOpType = "RmsNorm";
  static constexpr size_t kInputs = 2;
  static bool supports(DType t) { return rms_norm::supports(t); }

  RmsNormKernel(const OrtKernelInfo* info, bool cuda)
      : epsilon(float_attribute(info, kName, "epsilon", &kDefaultEpsilon)), on_cuda(cuda) {
    check(validate_epsilon(epsilon));
  }

  void Compute(OrtKernelContext* context) {
    Ort::KernelContext ctx(context);
    const Input x = input(ctx, 0, kName, "x", kDTypes);
    const Input w = input(ctx, 1, kName, "weight", kDTypes);
    check(validate(x.dtype, w.dtype, x.dims(), w.dims(), epsilon));
    void* y = output(ctx, x.shape);
    const int64_t cols = x.shape.back(), rows = cols ? x.numel() / cols : 0;
    run_on_device(
        on_cuda, ctx, [&] { cpu(x.dtype, x.data, w.data, y, rows, cols, epsilon); },
        [&](Stream s) { return cuda(x.dtype, x.data, w.data, y, rows, cols, epsilon, s); });
  }

  float epsilon;
  bool on_cuda;
};

}  // namespace

OPFORGE_ORT_OP(RmsNormKernel)

}  // namespace opforge::rms_norm
