#include "clip.h"
#include "ort_adapter.h"

namespace opforge::clip {
namespace {
using namespace opforge::ort_adapter;

struct ClipKernel {
  static constexpr const char* kOpType = "Clip";
  static constexpr size_t kInputs = 1;
  static bool supports(DType t) { return clip::supports(t); }

  ClipKernel(const OrtKernelInfo* info, bool cuda)
      : lo(float_attribute(info, kName, "lo", nullptr)),
        hi(float_attribute(info, kName, "hi", nullptr)),
        on_cuda(cuda) {}

  void Compute(OrtKernelContext* context) {
    Ort::KernelContext ctx(context);
    const Input x = input(ctx, 0, kName, "x", kDTypes);
    check(validate(x.dtype));
    void* y = output(ctx, x.shape);
    run_on_device(
        on_cuda, ctx, [&] { cpu(x.dtype, x.data, y, x.numel(), lo, hi); },
        [&](Stream s) { return cuda(x.dtype, x.data, y, x.numel(), lo, hi, s); });
  }

  float lo, hi;
  bool on_cuda;
};

}  // namespace

OPFORGE_ORT_OP(ClipKernel)

}  // namespace opforge::clip
