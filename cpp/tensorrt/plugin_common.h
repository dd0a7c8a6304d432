// TensorRT-facing helpers shared by the V2 (TensorRT 8.6) and V3 (TensorRT 10+)
// plugin templates: names, logging, plugin fields, dtypes, shapes, enqueue.
// Every plugin follows its op spec (opforge/op_spec.h): plugin name
// <Prefix><Camel>, version "1", plugin namespace <ns>; one field per
// attribute (float32 or int32); one output of input 0's dtype with the shape
// of input kOutput.like; linear format.
#pragma once

#include <NvInferRuntime.h>
#include <NvInferVersion.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <ostream>
#include <string>
#include <type_traits>

#include "opforge/config.h"
#include "opforge/half.h"
#include "opforge/op_spec.h"

namespace opforge::trt {

namespace nv = nvinfer1;

constexpr const char* kPluginVersion = "1";
constexpr const char* kPluginNamespace = OPFORGE_NS_STR;

template <class Spec>
const char* plugin_name() noexcept {
  static constexpr auto kName = camel_name<str_len(OPFORGE_PREFIX) + str_len(Spec::kName)>(OPFORGE_PREFIX, Spec::kName);
  return kName.data();
}

// The attribute values of one plugin, in Spec::kAttrs order.
template <class Spec>
using AttrValues = std::array<double, Spec::kAttrs.size()>;

// ---- logging -----------------------------------------------------------------

// Set by setLoggerFinder (exports.cc) when TensorRT's own loader loads the
// library (IPluginRegistry::loadLibrary, trtexec --dynamicPlugins).
nv::ILoggerFinder*& logger_finder() noexcept;

// Through TensorRT's logger (the loader's, else the one of the builder or
// runtime that is calling us) when there is one, else on stderr. Never throws.
inline void log(nv::ILogger::Severity severity, const char* msg) noexcept {
  nv::ILogger* logger = logger_finder() ? logger_finder()->findLogger() : nullptr;
  if (logger == nullptr) logger = ::getLogger();
  if (logger != nullptr)
    logger->log(severity, msg);
  else
    std::fprintf(stderr, "[opforge] %s\n", msg);
}

inline void log_error(const std::string& msg) noexcept { log(nv::ILogger::Severity::kERROR, msg.c_str()); }

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

// Logs `err` (when not empty) under the plugin's name; true when empty.
template <class Spec>
bool passes(const std::string& err) noexcept {
  if (!err.empty()) log_error(std::string(plugin_name<Spec>()) + ": " + err);
  return err.empty();
}

// ---- plugin fields -------------------------------------------------------------

// One field per attribute, float32 or int32; `data` (may be null) holds 4 bytes per attribute.
template <class Spec>
void describe_fields(std::array<nv::PluginField, Spec::kAttrs.size()>& fields, nv::PluginFieldCollection& fc,
                     const void* data) noexcept {
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i)
    fields[i] = nv::PluginField(Spec::kAttrs[i].name, data ? static_cast<const char*>(data) + 4 * i : nullptr,
                                Spec::kAttrs[i].type == AttrType::kFloat ? nv::PluginFieldType::kFLOAT32
                                                                         : nv::PluginFieldType::kINT32,
                                1);
  fc.nbFields = static_cast<int32_t>(fields.size());
  fc.fields = fields.data();
}

inline bool field_value(const nv::PluginField& f, double* out) {
  switch (f.type) {
    case nv::PluginFieldType::kFLOAT32: *out = *static_cast<const float*>(f.data); return true;
    case nv::PluginFieldType::kFLOAT64: *out = *static_cast<const double*>(f.data); return true;
    case nv::PluginFieldType::kFLOAT16: *out = half_to_float(*static_cast<const uint16_t*>(f.data)); return true;
    case nv::PluginFieldType::kINT32: *out = *static_cast<const int32_t*>(f.data); return true;
    default: return false;
  }
}

// Reads Spec's attributes from `fc` (TensorRT's or the user's fields) and
// checks them; an absent optional attribute takes its default. Returns "" or
// the reason.
template <class Spec>
std::string parse_fields(const nv::PluginFieldCollection* fc, AttrValues<Spec>& values) {
  std::array<bool, Spec::kAttrs.size()> found{};
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = Spec::kAttrs[i].default_value;
  for (int32_t j = 0; fc != nullptr && j < fc->nbFields; ++j) {
    const nv::PluginField& f = fc->fields[j];
    if (f.name == nullptr) continue;
    std::size_t i = 0;
    while (i < values.size() && std::strcmp(f.name, Spec::kAttrs[i].name) != 0) ++i;
    if (i == values.size()) {
      log(nv::ILogger::Severity::kWARNING,
          (std::string(plugin_name<Spec>()) + ": ignoring unknown plugin field '" + f.name + "'").c_str());
      continue;
    }
    const char* type = Spec::kAttrs[i].type == AttrType::kFloat ? "float32" : "int32";
    if (f.data == nullptr || f.length < 1) return std::string("plugin field '") + f.name + "' has no value";
    if (!field_value(f, &values[i]))
      return std::string("plugin field '") + f.name + "' must be " + type + " (PluginFieldType " +
             std::to_string(static_cast<int>(f.type)) + " given)";
    // An int attribute travels as int32 (encode_attrs): a wider value given as a float cannot.
    if (Spec::kAttrs[i].type == AttrType::kInt &&
        !(values[i] >= -2147483648.0 && values[i] <= 2147483647.0))
      return std::string("plugin field '") + f.name + "' must fit in int32, got " + number(values[i]);
    found[i] = true;
  }
  for (std::size_t i = 0; i < values.size(); ++i)
    if (Spec::kAttrs[i].required() && !found[i])
      return std::string("missing required plugin field '") + Spec::kAttrs[i].name + "'";
  return check_attrs<Spec>(values.data());
}

