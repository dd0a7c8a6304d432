// The generic ONNX Runtime adapter: from an op spec, one custom op <Camel>
// per (dtype, execution provider), registered in domain <ns> by
// RegisterCustomOps (register.cc).
//
// Built against headers only (no link to libonnxruntime): the API table is
// handed to RegisterCustomOps at load time, hence ORT_API_MANUAL_INIT. Only
// functions of API version <= 13 are used unconditionally, so that the same
// binary runs with whatever (older) API version RegisterCustomOps obtains;
// KernelContext_ParallelFor (17) only where api_version() says it is there.
#pragma once

#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>
#undef ORT_API_MANUAL_INIT

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "opforge/config.h"
#include "opforge/op_spec.h"

namespace opforge::ort_adapter {

// Every op in the library, filled by static registrars before
// RegisterCustomOps runs; stamped there with the negotiated API version.
std::vector<OrtCustomOp*>& registry();
// The API version RegisterCustomOps negotiated (0 before).
int api_version();

// ONNX Runtime's intra-op threads, through KernelContext_ParallelFor (API 17,
// ONNX Runtime 1.17); older runtimes get no `parallel` and run inline.
inline void parallel(void* context, int64_t n, int64_t grain, void (*body)(void*, int64_t, int64_t), void* ctx) {
#if ORT_API_VERSION >= 17
  struct Job {
    void (*body)(void*, int64_t, int64_t);
    void* ctx;
    int64_t n, grain;
  } job{body, ctx, n, grain};
  const auto chunk = [](void* j, size_t i) {
    const Job& job = *static_cast<Job*>(j);
    const int64_t begin = static_cast<int64_t>(i) * job.grain;
    job.body(job.ctx, begin, std::min(job.n, begin + job.grain));
  };
  OrtStatus* status = Ort::GetApi().KernelContext_ParallelFor(static_cast<const OrtKernelContext*>(context), chunk,
                                                               static_cast<size_t>((n + grain - 1) / grain), 0, &job);
  if (status == nullptr) return;
  Ort::GetApi().ReleaseStatus(status);
#endif
  body(ctx, 0, n);  // refused before running anything (a bad context): inline
}

inline bool to_dtype(ONNXTensorElementDataType t, DType* out) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: *out = DType::kFloat32; return true;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: *out = DType::kFloat16; return true;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: *out = DType::kInt32; return true;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: *out = DType::kInt64; return true;
    default: return false;
  }
}

// ONNX Runtime turns an exception thrown from CreateKernel or Compute into a
// failed session or Run() with this message; the process keeps going.
inline void check(const std::string& error) {
  if (!error.empty()) throw Ort::Exception(std::string(error), ORT_INVALID_ARGUMENT);
}

