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

constexpr int kMaxInputs = 8;
constexpr int kMaxAttrs = 8;

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

// A framework's intra-op threads, lent to a CPU kernel by its adapter: calls
// body(ctx, begin, end) over [0, n) in chunks of at least `grain`, on the
// threads the framework was configured with (Triton sets them per model).
using ParallelFor = void (*)(void* pool, int64_t n, int64_t grain, void (*body)(void* ctx, int64_t, int64_t),
                             void* ctx);

// One call of an op's kernel, as every adapter hands it over: contiguous
// inputs of one dtype, the output (the shape of input Spec::kOutput.like),
// the attributes in Spec::kAttrs order (int attributes as exact doubles), and
// for CPU kernels the framework's threads (none: run inline).
struct Args {
  DType dtype;
  const void* inputs[kMaxInputs];
  Dims dims[kMaxInputs];
  void* output;
  int64_t numel;  // elements of the output
  double attrs[kMaxAttrs];
  ParallelFor parallel;
  void* pool;

  template <typename T>
  const T* in(int i) const { return static_cast<const T*>(inputs[i]); }
  template <typename T>
  T* out() const { return static_cast<T*>(output); }
  float attr(int i) const { return static_cast<float>(attrs[i]); }
  // Input i seen as [rows, cols] over its last axis.
  int64_t cols(int i) const { return dims[i].rank ? dims[i][dims[i].rank - 1] : 1; }
  int64_t rows(int i) const { return cols(i) ? dims[i].numel() / cols(i) : 0; }
};

}  // namespace opforge
