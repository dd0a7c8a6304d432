#include "rms_norm.h"
#include "torch_adapter.h"

namespace opforge::rms_norm {
namespace {
using namespace opforge::torch_adapter;

// Works on symbolic sizes too, so the Meta kernel can share it.
void check_inputs(const at::Tensor& x, const at::Tensor& w, double epsilon) {
  const DType tx = dtype_of(x, kName, "x", kDTypes), tw = dtype_of(w, kName, "weight", kDTypes);
  check(validate_dtypes(tx, tw));
  check(validate_epsilon(static_cast<float>(epsilon)));
  check_same_device(x, w, kName);
  // Symbolic sizes (fake tensors) cannot go through Dims, hence torch's own checks.
  TORCH_CHECK(x.dim() >= 1, kName, ": x must have at least one dimension, got a scalar");
  TORCH_CHECK(w.dim() == 1, kName, ": weight must be 1-D, got shape ", w.sym_sizes());
  TORCH_CHECK(w.sym_size(0) == x.sym_size(-1), kName, ": weight has ", w.sym_size(0),
              " elements but the last axis of x has ", x.sym_size(-1), " (x shape ",
              x.sym_sizes(), ")");
}

at::Tensor rms_norm_meta(const at::Tensor& x, const at::Tensor& w, double epsilon) {
  check_inputs(x, w, epsilon);
  return empty_like_contiguous(x);
}

at::Tensor rms_norm_torch(const at::Tensor& x, const at::Tensor& w, double epsilon) {
  check_inputs(x, w, epsilon);
  const DType t = dtype_of(x, kName, "x", kDTypes);
  const at::Tensor xc = x.contiguous(), wc = w.contiguous();
  at::Tensor y = empty_like_contiguous(xc);
  const int64_t cols = xc.size(-1), rows = cols ? xc.numel() / cols : 0;
  const auto eps = static_cast<float>(epsilon);
  run_on_device(
      xc,
      [&] { cpu(t, xc.data_ptr(), wc.data_ptr(), y.data_ptr(), rows, cols, eps); },
      [&](Stream s) {
        return cuda(t, xc.data_ptr(), wc.data_ptr(), y.data_ptr(), rows, cols,
                    eps, s);
      });
  return y;
}

}  // namespace

OPFORGE_TORCH_OP("rms_norm(Tensor x, Tensor weight, float epsilon=1e-06) -> Tensor", "rms_norm",
                 rms_norm_torch, rms_norm_meta)

}  // namespace opforge::rms_norm
