// An op's spec: the one description from which the generic adapters
// (cpp/<framework>/) make the torch op, the TensorFlow op, the ONNX Runtime
// ops, the TensorRT plugin and the GPU self-test. See ops/*/<op>.h, and
// README's "Adding an op". The rules every adapter enforces from it:
//   - every input and the output share one dtype, which kDTypes must hold;
//   - one output, kOutput.name, with the shape of input kOutput.like;
//   - attributes are float or int, required or with a default; one with a
//     range [min, max] must also be finite;
//   - kRelations between the inputs' shapes: same_shape(a, b), last_axis(v, x).
// Names: torch.ops.<ns>.<kName>; TensorFlow <Prefix><Camel> (in Python TF's
// lower-casing of it: <ns>_<kName>, but conv_2d -> <ns>_conv2d); ONNX Runtime
// <Camel> in domain <ns>; TensorRT plugin <Prefix><Camel> in plugin namespace
// <ns> (clip -> Clip, rms_norm -> RmsNorm).
// The checks return "" when they pass, else the message every framework
// raises; header-only, they compile inside each adapter with its C++ ABI.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "opforge/kernel_api.h"

namespace opforge {

class DTypes {
 public:
  constexpr DTypes(std::initializer_list<DType> types) {
    for (DType t : types) bits_ |= 1u << static_cast<int>(t);
  }
  constexpr bool has(DType t) const { return (bits_ >> static_cast<int>(t)) & 1u; }
  std::string names() const {
    std::string out;
    for (DType t : {DType::kFloat32, DType::kFloat16, DType::kInt32, DType::kInt64})
      if (has(t)) out += (out.empty() ? "" : ", ") + std::string(dtype_name(t));
    return out;
  }

