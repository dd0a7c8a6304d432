// zero_out: keeps the first element (row-major) of x, sets all others to 0.
#pragma once

#include <string>

#include "opforge/checks.h"
#include "opforge/kernel_api.h"

namespace opforge::zero_out {

constexpr const char* kName = "zero_out";
constexpr const char* kDTypes = "int32, int64";
inline bool supports(DType t) { return t == DType::kInt32 || t == DType::kInt64; }

inline std::string validate(DType x) { return check_dtype(kName, "x", x, supports, kDTypes); }

void cpu(DType t, const void* x, void* y, int64_t n);
const char* cuda(DType t, const void* x, void* y, int64_t n, Stream stream);

}  // namespace opforge::zero_out
