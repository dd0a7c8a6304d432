// The generic TensorFlow adapter: from an op spec, REGISTER_OP's op
// (<Prefix><Camel>, type attr T over the spec's dtypes, its attributes, a
// shape function from its relations) and one kernel each for CPU and (when
// built) GPU.
#pragma once

#define EIGEN_USE_THREADS
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

#include <string>
#include <vector>

#include "opforge/config.h"
#include "opforge/op_spec.h"

namespace opforge::tf_adapter {

namespace tf = ::tensorflow;
namespace si = ::tensorflow::shape_inference;

inline bool to_dtype(tf::DataType t, DType* out) {
  switch (t) {
    case tf::DT_FLOAT: *out = DType::kFloat32; return true;
    case tf::DT_HALF: *out = DType::kFloat16; return true;
    case tf::DT_INT32: *out = DType::kInt32; return true;
    case tf::DT_INT64: *out = DType::kInt64; return true;
    default: return false;
  }
}

// The CPU device's worker threads (TensorFlow's intra-op pool). Waking them
// costs tens of microseconds, so work below four grains stays inline.
inline void parallel(void* pool, int64_t n, int64_t grain, void (*body)(void*, int64_t, int64_t), void* ctx) {
  if (n < 4 * grain) return body(ctx, 0, n);
  tf::thread::ThreadPool* workers = static_cast<const tf::DeviceBase::CpuWorkerThreads*>(pool)->workers;
  const int64_t threads = std::max(1, workers->NumThreads());
  const int64_t block = std::max(grain, (n + threads - 1) / threads);
  workers->TransformRangeConcurrently(block, n, [&](int64_t begin, int64_t end) { body(ctx, begin, end); });
}

template <class Spec>
constexpr auto kOpName = camel_name<str_len(OPFORGE_PREFIX) + str_len(Spec::kName)>(OPFORGE_PREFIX, Spec::kName);

template <class Spec>
tf::Status shape_fn(si::InferenceContext* c) {
  si::ShapeHandle s[Spec::kInputs.size()];
  for (std::size_t i = 0; i < Spec::kInputs.size(); ++i) s[i] = c->input(i);
  for (const Relation& r : Spec::kRelations) {
    if (r.rule == Rule::kSameShape) {
      TF_RETURN_IF_ERROR(c->Merge(s[r.a], s[r.b], &s[r.a]));
      s[r.b] = s[r.a];
    } else {
      si::DimensionHandle unused;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(s[r.b], 1, &s[r.b]));
      TF_RETURN_IF_ERROR(c->WithRank(s[r.a], 1, &s[r.a]));
      TF_RETURN_IF_ERROR(c->Merge(c->Dim(s[r.b], -1), c->Dim(s[r.a], 0), &unused));
    }
  }
  c->set_output(0, s[Spec::kOutput.like]);
  return tf::Status();
}

template <class Spec>
tf::Status op_def(tf::OpRegistrationData* data) {
  tf::OpDefBuilder b(kOpName<Spec>.data());
  b.Attr("T: {" + Spec::kDTypes.names() + "}");  // TensorFlow's own names: float32, float16, int32, int64
  for (const char* name : Spec::kInputs) b.Input(std::string(name) + ": T");
  b.Output(std::string(Spec::kOutput.name) + ": T");
  for (const Attr& a : Spec::kAttrs)
    b.Attr(std::string(a.name) + (a.type == AttrType::kFloat ? ": float" : ": int") +
           (a.required() ? "" : " = " + number(a.default_value)));
  b.SetShapeFn(shape_fn<Spec>);
  return b.Finalize(data);
}