 private:
  unsigned bits_ = 0;
};

constexpr double kInf = std::numeric_limits<double>::infinity();

enum class AttrType { kFloat, kInt };

// No NaN stands for "no default": nvcc 11's front end cannot compare NaNs in
// a constant expression (valid_spec).
struct Attr {
  const char* name;
  AttrType type;
  bool has_default;
  double default_value;
  double min, max;  // the valid range; (-inf, inf): any value, NaN included
  constexpr bool required() const { return !has_default; }
  constexpr bool bounded() const { return min > -kInf || max < kInf; }
};

// float_attr("lo"): required; float_attr("epsilon", 1e-6, 0): default 1e-6, valid in [0, inf).
constexpr Attr float_attr(const char* name) { return {name, AttrType::kFloat, false, 0.0, -kInf, kInf}; }
constexpr Attr float_attr(const char* name, double default_value, double min = -kInf, double max = kInf) {
  return {name, AttrType::kFloat, true, default_value, min, max};
}
constexpr Attr int_attr(const char* name) { return {name, AttrType::kInt, false, 0.0, -kInf, kInf}; }
constexpr Attr int_attr(const char* name, double default_value, double min = -kInf, double max = kInf) {
  return {name, AttrType::kInt, true, default_value, min, max};
}

enum class Rule { kSameShape, kLastAxis };
struct Relation {
  Rule rule;
  int a, b;
};
// Inputs a and b have one shape.
constexpr Relation same_shape(int a, int b) { return {Rule::kSameShape, a, b}; }
// Input v is 1-D, as long as the last axis of input x (which has one).
constexpr Relation last_axis(int v, int x) { return {Rule::kLastAxis, v, x}; }

struct Output {
  const char* name;
  int like;  // the output has the shape of this input
};

// The kernel entry points: every spec declares `static void cpu(const Args&)`;
// `static const char* cuda(const Args&, Stream)` only where the op has a CUDA
// kernel. An op without one gets CPU kernels alone in every framework (no
// torch CUDA dispatch, TensorFlow GPU kernel, ONNX Runtime CUDA provider op,
// TensorRT plugin or self-test case).
template <class Spec, class = void>
struct HasCuda : std::false_type {};
template <class Spec>  // the call, not &Spec::cuda: a helper overload of cuda must not hide the entry point
struct HasCuda<Spec, std::void_t<decltype(Spec::cuda(std::declval<const Args&>(), std::declval<Stream>()))>>
    : std::true_type {};
template <class Spec>
constexpr bool has_cuda = HasCuda<Spec>::value;

struct SpecBase {
  static constexpr Output kOutput{"y", 0};
  static constexpr std::array<Attr, 0> kAttrs{};
  static constexpr std::array<Relation, 0> kRelations{};
  // The GPU self-test (cpp/selftest/adapter.h): attribute values (default:
  // each default, else 0.75); the tolerance {float32, float16} (relative and
  // absolute; 0: exact); integer inputs in [-1000, 1000] with 0, -1 and
  // INT_MIN; and whether the op reads one input element only (bandwidth).
  static constexpr const double* kSelftestAttrs = nullptr;
  static constexpr double kSelftestTolerance[2] = {0, 0};
  static constexpr bool kSelftestSmallInts = false;
  static constexpr bool kSelftestReadsOneElement = false;
};

// ---- names ---------------------------------------------------------------------

constexpr std::size_t str_len(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

// prefix + CamelCase(snake), at compile time, so that TensorRT's noexcept
// name getters cannot fail: ("Opforge", "rms_norm") -> "OpforgeRmsNorm".
template <std::size_t N>
constexpr std::array<char, N + 1> camel_name(const char* prefix, const char* snake) {
  std::array<char, N + 1> out{};
  std::size_t i = 0;
  for (const char* p = prefix; *p != '\0'; ++p) out[i++] = *p;
  bool upper = true;
  for (const char* p = snake; *p != '\0'; ++p) {
    if (*p == '_') {
      upper = true;
      continue;
    }
    out[i++] = upper && *p >= 'a' && *p <= 'z' ? static_cast<char>(*p - 'a' + 'A') : *p;
    upper = false;
  }
  return out;
}

// ---- checks --------------------------------------------------------------------

// The shortest text that reads back as `v` ("1e-06", "-1.5", "3").
inline std::string number(double v) {
  char buf[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v || v != v) break;
  }
  return buf;
}

inline std::string unsupported_dtype(const char* op, const char* what, const std::string& name,
                                     const std::string& allowed) {
  return std::string(op) + ": " + what + " has dtype " + name + ", expected one of " + allowed;
}

// The dtypes of the inputs: the first in kDTypes, the others equal to it.
template <class Spec>
std::string check_dtypes(const DType* t) {
  if (!Spec::kDTypes.has(t[0]))
    return unsupported_dtype(Spec::kName, Spec::kInputs[0], dtype_name(t[0]), Spec::kDTypes.names());
  for (std::size_t i = 1; i < Spec::kInputs.size(); ++i)
    if (t[i] != t[0])
      return std::string(Spec::kName) + ": " + Spec::kInputs[i] + " must have the dtype of " +
             Spec::kInputs[0] + " (" + dtype_name(t[0]) + "), got " + dtype_name(t[i]);
  return {};
}

template <class Spec>
std::string check_attrs(const double* values) {
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) {
    const Attr& a = Spec::kAttrs[i];
    const double v = values[i];
    // What the kernel computes with: a float attribute reaches it as a float (1e39: inf).
    const double used = a.type == AttrType::kFloat ? static_cast<double>(static_cast<float>(v)) : v;
    const bool integral = a.type != AttrType::kInt || v == std::floor(v);
    if (integral && (!a.bounded() || (std::isfinite(used) && used >= a.min && used <= a.max))) continue;
    // The message only on failure: built on every call, it costs more than a small kernel.
    const std::string what = std::string(Spec::kName) + ": " + a.name + " must be ";
    if (!integral) return what + "an integer, got " + number(v);
    const std::string range = a.max == kInf    ? ">= " + number(a.min)
                              : a.min == -kInf ? "<= " + number(a.max)
                                               : "in [" + number(a.min) + ", " + number(a.max) + "]";
    return what + "a finite " + (a.type == AttrType::kFloat ? "float32 " : "number ") + range + ", got " + number(v);
  }
  return {};
}

// Shape: .rank and [i] (torch: symbolic sizes; TensorRT: sizes not yet known
// compare equal), sizes compare with == and print with <<.
template <class Shape>
std::string shape_str(const Shape& s) {
  std::ostringstream out;
  out << '[';
  for (int i = 0; i < s.rank; ++i) out << (i ? ", " : "") << s[i];
  out << ']';
  return out.str();
}

template <class Shape>
bool same_dims(const Shape& a, const Shape& b) {
  if (a.rank != b.rank) return false;
  for (int i = 0; i < a.rank; ++i)
    if (!(a[i] == b[i])) return false;
  return true;
}

template <class Spec, class Shape>
std::string check_shapes(const Shape* s) {
  const char* op = Spec::kName;  // the message becomes a string only on failure
  for (const Relation& r : Spec::kRelations) {
    const char *a = Spec::kInputs[r.a], *b = Spec::kInputs[r.b];
    const Shape &sa = s[r.a], &sb = s[r.b];
    if (r.rule == Rule::kSameShape && !same_dims(sa, sb))
      return std::string(op) + ": " + a + " and " + b + " must have the same shape, got " + shape_str(sa) + " and " +
             shape_str(sb);
    if (r.rule != Rule::kLastAxis) continue;
    if (sb.rank < 1) return std::string(op) + ": " + b + " must have at least one dimension, got a scalar";
    if (sa.rank != 1) return std::string(op) + ": " + a + " must be 1-D, got shape " + shape_str(sa);
    if (!(sa[0] == sb[sb.rank - 1])) {
      std::ostringstream m;
      m << op << ": " << a << " has " << sa[0] << " elements but the last axis of " << b << " has "
        << sb[sb.rank - 1] << " (" << b << " shape " << shape_str(sb) << ")";
      return m.str();
    }
  }
  return {};
}

