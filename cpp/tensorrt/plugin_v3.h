// The generic IPluginV3 plugin and its IPluginCreatorV3One (TensorRT 10+).
// TensorRT owns serialization: it stores getFieldsToSerialize() in the engine
// and hands the fields back to createPlugin() when it deserializes.
#pragma once

#include "tensorrt/plugin_common.h"

#if NV_TENSORRT_MAJOR < 10
#error "plugin_v3.h needs TensorRT 10 or newer (use plugin_v2.h)"
#endif

namespace opforge::trt {

using CreatorBase = nv::IPluginCreatorInterface;

template <class Spec>
class Plugin final : public nv::IPluginV3,
                       public nv::IPluginV3OneCore,
                       public nv::IPluginV3OneBuild,
                       public nv::IPluginV3OneRuntime {
 public:
  explicit Plugin(const AttrValues<Spec>& attrs) : attrs_(attrs) {}
  Plugin(const Plugin&) = default;  // fields_ is rebuilt before each use
  Plugin& operator=(const Plugin&) = delete;

  // IPluginV3
  nv::IPluginCapability* getCapabilityInterface(nv::PluginCapabilityType type) noexcept override {
    switch (type) {
      case nv::PluginCapabilityType::kCORE: return static_cast<nv::IPluginV3OneCore*>(this);
      case nv::PluginCapabilityType::kBUILD: return static_cast<nv::IPluginV3OneBuild*>(this);
      case nv::PluginCapabilityType::kRUNTIME: return static_cast<nv::IPluginV3OneRuntime*>(this);
    }
    return nullptr;
  }

  nv::IPluginV3* clone() noexcept override {
    return guarded<Spec>("clone", static_cast<nv::IPluginV3*>(nullptr),
                         [&]() -> nv::IPluginV3* { return new Plugin(*this); });
  }

  // IPluginV3OneCore
  const char* getPluginName() const noexcept override { return plugin_name<Spec>(); }
  const char* getPluginVersion() const noexcept override { return kPluginVersion; }
  const char* getPluginNamespace() const noexcept override { return kPluginNamespace; }

  // IPluginV3OneBuild
  // Shapes and dtypes as far as the build knows them: a bad network fails to build.
  int32_t configurePlugin(const nv::DynamicPluginTensorDesc* in, int32_t nb_inputs,
                          const nv::DynamicPluginTensorDesc* /*out*/, int32_t nb_outputs) noexcept override {
    return guarded<Spec>("configurePlugin", -1, [&] {
      return passes<Spec>(check_inputs<Spec>(in, nb_inputs, nb_outputs)) ? 0 : -1;
    });
  }

  int32_t getOutputDataTypes(nv::DataType* output_types, int32_t nb_outputs,
                             const nv::DataType* input_types,
                             int32_t nb_inputs) const noexcept override {
    if (nb_inputs != static_cast<int32_t>(Spec::kInputs.size()) || nb_outputs != 1) return -1;
    output_types[0] = input_types[0];
    return 0;
  }

  int32_t getOutputShapes(const nv::DimsExprs* inputs, int32_t nb_inputs,
                          const nv::DimsExprs* /*shape_inputs*/, int32_t /*nb_shape_inputs*/,
                          nv::DimsExprs* outputs, int32_t nb_outputs,
                          nv::IExprBuilder& /*builder*/) noexcept override {
    if (nb_inputs != static_cast<int32_t>(Spec::kInputs.size()) || nb_outputs != 1) return -1;
    outputs[0] = inputs[Spec::kOutput.like];
    return 0;
  }

  bool supportsFormatCombination(int32_t pos, const nv::DynamicPluginTensorDesc* in_out,
                                 int32_t nb_inputs, int32_t nb_outputs) noexcept override {
    return guarded<Spec>("supportsFormatCombination", false, [&] {
      return supports_io<Spec>(pos, in_out, nb_inputs, nb_outputs);
    });
  }

  int32_t getNbOutputs() const noexcept override { return 1; }

  // IPluginV3OneRuntime
  int32_t onShapeChange(const nv::PluginTensorDesc* in, int32_t nb_inputs, const nv::PluginTensorDesc* /*out*/,
                        int32_t nb_outputs) noexcept override {
    return guarded<Spec>("onShapeChange", -1, [&] {
      return passes<Spec>(check_inputs<Spec>(in, nb_inputs, nb_outputs)) ? 0 : -1;
    });
  }

  int32_t enqueue(const nv::PluginTensorDesc* input_desc, const nv::PluginTensorDesc* /*output_desc*/,
                  const void* const* inputs, void* const* outputs, void* /*workspace*/,
                  cudaStream_t stream) noexcept override {
    return run<Spec>(attrs_, input_desc, inputs, outputs, stream);
  }

  nv::IPluginV3* attachToContext(nv::IPluginResourceContext* /*context*/) noexcept override {
    return clone();
  }

  const nv::PluginFieldCollection* getFieldsToSerialize() noexcept override {
    encode_attrs<Spec>(attrs_.data(), words_.data());
    describe_fields<Spec>(fields_, fc_, words_.data());
    return &fc_;
  }

 private:
  AttrValues<Spec> attrs_;
  std::array<char, 4 * Spec::kAttrs.size()> words_{};
  std::array<nv::PluginField, Spec::kAttrs.size()> fields_{};
  nv::PluginFieldCollection fc_{};
};

template <class Spec>
class Creator final : public nv::IPluginCreatorV3One {
 public:
  Creator() { describe_fields<Spec>(field_names_, fc_, nullptr); }

  const char* getPluginName() const noexcept override { return plugin_name<Spec>(); }
  const char* getPluginVersion() const noexcept override { return kPluginVersion; }
  const char* getPluginNamespace() const noexcept override { return kPluginNamespace; }
  const nv::PluginFieldCollection* getFieldNames() noexcept override { return &fc_; }

  // A missing, mistyped or out-of-range field logs the reason and returns nullptr.
  nv::IPluginV3* createPlugin(const char* /*name*/, const nv::PluginFieldCollection* fc,
                              nv::TensorRTPhase /*phase*/) noexcept override {
    return create<Spec, Plugin<Spec>>("createPlugin",
                                      [&](AttrValues<Spec>& attrs) { return parse_fields<Spec>(fc, attrs); });
  }

 private:
  std::array<nv::PluginField, Spec::kAttrs.size()> field_names_{};
  nv::PluginFieldCollection fc_{};
};

}  // namespace opforge::trt
