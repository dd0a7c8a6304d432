// clip: y = min(max(x, lo), hi), elementwise; NaN stays NaN.
#pragma once

#include <string>

#include "opforge/checks.h"
#include "opforge/kernel_api.h"

namespace opforge::clip {

constexpr const char* kName = "clip";
constexpr const char* kDTypes = "float32, float16";
inline bool supports(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }

inline std::string validate(DType x) { return check_dtype(kName, "x", x, supports, kDTypes); }

void cpu(DType t, const void* x, void* y, int64_t n, float lo, float hi);
// Returns nullptr on success, else CUDA's error string.
const char* cuda(DType t, const void* x, void* y, int64_t n, float lo, float hi, Stream stream);

}  // namespace opforge::clip