// ---- attributes as bytes: 4 per attribute, float32 or int32, in kAttrs order -------
// (TensorRT's plugin fields and 8.6's plugin serialization; framework-free, so
// that decoding untrusted bytes is tested without TensorRT.)

template <class Spec>
void encode_attrs(const double* values, char* out) {
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) {
    // Each value converted only to its own type: a float one (NaN, 3e38) has no int32.
    if (Spec::kAttrs[i].type == AttrType::kFloat) {
      const float f = static_cast<float>(values[i]);
      std::memcpy(out + 4 * i, &f, 4);
    } else {
      const auto k = static_cast<int32_t>(values[i]);
      std::memcpy(out + 4 * i, &k, 4);
    }
  }
}

// Reads exactly 4 * kAttrs.size() bytes (nothing when `length` differs) and
// checks the values: "" or the reason.
template <class Spec>
std::string decode_attrs(const void* data, std::size_t length, double* values) {
  const std::size_t expected = 4 * Spec::kAttrs.size();
  if (length != expected || (length > 0 && data == nullptr))
    return "serialized attributes have " + std::to_string(length) + " bytes, expected " + std::to_string(expected);
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) {
    float f;
    int32_t k;
    std::memcpy(&f, static_cast<const char*>(data) + 4 * i, 4);
    std::memcpy(&k, static_cast<const char*>(data) + 4 * i, 4);
    values[i] = Spec::kAttrs[i].type == AttrType::kFloat ? f : k;
  }
  return check_attrs<Spec>(values);
}

// ---- what a spec must satisfy (OPFORGE_OP checks it at compile time) ----------------

template <class Spec>
constexpr bool valid_spec() {
  for (const char* p = Spec::kName; *p != '\0'; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  const int n = static_cast<int>(Spec::kInputs.size());
  if (n < 1 || n > kMaxInputs || Spec::kAttrs.size() > kMaxAttrs) return false;
  if (Spec::kOutput.like < 0 || Spec::kOutput.like >= n) return false;
  for (const Relation& r : Spec::kRelations)
    if (r.a < 0 || r.a >= n || r.b < 0 || r.b >= n || r.a == r.b) return false;
  for (const Attr& a : Spec::kAttrs)
    if (!a.required() && a.bounded() && !(a.default_value >= a.min && a.default_value <= a.max))
      return false;
  return true;
}

}  // namespace opforge

// An adapter defines OPFORGE_REGISTER_OP(Spec) as the expression that
// registers Spec with its framework, before it includes the specs; in a
// kernel's own sources it is `true`, and nothing registers.
#ifndef OPFORGE_REGISTER_OP
#define OPFORGE_REGISTER_OP(Spec) true
#endif
// Whether the op's op.cmake lists CUDA sources: set per spec by the generated
// adapter sources; -1 (not checked) in a kernel's own sources.
#ifndef OPFORGE_OP_LISTS_CUDA
#define OPFORGE_OP_LISTS_CUDA -1
#endif
#define OPFORGE_CONCAT_(a, b) a##b
#define OPFORGE_CONCAT(a, b) OPFORGE_CONCAT_(a, b)

#define OPFORGE_OP(Spec)                                                                    \
  static_assert(::opforge::valid_spec<Spec>(),                                             \
                "op spec: kName snake_case; 1..8 inputs; <= 8 attributes; kOutput.like, " \
                "kRelations name inputs; defaults within their range");                   \
  static_assert(OPFORGE_OP_LISTS_CUDA != 0 || !::opforge::has_cuda<Spec>,                   \
                "the spec declares cuda(), but its op.cmake lists no CUDA sources: add "   \
                "CUDA <op>.cu there, or remove cuda from the spec (a CPU-only op)");      \
  static_assert(OPFORGE_OP_LISTS_CUDA != 1 || ::opforge::has_cuda<Spec>,                    \
                "op.cmake lists CUDA sources, but the spec declares no "                  \
                "static const char* cuda(const Args&, Stream): declare it, or remove "    \
                "CUDA and its sources from op.cmake");                                    \
  [[maybe_unused]] static const bool OPFORGE_CONCAT(opforge_registered_, __COUNTER__) = OPFORGE_REGISTER_OP(Spec);
