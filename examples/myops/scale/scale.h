// scale: y = x * alpha (float32). A minimal op outside the opforge tree.
#pragma once

#include <string>

#include "opforge/checks.h"
#include "opforge/kernel_api.h"

namespace myops::scale {

using opforge::DType;
constexpr const char* kName = "scale";
constexpr const char* kDTypes = "float32";
inline bool supports(DType t) { return t == DType::kFloat32; }
inline std::string validate(DType x) { return opforge::check_dtype(kName, "x", x, supports, kDTypes); }

void cpu(const float* x, float* y, int64_t n, float alpha);
const char* cuda(const float* x, float* y, int64_t n, float alpha, opforge::Stream stream);

}  // namespace myops::scale
