#include "modulo.h"
#include "ort_adapter.h"

namespace opforge::modulo {
namespace {
using namespace opforge::ort_adapter;

struct ModuloKernel {
  static constexpr const char* kOpType = "Modulo";
  static constexpr size_t kInputs = 2;
  static bool supports(DType t) { return modulo::supports(t); }

  ModuloKernel(const OrtKernelInfo*, bool cuda) : on_cuda(cuda) {}

  void Compute(OrtKernelContext* context) {
    Ort::KernelContext ctx(context);
    const Input a = input(ctx, 0, kName, "a", kDTypes);
    const Input b = input(ctx, 1, kName, "b", kDTypes);
    check(validate(a.dtype, b.dtype, a.dims(), b.dims()));
    void* y = output(ctx, a.shape);
    run_on_device(
        on_cuda, ctx, [&] { cpu(a.dtype, a.data, b.data, y, a.numel()); },
        [&](Stream s) { return cuda(a.dtype, a.data, b.data, y, a.numel(), s); });
  }

  bool on_cuda;
};

}  // namespace

OPFORGE_ORT_OP(ModuloKernel)

}  // namespace opforge::modulo