// Errors go through the context (TensorFlow is built without exceptions:
// an error status is the only way to fail one call).
template <class Spec, bool kGpu>
class Kernel : public tf::OpKernel {
 public:
  explicit Kernel(tf::OpKernelConstruction* c) : tf::OpKernel(c) {
    for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) {
      const Attr& a = Spec::kAttrs[i];
      float f = 0.f;
      int64_t k = 0;
      OP_REQUIRES_OK(c, a.type == AttrType::kFloat ? c->GetAttr(a.name, &f) : c->GetAttr(a.name, &k));
      attrs_[i] = a.type == AttrType::kFloat ? f : static_cast<double>(k);
    }
    const std::string err = check_attrs<Spec>(attrs_);
    OP_REQUIRES(c, err.empty(), tf::errors::InvalidArgument(err));
  }

  void Compute(tf::OpKernelContext* ctx) override {
    constexpr std::size_t n = Spec::kInputs.size();
    Args args{};
    DType types[n];
    std::vector<int64_t> sizes[n];
    for (std::size_t i = 0; i < n; ++i) {
      const tf::Tensor& t = ctx->input(i);
      OP_REQUIRES(ctx, to_dtype(t.dtype(), &types[i]),
                  tf::errors::InvalidArgument(unsupported_dtype(Spec::kName, Spec::kInputs[i],
                                                                tf::DataTypeString(t.dtype()), Spec::kDTypes.names())));
      const auto dims = t.shape().dim_sizes();
      sizes[i].assign(dims.begin(), dims.end());
      args.dims[i] = {sizes[i].data(), static_cast<int>(sizes[i].size())};
      args.inputs[i] = t.tensor_data().data();
    }
    std::string err = check_dtypes<Spec>(types);
    if (err.empty()) err = check_shapes<Spec>(args.dims);
    OP_REQUIRES(ctx, err.empty(), tf::errors::InvalidArgument(err));
    tf::Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, ctx->input(Spec::kOutput.like).shape(), &out));
    args.dtype = types[0];
    args.output = const_cast<char*>(out->tensor_data().data());
    args.numel = out->NumElements();
    std::copy(attrs_, attrs_ + Spec::kAttrs.size(), args.attrs);
    if (!kGpu) {
      if (const auto* workers = ctx->device()->tensorflow_cpu_worker_threads(); workers && workers->workers) {
        args.parallel = &parallel;
        args.pool = const_cast<tf::DeviceBase::CpuWorkerThreads*>(workers);
      }
      return Spec::cpu(args);
    }
#if OPFORGE_WITH_CUDA
    if constexpr (has_cuda<Spec>) {
      const char* cuda_err = Spec::cuda(args, reinterpret_cast<Stream>(ctx->eigen_gpu_device().stream()));
      OP_REQUIRES(ctx, cuda_err == nullptr,
                  tf::errors::Internal(Spec::kName, ": CUDA kernel launch failed: ", cuda_err ? cuda_err : ""));
    }
#endif
  }

 private:
  double attrs_[kMaxAttrs] = {};
};

template <class Spec, bool kGpu>
tf::OpKernel* create(tf::OpKernelConstruction* c) {
  return new Kernel<Spec, kGpu>(c);
}

template <class Spec>
bool register_op() {
  tf::OpRegistry::Global()->Register(op_def<Spec>);
  const char* name = kOpName<Spec>.data();
  // The dtype constraint lives in the op: one kernel per device suffices.
  static tf::kernel_factory::OpKernelRegistrar cpu(
      tf::register_kernel::Name(name).Device(tf::DEVICE_CPU).Build(), name, &create<Spec, false>);
#if OPFORGE_WITH_CUDA
  if constexpr (has_cuda<Spec>) {
    static tf::kernel_factory::OpKernelRegistrar gpu(
        tf::register_kernel::Name(name).Device(tf::DEVICE_GPU).Build(), name, &create<Spec, true>);
  }
#endif
  return true;
}

}  // namespace opforge::tf_adapter

#undef OPFORGE_REGISTER_OP
#define OPFORGE_REGISTER_OP(Spec) ::opforge::tf_adapter::register_op<Spec>()
