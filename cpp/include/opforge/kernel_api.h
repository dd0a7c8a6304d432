// The ABI-neutral interface between framework adapters and kernels.
//
// Kernels are compiled once into a static library and linked into every
// adapter. Adapters are built with different C++ ABI flags (TensorFlow and
// torch may disagree on _GLIBCXX_USE_CXX11_ABI), so nothing here may carry a
// standard-library type: raw pointers, sizes, plain enums and a CUDA stream.
#pragma once

#include <cstdint>

// Forward declaration, so adapters need no CUDA header to name a stream.
struct CUstream_st;

namespace opforge {

using Stream = CUstream_st*;  // identical to cudaStream_t

enum class DType : int32_t { kFloat32 = 0, kFloat16 = 1, kInt32 = 2, kInt64 = 3 };

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat16: return "float16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
  }
  return "unknown";
}

}  // namespace opforge
