// Shared glue for the torch adapters: dtype mapping, error raising, devices.
// Uses <torch/library.h> + <ATen/ATen.h> only: torch's Python-extension
// header would tie the library to libpython, which Triton's libtorch process
// does not have.
#pragma once

#include <ATen/ATen.h>
#include <torch/library.h>

#include <string>

#include "opforge/checks.h"
#include "opforge/config.h"
#include "opforge/kernel_api.h"

#if OPFORGE_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

// Indirections so that OPFORGE_NS is expanded before torch pastes it.
#define OPFORGE_TORCH_LIBRARY(ns, m) TORCH_LIBRARY(ns, m)
#define OPFORGE_TORCH_LIBRARY_FRAGMENT(ns, m) TORCH_LIBRARY_FRAGMENT(ns, m)
#define OPFORGE_TORCH_LIBRARY_IMPL(ns, key, m) TORCH_LIBRARY_IMPL(ns, key, m)

#if OPFORGE_WITH_CUDA
#define OPFORGE_TORCH_IMPL_CUDA(name, fn) \
  OPFORGE_TORCH_LIBRARY_IMPL(OPFORGE_NS, CUDA, m) { m.impl(name, fn); }
#else
#define OPFORGE_TORCH_IMPL_CUDA(name, fn)
#endif

// Registers one schema-first op: the real kernel for CPU (and CUDA when
// built), and a shape-only implementation for Meta (fake tensors, opcheck).
#define OPFORGE_TORCH_OP(schema, name, fn, meta_fn)                            \
  OPFORGE_TORCH_LIBRARY_FRAGMENT(OPFORGE_NS, m) { m.def(schema); }             \
  OPFORGE_TORCH_LIBRARY_IMPL(OPFORGE_NS, CPU, m) { m.impl(name, fn); }         \
  OPFORGE_TORCH_LIBRARY_IMPL(OPFORGE_NS, Meta, m) { m.impl(name, meta_fn); }   \
  OPFORGE_TORCH_IMPL_CUDA(name, fn)

namespace opforge::torch_adapter {

inline bool to_dtype(at::ScalarType s, DType* out) {
  switch (s) {
    case at::kFloat: *out = DType::kFloat32; return true;
    case at::kHalf: *out = DType::kFloat16; return true;
    case at::kInt: *out = DType::kInt32; return true;
    case at::kLong: *out = DType::kInt64; return true;
    default: return false;
  }
}

// The tensor's opforge dtype; raises torch's TypeError when it has none.
inline DType dtype_of(const at::Tensor& t, const char* op, const char* what, const char* allowed) {
  DType d;
  TORCH_CHECK_TYPE(to_dtype(t.scalar_type(), &d),
                   unsupported_dtype(op, what, std::string(c10::toString(t.scalar_type())), allowed));
  return d;
}

inline void check(const std::string& error) { TORCH_CHECK(error.empty(), error); }

inline Dims dims(const at::Tensor& t) {
  return {t.sizes().data(), static_cast<int>(t.dim())};
}

inline at::Tensor empty_like_contiguous(const at::Tensor& t) {
  return at::empty_symint(t.sym_sizes(), t.options().memory_format(at::MemoryFormat::Contiguous));
}

inline void check_same_device(const at::Tensor& a, const at::Tensor& b, const char* op) {
  TORCH_CHECK(a.device() == b.device(), op, ": inputs must be on one device, got ", a.device(),
              " and ", b.device());
}

// Runs cpu() on CPU tensors and cuda(stream) on CUDA ones, on the stream
// torch is using for that device.
template <typename Cpu, typename Cuda>
void run_on_device(const at::Tensor& t, Cpu&& cpu, Cuda&& cuda) {
  if (t.is_cpu()) {
    cpu();
    return;
  }
#if OPFORGE_WITH_CUDA
  if (t.is_cuda()) {
    const c10::cuda::CUDAGuard guard(t.device());
    const char* err = cuda(c10::cuda::getCurrentCUDAStream(t.device().index()).stream());
    TORCH_CHECK(err == nullptr, "CUDA kernel launch failed: ", err);
    return;
  }
#endif
  (void)cuda;
  TORCH_CHECK(false, "this opforge build has no kernel for device ", t.device());
}

}  // namespace opforge::torch_adapter
