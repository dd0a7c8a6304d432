// What an op tells the generic TensorRT plugins (plugin_v2.h, plugin_v3.h).
//
// An op's tensorrt.cc holds one spec struct and one registration line:
//
//   struct ClipSpec {
//     static constexpr const char* kName = "Clip";  // plugin name: OPFORGE_PREFIX + kName
//     static constexpr int kNumInputs = 1;
//     static constexpr std::array<Attr, 2> kAttrs{{required_attr("lo"), required_attr("hi")}};
//     static bool supports(DType t);                // the dtypes input 0 may have
//     static std::string enqueue(const float* attrs, DType t, const Dims* in_dims,
//                                const void* const* inputs, void* const* outputs,
//                                Stream stream);   // "" on success, else the reason
//   };
//   OPFORGE_REGISTER_TENSORRT_PLUGIN(ClipSpec);
//
// The plugins share these rules for every op: one output, with the shape and
// dtype of input 0; every input has the dtype of input 0; linear format only.
// Attributes are float32 plugin fields, in kAttrs order in the `attrs` array.
//
// This header needs no TensorRT header: specs see only opforge types.
#pragma once

#include <array>
#include <string>

#include "opforge/checks.h"
#include "opforge/kernel_api.h"

namespace opforge::trt {

constexpr int kMaxInputs = 8;

// A float32 plugin field: required ones have no default (createPlugin fails
// without them); optional ones take `default_value` when absent.
struct Attr {
  const char* name;
  float default_value;
  bool required;
};

constexpr Attr required_attr(const char* name) { return Attr{name, 0.0f, true}; }
constexpr Attr optional_attr(const char* name, float default_value) {
  return Attr{name, default_value, false};
}

// Turns a kernel's CUDA error string (nullptr on success) into a spec result.
inline std::string kernel_result(const char* op, const char* cuda_error) {
  if (cuda_error == nullptr) return {};
  return std::string(op) + ": CUDA kernel launch failed: " + cuda_error;
}

}  // namespace opforge::trt