// ---- dtypes, formats, shapes -----------------------------------------------------

// kINT64 where the headers have it (TensorRT 9.3 on); 8.6 has no 64-bit
// integer tensors, so there int64 ops (zero_out) take int32 only.
template <class D, class = void>
struct HasInt64 : std::false_type {};
template <class D>
struct HasInt64<D, std::void_t<decltype(D::kINT64)>> : std::true_type {};

template <class D = nv::DataType>  // a template, so that D::kINT64 is looked up only where it exists
bool to_dtype(D t, DType* out) {
  if (t == D::kFLOAT) *out = DType::kFloat32;
  else if (t == D::kHALF) *out = DType::kFloat16;
  else if (t == D::kINT32) *out = DType::kInt32;
  else if constexpr (HasInt64<D>::value) {
    if (t != D::kINT64) return false;
    *out = DType::kInt64;
  } else {
    return false;
  }
  return true;
}

// Desc: PluginTensorDesc, or DynamicPluginTensorDesc.
inline const nv::PluginTensorDesc& desc_of(const nv::PluginTensorDesc& d) { return d; }
inline const nv::PluginTensorDesc& desc_of(const nv::DynamicPluginTensorDesc& d) { return d.desc; }

// Linear format; input 0 in the spec's dtypes; every other tensor of its dtype.
// in_out[pos] is read only once pos is known to be in range.
template <class Spec, class Desc>
bool supports_io(int32_t pos, const Desc* in_out, int32_t nb_inputs, int32_t nb_outputs) {
  DType t;
  if (nb_inputs != static_cast<int32_t>(Spec::kInputs.size()) || nb_outputs != 1) return false;
  if (pos < 0 || pos >= nb_inputs + nb_outputs) return false;
  const nv::PluginTensorDesc& desc = desc_of(in_out[pos]);
  if (desc.format != nv::TensorFormat::kLINEAR) return false;
  if (pos == 0) return to_dtype(desc.type, &t) && Spec::kDTypes.has(t);
  return desc.type == desc_of(in_out[0]).type;
}

// A size TensorRT may not know yet (-1 while building): unknown matches any.
struct Extent {
  int64_t v;
  bool operator==(Extent o) const { return v < 0 || o.v < 0 || v == o.v; }
  friend std::ostream& operator<<(std::ostream& os, Extent e) { return os << e.v; }
};
struct Shape {
  const nv::Dims* d;
  int rank;
  Extent operator[](int i) const { return {d->d[i]}; }
};

// The inputs' count, dtypes and shape relations, as far as they are known:
// "" or the reason.

template <class Spec, class Desc>
std::string check_inputs(const Desc* in, int32_t nb_inputs, int32_t nb_outputs) {
  constexpr std::size_t n = Spec::kInputs.size();
  if (nb_inputs != static_cast<int32_t>(n) || nb_outputs != 1)
    return "expected " + std::to_string(n) + " input(s) and 1 output, got " + std::to_string(nb_inputs) + " and " +
           std::to_string(nb_outputs);
  DType types[n];
  Shape shapes[n];
  for (std::size_t i = 0; i < n; ++i) {
    const nv::PluginTensorDesc& d = desc_of(in[i]);
    if (!to_dtype(d.type, &types[i]))
      return std::string(Spec::kInputs[i]) + " has unsupported TensorRT dtype " +
             std::to_string(static_cast<int>(d.type));
    shapes[i] = {&d.dims, d.dims.nbDims};
  }
  std::string err = check_dtypes<Spec>(types);
  return err.empty() ? check_shapes<Spec>(shapes) : err;
}

// ---- createPlugin, enqueue ------------------------------------------------------

// A new Plugin(attrs, extra...) from the attributes that read(attrs) fills;
// nullptr, the reason logged, when it returns one.
template <class Spec, class Plugin, class Read, class... Extra>
Plugin* create(const char* where, Read&& read, const Extra&... extra) noexcept {
  return guarded<Spec>(where, static_cast<Plugin*>(nullptr), [&]() -> Plugin* {
    AttrValues<Spec> attrs{};
    if (!passes<Spec>(read(attrs))) return nullptr;
    return new Plugin(attrs, extra...);
  });
}

template <class Spec>
int32_t run(const AttrValues<Spec>& attrs, const nv::PluginTensorDesc* input_desc, const void* const* inputs,
            void* const* outputs, cudaStream_t stream) noexcept {
  return guarded<Spec>("enqueue", int32_t{1}, [&]() -> int32_t {
    constexpr std::size_t n = Spec::kInputs.size();
    if (!passes<Spec>(check_inputs<Spec>(input_desc, n, 1))) return 1;
    int64_t extents[n][nv::Dims::MAX_DIMS];
    Args args{};
    for (std::size_t i = 0; i < n; ++i) {
      const nv::Dims& d = input_desc[i].dims;
      for (int32_t k = 0; k < d.nbDims; ++k) extents[i][k] = d.d[k];
      args.dims[i] = Dims{extents[i], d.nbDims};
      args.inputs[i] = inputs[i];
    }
    to_dtype(input_desc[0].type, &args.dtype);
    args.output = outputs[0];
    args.numel = args.dims[Spec::kOutput.like].numel();
    std::copy(attrs.begin(), attrs.end(), args.attrs);
    const char* err = Spec::cuda(args, stream);
    return passes<Spec>(err ? std::string("CUDA kernel launch failed: ") + err : "") ? 0 : 1;
  });
}

}  // namespace opforge::trt
