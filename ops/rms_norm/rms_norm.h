// rms_norm: y = x / sqrt(mean(x^2 over the last axis) + epsilon) * weight,
// accumulated in float32 whatever the storage dtype.
#pragma once

#include <cmath>
#include <string>

#include "opforge/checks.h"
#include "opforge/kernel_api.h"

namespace opforge::rms_norm {

constexpr const char* kName = "rms_norm";
constexpr const char* kDTypes = "float32, float16";
constexpr float kDefaultEpsilon = 1e-6f;
inline bool supports(DType t) { return t == DType::kFloat32 || t == DType::kFloat16; }

inline std::string validate_dtypes(DType x, DType w) {
  std::string err = check_dtype(kName, "x", x, supports, kDTypes);
  if (err.empty() && w != x)
    err = std::string(kName) + ": weight must have the dtype of x (" + dtype_name(x) + "), got " +
          dtype_name(w);
  return err;
}

inline std::string validate_epsilon(float epsilon) {
  if (epsilon >= 0.0f && !std::isinf(epsilon)) return {};
  return std::string(kName) + ": epsilon must be a finite number >= 0, got " +
         std::to_string(epsilon);
}

inline std::string validate_shapes(Dims dx, Dims dw) {
  const std::string op(kName);
  if (dx.rank < 1) return op + ": x must have at least one dimension, got a scalar";
  if (dw.rank != 1) return op + ": weight must be 1-D, got shape " + dims_str(dw);
  if (dw[0] != dx[dx.rank - 1])
    return op + ": weight has " + std::to_string(dw[0]) +
           " elements but the last axis of x has " + std::to_string(dx[dx.rank - 1]) +
           " (x shape " + dims_str(dx) + ")";
  return {};
}

inline std::string validate(DType x, DType w, Dims dx, Dims dw, float epsilon) {
  std::string err = validate_dtypes(x, w);
  if (err.empty()) err = validate_shapes(dx, dw);
  if (err.empty()) err = validate_epsilon(epsilon);
  return err;
}

// x and y are [rows, cols] row-major; weight is [cols].
void cpu(DType t, const void* x, const void* weight, void* y, int64_t rows, int64_t cols,
         float epsilon);
const char* cuda(DType t, const void* x, const void* weight, void* y, int64_t rows, int64_t cols,
                 float epsilon, Stream stream);

}  // namespace opforge::rms_norm
