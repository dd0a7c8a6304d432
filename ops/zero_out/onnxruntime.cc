#include "ort_adapter.h"
#include "zero_out.h"

namespace opforge::zero_out {
namespace {
using namespace opforge::ort_adapter;

struct ZeroOutKernel {
  static constexpr const char* kOpType = "ZeroOut";
  static constexpr size_t kInputs = 1;
  static bool supports(DType t) { return zero_out::supports(t); }

  ZeroOutKernel(const OrtKernelInfo*, bool cuda) : on_cuda(cuda) {}

  void Compute(OrtKernelContext* context) {
    Ort::KernelContext ctx(context);
    const Input x = input(ctx, 0, kName, "x", kDTypes);
    check(validate(x.dtype));
    void* y = output(ctx, x.shape);
    run_on_device(
        on_cuda, ctx, [&] { cpu(x.dtype, x.data, y, x.numel()); },
        [&](Stream s) { return cuda(x.dtype, x.data, y, x.numel(), s); });
  }

  bool on_cuda;
};

}  // namespace

OPFORGE_ORT_OP(ZeroOutKernel)

}  // namespace opforge::zero_out
