// modulo: C fmod(a, b) elementwise; the result has the sign of a.
// Integers follow numpy.fmod: x % 0 == 0 and INT_MIN % -1 == 0 (both are
// undefined in C and would raise SIGFPE, killing the serving process).
#pragma once

#include <string>

#include "opforge/checks.h"
#include "opforge/kernel_api.h"

namespace opforge::modulo {

constexpr const char* kName = "modulo";
constexpr const char* kDTypes = "float32, int32";
inline bool supports(DType t) { return t == DType::kFloat32 || t == DType::kInt32; }

inline std::string validate_dtypes(DType a, DType b) {
  std::string err = check_dtype(kName, "a", a, supports, kDTypes);
  if (err.empty() && a != b)
    err = std::string(kName) + ": a and b must have the same dtype, got " + dtype_name(a) +
          " and " + dtype_name(b);
  return err;
}

inline std::string validate(DType a, DType b, Dims da, Dims db) {
  std::string err = validate_dtypes(a, b);
  if (err.empty() && !same_dims(da, db))
    err = std::string(kName) + ": a and b must have the same shape, got " + dims_str(da) +
          " and " + dims_str(db);
  return err;
}

void cpu(DType t, const void* a, const void* b, void* y, int64_t n);
const char* cuda(DType t, const void* a, const void* b, void* y, int64_t n, Stream stream);

}  // namespace opforge::modulo
