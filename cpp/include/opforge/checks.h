// Input validation shared by every adapter, so that each framework rejects
// the same inputs with the same words. Header-only: it is compiled inside each
// adapter with that adapter's ABI flags, so returning std::string is safe.
// An empty string means the inputs are valid.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

#include "opforge/kernel_api.h"

namespace opforge {

// A framework-neutral view of a tensor's shape.
struct Dims {
  const int64_t* data;
  int rank;
  int64_t operator[](int i) const { return data[i]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= data[i];
    return n;
  }
};

inline std::string dims_str(Dims d) {
  std::ostringstream s;
  s << '[';
  for (int i = 0; i < d.rank; ++i) s << (i ? ", " : "") << d[i];
  s << ']';
  return s.str();
}

inline bool same_dims(Dims a, Dims b) {
  if (a.rank != b.rank) return false;
  for (int i = 0; i < a.rank; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

inline std::string unsupported_dtype(const char* op, const char* what, const std::string& name,
                                     const char* allowed) {
  return std::string(op) + ": " + what + " has dtype " + name + ", expected one of " + allowed;
}

template <typename Supports>
std::string check_dtype(const char* op, const char* what, DType t, Supports supports,
                        const char* allowed) {
  return supports(t) ? std::string() : unsupported_dtype(op, what, dtype_name(t), allowed);
}

}  // namespace opforge
