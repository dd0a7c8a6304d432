// TensorRT-facing helpers shared by the V2 (TensorRT 8.6) and V3 (TensorRT 10+)
// plugin templates: names, logging, plugin fields, dtypes, shapes, enqueue.
#pragma once

#include <NvInferRuntime.h>
#include <NvInferVersion.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "opforge/checks.h"
#include "opforge/config.h"
#include "opforge/half.h"
#include "opforge/kernel_api.h"
#include "tensorrt/plugin_spec.h"

namespace opforge::trt {

namespace nv = nvinfer1;

constexpr const char* kPluginVersion = "1";
constexpr const char* kPluginNamespace = OPFORGE_NS_STR;

// ---- names -------------------------------------------------------------------

constexpr std::size_t str_len(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

// OPFORGE_PREFIX + Spec::kName ("Opforge" + "Clip"), built at compile time so
// that the noexcept name getters cannot fail.
template <class Spec>
struct PluginName {
  static constexpr std::size_t kLen = str_len(OPFORGE_PREFIX) + str_len(Spec::kName);
  static constexpr std::array<char, kLen + 1> make() {
    std::array<char, kLen + 1> out{};
    std::size_t i = 0;
    for (const char* p = OPFORGE_PREFIX; *p != '\0'; ++p) out[i++] = *p;
    for (const char* p = Spec::kName; *p != '\0'; ++p) out[i++] = *p;
    out[i] = '\0';
    return out;
  }
  static constexpr std::array<char, kLen + 1> kValue = make();
};

template <class Spec>
const char* plugin_name() noexcept {
  return PluginName<Spec>::kValue.data();
}

// The attribute values of one plugin, in Spec::kAttrs order.
template <class Spec>
using AttrValues = std::array<float, Spec::kAttrs.size()>;

// ---- logging -----------------------------------------------------------------

// Through TensorRT's logger (the one of the builder or runtime that is
// calling us) when there is one, else on stderr. Never throws.
inline void log(nv::ILogger::Severity severity, const char* msg) noexcept {
  nv::ILogger* logger = ::getLogger();
  if (logger != nullptr)
    logger->log(severity, msg);
  else
    std::fprintf(stderr, "[opforge] %s\n", msg);
}

inline void log_error(const std::string& msg) noexcept {
  log(nv::ILogger::Severity::kERROR, msg.c_str());
}

// Every TensorRT entry point is noexcept: run `body`, and turn any exception
// into a logged error and `fallback`.
template <class Spec, class R, class Body>
R guarded(const char* where, R fallback, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    try {
      log_error(std::string(plugin_name<Spec>()) + "::" + where + ": " + e.what());
    } catch (...) {
      log(nv::ILogger::Severity::kERROR, "opforge TensorRT plugin: error while reporting an error");
    }
  } catch (...) {
    log(nv::ILogger::Severity::kERROR, "opforge TensorRT plugin: unknown exception");
  }
  return fallback;
}

// ---- plugin fields -------------------------------------------------------------

template <class Spec>
void field_names(std::array<nv::PluginField, Spec::kAttrs.size()>& fields,
                 nv::PluginFieldCollection& fc) noexcept {
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i)
    fields[i] = nv::PluginField(Spec::kAttrs[i].name, nullptr, nv::PluginFieldType::kFLOAT32, 1);
  fc.nbFields = static_cast<int32_t>(fields.size());
  fc.fields = fields.data();
}

inline bool field_as_float(const nv::PluginField& f, float* out) {
  switch (f.type) {
    case nv::PluginFieldType::kFLOAT32: *out = *static_cast<const float*>(f.data); return true;
    case nv::PluginFieldType::kFLOAT64:
      *out = static_cast<float>(*static_cast<const double*>(f.data));
      return true;
    case nv::PluginFieldType::kFLOAT16:
      *out = half_to_float(*static_cast<const uint16_t*>(f.data));
      return true;
    case nv::PluginFieldType::kINT32:
      *out = static_cast<float>(*static_cast<const int32_t*>(f.data));
      return true;
    default: return false;
  }
}