template <class Spec>
struct Kernel {
  Kernel(const OrtKernelInfo* info, bool cuda) : on_cuda(cuda) {
    const OrtApi& api = Ort::GetApi();
    for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) {
      const Attr& a = Spec::kAttrs[i];
      const bool is_float = a.type == AttrType::kFloat;
      float f = 0.f;
      int64_t k = 0;
      OrtStatus* status = is_float ? api.KernelInfoGetAttribute_float(info, a.name, &f)
                                   : api.KernelInfoGetAttribute_int64(info, a.name, &k);
      attrs[i] = is_float ? f : static_cast<double>(k);
      if (status == nullptr) continue;
      // Absent, or given with another type (epsilon=0 in onnx.helper is an
      // int; "9" a string): both are ORT_FAIL, told apart by ONNX Runtime's
      // message, the same since its first release.
      const bool absent = std::strncmp(api.GetErrorMessage(status), "No attribute with name", 22) == 0;
      api.ReleaseStatus(status);
      if (!absent) {
        status = is_float ? api.KernelInfoGetAttribute_int64(info, a.name, &k)
                          : api.KernelInfoGetAttribute_float(info, a.name, &f);
        const char* given = status == nullptr ? (is_float ? "an int" : "a float") : "another type";
        if (status != nullptr) api.ReleaseStatus(status);
        check(std::string(Spec::kName) + ": attribute '" + a.name + "' must be " + (is_float ? "a float" : "an int") +
              ", got " + given);
      }
      if (a.required())
        check(std::string(Spec::kName) + ": required " + (is_float ? "float" : "int") + " attribute '" + a.name +
              "' is missing");
      attrs[i] = a.default_value;
    }
    check(check_attrs<Spec>(attrs));
  }

  void Compute(OrtKernelContext* context) {
    constexpr std::size_t n = Spec::kInputs.size();
    Ort::KernelContext ctx(context);
    Args args{};
    DType types[n];
    std::vector<int64_t> shapes[n];
    for (std::size_t i = 0; i < n; ++i) {
      const Ort::ConstValue v = ctx.GetInput(i);
      const auto info = v.GetTensorTypeAndShapeInfo();
      if (!to_dtype(info.GetElementType(), &types[i]))
        check(unsupported_dtype(Spec::kName, Spec::kInputs[i], "ONNX type " + std::to_string(info.GetElementType()),
                                Spec::kDTypes.names()));
      shapes[i] = info.GetShape();
      args.dims[i] = {shapes[i].data(), static_cast<int>(shapes[i].size())};
      args.inputs[i] = v.GetTensorRawData();
    }
    check(check_dtypes<Spec>(types));
    check(check_shapes<Spec>(args.dims));
    args.dtype = types[0];
    args.output = ctx.GetOutput(0, shapes[Spec::kOutput.like]).GetTensorMutableRawData();
    args.numel = args.dims[Spec::kOutput.like].numel();
    std::copy(attrs, attrs + Spec::kAttrs.size(), args.attrs);
    if (!on_cuda) {
      args.parallel = cpu_threads;
      args.pool = context;
      return Spec::cpu(args);
    }
#if OPFORGE_WITH_CUDA
    if constexpr (has_cuda<Spec>) {
      if (const char* err = Spec::cuda(args, static_cast<Stream>(ctx.GetGPUComputeStream())))
        throw Ort::Exception(std::string(Spec::kName) + ": CUDA kernel launch failed: " + err, ORT_FAIL);
    }
#endif
  }

  double attrs[kMaxAttrs] = {};
  bool on_cuda;
  // Kernels are created after RegisterCustomOps negotiated the API version.
  ParallelFor cpu_threads = api_version() >= 17 ? &parallel : nullptr;
};

// Typed variants rather than "undefined" types: ONNX Runtime before 1.17
// accepts at most one dynamically typed input, and picks the variant whose
// input types match the node.
template <class Spec>
struct Op : Ort::CustomOpBase<Op<Spec>, Kernel<Spec>> {
  static constexpr auto kName = camel_name<str_len(Spec::kName)>("", Spec::kName);
  Op(ONNXTensorElementDataType t, bool cuda) : type(t), on_cuda(cuda) {}
  void* CreateKernel(const OrtApi&, const OrtKernelInfo* info) const { return new Kernel<Spec>(info, on_cuda); }
  const char* GetName() const { return kName.data(); }
  const char* GetExecutionProviderType() const { return on_cuda ? "CUDAExecutionProvider" : "CPUExecutionProvider"; }
  size_t GetInputTypeCount() const { return Spec::kInputs.size(); }
  ONNXTensorElementDataType GetInputType(size_t) const { return type; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return type; }

  ONNXTensorElementDataType type;
  bool on_cuda;
};

// One op per dtype, on CPU and (when built with CUDA) on the CUDA provider.
// They live as long as the process.
template <class Spec>
bool register_op() {
  for (ONNXTensorElementDataType o : {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16,
                                      ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64}) {
    DType t;
    if (!to_dtype(o, &t) || !Spec::kDTypes.has(t)) continue;
    registry().push_back(new Op<Spec>(o, false));
#if OPFORGE_WITH_CUDA
    if (has_cuda<Spec>) registry().push_back(new Op<Spec>(o, true));
#endif
  }
  return true;
}

}  // namespace opforge::ort_adapter

#undef OPFORGE_REGISTER_OP
#define OPFORGE_REGISTER_OP(Spec) ::opforge::ort_adapter::register_op<Spec>()
