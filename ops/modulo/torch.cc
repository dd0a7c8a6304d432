#include "modulo.h"
#include "torch_adapter.h"

namespace opforge::modulo {
namespace {
using namespace opforge::torch_adapter;

void check_inputs(const at::Tensor& a, const at::Tensor& b, DType ta, DType tb) {
  check(validate_dtypes(ta, tb));
  check_same_device(a, b, kName);
  // Symbolic sizes (fake tensors) cannot go through Dims, hence torch's own compare.
  TORCH_CHECK(a.sym_sizes() == b.sym_sizes(), kName, ": a and b must have the same shape, got ",
              a.sym_sizes(), " and ", b.sym_sizes());
}

at::Tensor modulo_meta(const at::Tensor& a, const at::Tensor& b) {
  check_inputs(a, b, dtype_of(a, kName, "a", kDTypes), dtype_of(b, kName, "b", kDTypes));
  return empty_like_contiguous(a);
}

at::Tensor modulo_torch(const at::Tensor& a, const at::Tensor& b) {
  const DType t = dtype_of(a, kName, "a", kDTypes);
  check_inputs(a, b, t, dtype_of(b, kName, "b", kDTypes));
  const at::Tensor ac = a.contiguous(), bc = b.contiguous();
  at::Tensor y = empty_like_contiguous(ac);
  run_on_device(
      ac,
      [&] { cpu(t, ac.data_ptr(), bc.data_ptr(), y.data_ptr(), ac.numel()); },
      [&](Stream s) {
        return cuda(t, ac.data_ptr(), bc.data_ptr(), y.data_ptr(), ac.numel(), s);
      });
  return y;
}

}  // namespace

OPFORGE_TORCH_OP("modulo(Tensor a, Tensor b) -> Tensor", "modulo", modulo_torch, modulo_meta)

}  // namespace opforge::modulo