// Reads Spec's attributes from `fc` (TensorRT's or the user's fields); an
// absent optional attribute takes its default. Returns "" or the reason.
template <class Spec>
std::string parse_fields(const nv::PluginFieldCollection* fc, AttrValues<Spec>& values) {
  const std::string name = plugin_name<Spec>();
  std::array<bool, Spec::kAttrs.size()> found{};
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) values[i] = Spec::kAttrs[i].default_value;
  const int32_t n = fc == nullptr ? 0 : fc->nbFields;
  for (int32_t j = 0; j < n; ++j) {
    const nv::PluginField& f = fc->fields[j];
    if (f.name == nullptr) continue;
    std::size_t i = 0;
    while (i < Spec::kAttrs.size() && std::strcmp(f.name, Spec::kAttrs[i].name) != 0) ++i;
    if (i == Spec::kAttrs.size()) {
      log(nv::ILogger::Severity::kWARNING,
          (name + ": ignoring unknown plugin field '" + f.name + "'").c_str());
      continue;
    }
    if (f.data == nullptr || f.length < 1)
      return name + ": plugin field '" + f.name + "' has no value";
    if (!field_as_float(f, &values[i]))
      return name + ": plugin field '" + f.name + "' must be float32 (PluginFieldType " +
             std::to_string(static_cast<int>(f.type)) + " given)";
    found[i] = true;
  }
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i)
    if (Spec::kAttrs[i].required && !found[i])
      return name + ": missing required plugin field '" + Spec::kAttrs[i].name + "' (float32)";
  return {};
}

// ---- dtypes, formats, shapes -----------------------------------------------------

inline bool to_dtype(nv::DataType t, DType* out) {
  switch (t) {
    case nv::DataType::kFLOAT: *out = DType::kFloat32; return true;
    case nv::DataType::kHALF: *out = DType::kFloat16; return true;
    case nv::DataType::kINT32: *out = DType::kInt32; return true;
#if NV_TENSORRT_MAJOR >= 10
    // TensorRT 8.6 has no 64-bit integer tensors: there int64 ops (zero_out)
    // accept int32 only.
    case nv::DataType::kINT64: *out = DType::kInt64; return true;
#endif
    default: return false;
  }
}

template <class Spec>
bool supports_dtype(nv::DataType t) {
  DType d;
  return to_dtype(t, &d) && Spec::supports(d);
}

// The rule of every opforge plugin: linear format; input 0 in the op's dtype
// set; every other input and the output of input 0's dtype.
template <class Spec>
bool supports_io(int32_t pos, const nv::PluginTensorDesc& desc, const nv::PluginTensorDesc& first,
                 int32_t nb_inputs, int32_t nb_outputs) {
  if (nb_inputs != Spec::kNumInputs || nb_outputs != 1) return false;
  if (pos < 0 || pos >= nb_inputs + nb_outputs) return false;
  if (desc.format != nv::TensorFormat::kLINEAR) return false;
  if (pos == 0) return supports_dtype<Spec>(desc.type);
  return desc.type == first.type;
}

template <class Spec>
bool check_io_count(int32_t nb_inputs, int32_t nb_outputs) noexcept {
  if (nb_inputs == Spec::kNumInputs && nb_outputs == 1) return true;
  guarded<Spec>("check_io_count", 0, [&] {
    log_error(std::string(plugin_name<Spec>()) + ": expected " +
                    std::to_string(Spec::kNumInputs) + " input(s) and 1 output, got " +
                    std::to_string(nb_inputs) + " and " + std::to_string(nb_outputs));
    return 0;
  });
  return false;
}

// ---- enqueue -------------------------------------------------------------------

template <class Spec>
int32_t run(const AttrValues<Spec>& attrs, const nv::PluginTensorDesc* input_desc,
            const void* const* inputs, void* const* outputs, cudaStream_t stream) noexcept {
  static_assert(Spec::kNumInputs >= 1 && Spec::kNumInputs <= kMaxInputs, "1..kMaxInputs inputs");
  return guarded<Spec>("enqueue", int32_t{1}, [&]() -> int32_t {
    DType t;
    if (!to_dtype(input_desc[0].type, &t)) {
      log_error(std::string(plugin_name<Spec>()) + ": unsupported TensorRT dtype " +
                      std::to_string(static_cast<int>(input_desc[0].type)));
      return 1;
    }
    int64_t extents[Spec::kNumInputs][nv::Dims::MAX_DIMS];
    Dims dims[Spec::kNumInputs];
    for (int i = 0; i < Spec::kNumInputs; ++i) {
      const nv::Dims& d = input_desc[i].dims;
      for (int32_t k = 0; k < d.nbDims; ++k) extents[i][k] = d.d[k];
      dims[i] = Dims{extents[i], d.nbDims};
    }
    const std::string err = Spec::enqueue(attrs.data(), t, dims, inputs, outputs, stream);
    if (err.empty()) return 0;
    log_error(std::string(plugin_name<Spec>()) + ": " + err);
    return 1;
  });
}

}  // namespace opforge::trt
