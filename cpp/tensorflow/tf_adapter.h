// Shared glue for the TensorFlow adapters: dtype mapping, errors, devices.
#pragma once

#define EIGEN_USE_THREADS
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

#include <string>
#include <vector>

#include "opforge/checks.h"
#include "opforge/config.h"
#include "opforge/kernel_api.h"

#if OPFORGE_WITH_CUDA
#include "tensorflow/core/framework/register_types.h"
#endif

namespace opforge::tf_adapter {

namespace tf = ::tensorflow;

inline bool to_dtype(tf::DataType t, DType* out) {
  switch (t) {
    case tf::DT_FLOAT: *out = DType::kFloat32; return true;
    case tf::DT_HALF: *out = DType::kFloat16; return true;
    case tf::DT_INT32: *out = DType::kInt32; return true;
    case tf::DT_INT64: *out = DType::kInt64; return true;
    default: return false;
  }
}

struct Input {
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  const tf::Tensor* tensor;
  Dims dims() const { return {shape.data(), static_cast<int>(shape.size())}; }
  int64_t numel() const { return tensor->NumElements(); }
};

// Reads input i; an unsupported dtype is reported through the context
// (ok() turns false) rather than thrown: TensorFlow is built without
// exceptions, so an error status is the only way to fail one call.
inline bool input(tf::OpKernelContext* ctx, int i, const char* op, const char* what,
                  const char* allowed, Input* in) {
  const tf::Tensor& t = ctx->input(i);
  if (!to_dtype(t.dtype(), &in->dtype)) {
    ctx->CtxFailure(__FILE__, __LINE__, tf::errors::InvalidArgument(unsupported_dtype(
                                            op, what, tf::DataTypeString(t.dtype()), allowed)));
    return false;
  }
  const auto sizes = t.shape().dim_sizes();  // a temporary: copy from one object
  in->shape.assign(sizes.begin(), sizes.end());
  in->data = t.tensor_data().data();
  in->tensor = &t;
  return true;
}

inline bool check(tf::OpKernelContext* ctx, const std::string& error) {
  if (error.empty()) return true;
  ctx->CtxFailure(__FILE__, __LINE__, tf::errors::InvalidArgument(error));
  return false;
}

// Allocates output 0 with the shape of input `like`; nullptr on failure.
inline void* output(tf::OpKernelContext* ctx, int like) {
  tf::Tensor* out = nullptr;
  const auto s = ctx->allocate_output(0, ctx->input(like).shape(), &out);
  if (!s.ok()) {
    ctx->CtxFailure(__FILE__, __LINE__, s);
    return nullptr;
  }
  return const_cast<char*>(out->tensor_data().data());
}

// Runs cpu() or cuda(stream) by the device the kernel was registered for,
// on the stream TensorFlow gives this op.
template <typename Cpu, typename Cuda>
void run_on_device(tf::OpKernelContext* ctx, bool on_gpu, Cpu&& cpu, Cuda&& cuda) {
  if (!on_gpu) {
    cpu();
    return;
  }
#if OPFORGE_WITH_CUDA
  const char* err = cuda(reinterpret_cast<Stream>(ctx->eigen_gpu_device().stream()));
  if (err) ctx->CtxFailure(__FILE__, __LINE__, tf::errors::Internal("CUDA kernel launch failed: ", err));
#else
  (void)cuda;
  ctx->CtxFailure(__FILE__, __LINE__, tf::errors::Unimplemented("this opforge build has no CUDA kernels"));
#endif
}

// An OpKernel whose Compute forwards to Body::compute(ctx, on_gpu, attrs).
template <typename Body>
class Kernel : public tf::OpKernel {
 public:
  explicit Kernel(tf::OpKernelConstruction* c, bool on_gpu) : tf::OpKernel(c), body_(c), on_gpu_(on_gpu) {}
  void Compute(tf::OpKernelContext* ctx) override { body_.compute(ctx, on_gpu_); }

 private:
  Body body_;
  bool on_gpu_;
};

template <typename Body>
struct CpuKernel : Kernel<Body> {
  explicit CpuKernel(tf::OpKernelConstruction* c) : Kernel<Body>(c, false) {}
};
template <typename Body>
struct GpuKernel : Kernel<Body> {
  explicit GpuKernel(tf::OpKernelConstruction* c) : Kernel<Body>(c, true) {}
};

// The op's name: OPFORGE_PREFIX + suffix ("Opforge" + "Clip").
#define OPFORGE_TF_NAME(suffix) OPFORGE_PREFIX suffix

}  // namespace opforge::tf_adapter

// Registers Body's kernel for CPU (and GPU when built with CUDA); the dtype
// constraint lives in REGISTER_OP, so one registration per device suffices.
#if OPFORGE_WITH_CUDA
#define OPFORGE_TF_KERNELS(suffix, Body)                                                    \
  REGISTER_KERNEL_BUILDER(Name(OPFORGE_TF_NAME(suffix)).Device(::tensorflow::DEVICE_CPU), \
                          ::opforge::tf_adapter::CpuKernel<Body>);                         \
  REGISTER_KERNEL_BUILDER(Name(OPFORGE_TF_NAME(suffix)).Device(::tensorflow::DEVICE_GPU), \
                          ::opforge::tf_adapter::GpuKernel<Body>);
#else
#define OPFORGE_TF_KERNELS(suffix, Body)                                                    \
  REGISTER_KERNEL_BUILDER(Name(OPFORGE_TF_NAME(suffix)).Device(::tensorflow::DEVICE_CPU), \
                          ::opforge::tf_adapter::CpuKernel<Body>);
#endif
