// Shared glue for the ONNX Runtime adapters.
//
// Built against headers only (no link to libonnxruntime): the API table is
// handed to RegisterCustomOps at load time, hence ORT_API_MANUAL_INIT. Only
// functions of API version <= 13 are used, so that the same binary runs with
// whatever (older) API version RegisterCustomOps obtains.
#pragma once

#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>
#undef ORT_API_MANUAL_INIT

#include <string>
#include <vector>

#include "opforge/checks.h"
#include "opforge/config.h"
#include "opforge/kernel_api.h"

namespace opforge::ort_adapter {

// Every op in the library, filled by static registrars before
// RegisterCustomOps runs; stamped there with the negotiated API version.
std::vector<OrtCustomOp*>& registry();

inline bool to_dtype(ONNXTensorElementDataType t, DType* out) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: *out = DType::kFloat32; return true;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: *out = DType::kFloat16; return true;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: *out = DType::kInt32; return true;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: *out = DType::kInt64; return true;
    default: return false;
  }
}

// ONNX Runtime turns an exception thrown from Compute into a failed Run()
// with this message; the process keeps going.
inline void check(const std::string& error) {
  if (!error.empty()) throw Ort::Exception(std::string(error), ORT_INVALID_ARGUMENT);
}

struct Input {
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  Dims dims() const { return {shape.data(), static_cast<int>(shape.size())}; }
  int64_t numel() const { return dims().numel(); }
};

inline Input input(Ort::KernelContext& ctx, size_t index, const char* op, const char* what,
                   const char* allowed) {
  const Ort::ConstValue v = ctx.GetInput(index);
  const auto info = v.GetTensorTypeAndShapeInfo();
  Input in{};
  if (!to_dtype(info.GetElementType(), &in.dtype))
    check(unsupported_dtype(op, what, "ONNX type " + std::to_string(info.GetElementType()), allowed));
  in.shape = info.GetShape();
  in.data = v.GetTensorRawData();
  return in;
}

inline void* output(Ort::KernelContext& ctx, const std::vector<int64_t>& shape) {
  return ctx.GetOutput(0, shape).GetTensorMutableRawData();
}

// A float attribute; `fallback` == nullptr makes it required.
inline float float_attribute(const OrtKernelInfo* info, const char* op, const char* name,
                             const float* fallback) {
  float value = 0.f;
  OrtStatus* status = Ort::GetApi().KernelInfoGetAttribute_float(info, name, &value);
  if (status == nullptr) return value;
  Ort::GetApi().ReleaseStatus(status);
  if (fallback) return *fallback;
  throw Ort::Exception(std::string(op) + ": required float attribute '" + name + "' is missing",
                       ORT_INVALID_ARGUMENT);
}

// Runs cpu() for the CPU provider's op and cuda(stream) for the CUDA
// provider's op, on the stream ONNX Runtime gives the kernel.
template <typename Cpu, typename Cuda>
void run_on_device(bool on_cuda, Ort::KernelContext& ctx, Cpu&& cpu, Cuda&& cuda) {
  if (!on_cuda) {
    cpu();
    return;
  }
#if OPFORGE_WITH_CUDA
  const char* err = cuda(static_cast<Stream>(ctx.GetGPUComputeStream()));
  if (err) throw Ort::Exception(std::string("CUDA kernel launch failed: ") + err, ORT_FAIL);
#else
  (void)ctx;
  (void)cuda;
  throw Ort::Exception("this opforge build has no CUDA kernels", ORT_FAIL);
#endif
}

inline ONNXTensorElementDataType to_onnx(DType t) {
  switch (t) {
    case DType::kFloat32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DType::kFloat16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DType::kInt32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DType::kInt64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

// One OrtCustomOp per (kernel, dtype, execution provider), all under the
// kernel's op type. Typed variants rather than "undefined" types: ONNX
// Runtime before 1.17 accepts at most one dynamically typed input, and picks
// the variant whose input types match the node.
// Kernel provides kOpType, kInputs, supports(DType), a constructor
// (const OrtKernelInfo*, bool on_cuda) and Compute(OrtKernelContext*).
template <typename Kernel>
struct Op : Ort::CustomOpBase<Op<Kernel>, Kernel> {
  Op(DType t, bool cuda) : type(to_onnx(t)), on_cuda(cuda) {}
  void* CreateKernel(const OrtApi&, const OrtKernelInfo* info) const {
    return new Kernel(info, on_cuda);
  }
  const char* GetName() const { return Kernel::kOpType; }
  const char* GetExecutionProviderType() const {
    return on_cuda ? "CUDAExecutionProvider" : "CPUExecutionProvider";
  }
  size_t GetInputTypeCount() const { return Kernel::kInputs; }
  ONNXTensorElementDataType GetInputType(size_t) const { return type; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return type; }

  ONNXTensorElementDataType type;
  bool on_cuda;
};

// Creates the kernel's ops for every dtype it supports, on CPU and (when
// built with CUDA) on the CUDA provider. They live as long as the process.
template <typename Kernel>
bool register_kernel() {
  for (DType t : {DType::kFloat32, DType::kFloat16, DType::kInt32, DType::kInt64}) {
    if (!Kernel::supports(t)) continue;
    registry().push_back(new Op<Kernel>(t, false));
#if OPFORGE_WITH_CUDA
    registry().push_back(new Op<Kernel>(t, true));
#endif
  }
  return true;
}

}  // namespace opforge::ort_adapter

#define OPFORGE_ORT_CONCAT_(a, b) a##b
#define OPFORGE_ORT_CONCAT(a, b) OPFORGE_ORT_CONCAT_(a, b)
#define OPFORGE_ORT_OP(Kernel)                                                 \
  [[maybe_unused]] static const bool OPFORGE_ORT_CONCAT(registered_, __LINE__) = \
      ::opforge::ort_adapter::register_kernel<Kernel>();
