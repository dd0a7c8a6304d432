// The generic IPluginV3 plugin and its IPluginCreatorV3One (TensorRT 10+).
// TensorRT owns serialization: it stores getFieldsToSerialize() in the engine
// and hands the fields back to createPlugin() when it deserializes.
#pragma once

#include "tensorrt/plugin_common.h"

#if NV_TENSORRT_MAJOR < 10
#error "plugin_v3.h needs TensorRT 10 or newer (use plugin_v2.h)"
#endif

namespace opforge::trt {

template <class Spec>
class PluginV3 final : public nv::IPluginV3,
                       public nv::IPluginV3OneCore,
                       public nv::IPluginV3OneBuild,
                       public nv::IPluginV3OneRuntime {
 public:
  explicit PluginV3(const AttrValues<Spec>& attrs) : attrs_(attrs) {}
  PluginV3(const PluginV3&) = default;  // fields_ is rebuilt before each use
  PluginV3& operator=(const PluginV3&) = delete;
  ~PluginV3() override = default;

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
                         [&]() -> nv::IPluginV3* { return new PluginV3(*this); });
  }

  // IPluginV3OneCore
  const char* getPluginName() const noexcept override { return plugin_name<Spec>(); }
  const char* getPluginVersion() const noexcept override { return kPluginVersion; }
  const char* getPluginNamespace() const noexcept override { return kPluginNamespace; }

  // IPluginV3OneBuild
  int32_t configurePlugin(const nv::DynamicPluginTensorDesc* /*in*/, int32_t nb_inputs,
                          const nv::DynamicPluginTensorDesc* /*out*/,
                          int32_t nb_outputs) noexcept override {
    return check_io_count<Spec>(nb_inputs, nb_outputs) ? 0 : -1;
  }

  int32_t getOutputDataTypes(nv::DataType* output_types, int32_t nb_outputs,
                             const nv::DataType* input_types,
                             int32_t nb_inputs) const noexcept override {
    if (!check_io_count<Spec>(nb_inputs, nb_outputs)) return -1;
    output_types[0] = input_types[0];
    return 0;
  }

  int32_t getOutputShapes(const nv::DimsExprs* inputs, int32_t nb_inputs,
                          const nv::DimsExprs* /*shape_inputs*/, int32_t /*nb_shape_inputs*/,
                          nv::DimsExprs* outputs, int32_t nb_outputs,
                          nv::IExprBuilder& /*builder*/) noexcept override {
    if (!check_io_count<Spec>(nb_inputs, nb_outputs)) return -1;
    outputs[0] = inputs[0];
    return 0;
  }

  bool supportsFormatCombination(int32_t pos, const nv::DynamicPluginTensorDesc* in_out,
                                 int32_t nb_inputs, int32_t nb_outputs) noexcept override {
    return guarded<Spec>("supportsFormatCombination", false, [&] {
      return supports_io<Spec>(pos, in_out[pos].desc, in_out[0].desc, nb_inputs, nb_outputs);
    });
  }

  int32_t getNbOutputs() const noexcept override { return 1; }

  // IPluginV3OneRuntime
  int32_t onShapeChange(const nv::PluginTensorDesc* /*in*/, int32_t nb_inputs,
                        const nv::PluginTensorDesc* /*out*/, int32_t nb_outputs) noexcept override {
    return check_io_count<Spec>(nb_inputs, nb_outputs) ? 0 : -1;
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
    for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i)
      fields_[i] = nv::PluginField(Spec::kAttrs[i].name, &attrs_[i], nv::PluginFieldType::kFLOAT32, 1);
    fc_.nbFields = static_cast<int32_t>(fields_.size());
    fc_.fields = fields_.data();
    return &fc_;
  }

 private:
  AttrValues<Spec> attrs_;
  std::array<nv::PluginField, Spec::kAttrs.size()> fields_{};
  nv::PluginFieldCollection fc_{};
};

template <class Spec>
class CreatorV3 final : public nv::IPluginCreatorV3One {
 public:
  CreatorV3() { field_names<Spec>(field_names_, fc_); }

  const char* getPluginName() const noexcept override { return plugin_name<Spec>(); }
  const char* getPluginVersion() const noexcept override { return kPluginVersion; }
  const char* getPluginNamespace() const noexcept override { return kPluginNamespace; }
  const nv::PluginFieldCollection* getFieldNames() noexcept override { return &fc_; }

  // A missing required field logs the reason and returns nullptr.
  nv::IPluginV3* createPlugin(const char* /*name*/, const nv::PluginFieldCollection* fc,
                              nv::TensorRTPhase /*phase*/) noexcept override {
    return guarded<Spec>("createPlugin", static_cast<nv::IPluginV3*>(nullptr),
                         [&]() -> nv::IPluginV3* {
                           AttrValues<Spec> attrs{};
                           const std::string err = parse_fields<Spec>(fc, attrs);
                           if (!err.empty()) {
                             log_error(err);
                             return nullptr;
                           }
                           return new PluginV3<Spec>(attrs);
                         });
  }

 private:
  std::array<nv::PluginField, Spec::kAttrs.size()> field_names_{};
  nv::PluginFieldCollection fc_{};
};

}  // namespace opforge::trt
