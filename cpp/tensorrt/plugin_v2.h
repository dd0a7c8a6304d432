// The generic IPluginV2DynamicExt plugin and its IPluginCreator, for TensorRT
// before 10 (8.6: Triton 23.05). The plugin serializes its attributes itself:
// 4 bytes per attribute (float32 or int32), in kAttrs order.
#pragma once

#include "tensorrt/plugin_common.h"

#if NV_TENSORRT_MAJOR >= 10
#error "plugin_v2.h is for TensorRT before 10 (use plugin_v3.h)"
#endif

// TensorRT 8.6 marks IPluginV2 and IPluginV2Ext [[deprecated]] in favour of
// IPluginV3, which 8.6 does not have yet; IPluginCreator's overrides must
// still name IPluginV2. This header is only compiled against TensorRT < 10.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace opforge::trt {

using CreatorBase = nv::IPluginCreator;

template <class Spec>
class Plugin final : public nv::IPluginV2DynamicExt {
 public:
  Plugin(const AttrValues<Spec>& attrs, const std::string& ns) : attrs_(attrs), namespace_(ns) {}
  Plugin(const Plugin&) = default;
  Plugin& operator=(const Plugin&) = delete;

  // IPluginV2
  const char* getPluginType() const noexcept override { return plugin_name<Spec>(); }
  const char* getPluginVersion() const noexcept override { return kPluginVersion; }
  int32_t getNbOutputs() const noexcept override { return 1; }
  int32_t initialize() noexcept override { return 0; }
  void terminate() noexcept override {}

  size_t getSerializationSize() const noexcept override { return 4 * attrs_.size(); }

  void serialize(void* buffer) const noexcept override { encode_attrs<Spec>(attrs_.data(), static_cast<char*>(buffer)); }

  void destroy() noexcept override { delete this; }

  void setPluginNamespace(const char* ns) noexcept override {
    guarded<Spec>("setPluginNamespace", 0, [&] {
      namespace_ = ns == nullptr ? "" : ns;
      return 0;
    });
  }

  const char* getPluginNamespace() const noexcept override { return namespace_.c_str(); }

  // IPluginV2Ext
  nv::DataType getOutputDataType(int32_t /*index*/, const nv::DataType* input_types,
                                 int32_t nb_inputs) const noexcept override {
    return nb_inputs > 0 ? input_types[0] : nv::DataType::kFLOAT;
  }

  // IPluginV2DynamicExt
  nv::IPluginV2DynamicExt* clone() const noexcept override {
    return guarded<Spec>("clone", static_cast<nv::IPluginV2DynamicExt*>(nullptr),
                         [&]() -> nv::IPluginV2DynamicExt* { return new Plugin(*this); });
  }

  nv::DimsExprs getOutputDimensions(int32_t /*output_index*/, const nv::DimsExprs* inputs,
                                    int32_t nb_inputs,
                                    nv::IExprBuilder& /*builder*/) noexcept override {
    // No error return here: a wrong input count is reported by
    // supportsFormatCombination (no format fits) and configurePlugin.
    if (nb_inputs != static_cast<int32_t>(Spec::kInputs.size())) return nv::DimsExprs{};
    return inputs[Spec::kOutput.like];
  }

  bool supportsFormatCombination(int32_t pos, const nv::PluginTensorDesc* in_out, int32_t nb_inputs,
                                 int32_t nb_outputs) noexcept override {
    return guarded<Spec>("supportsFormatCombination", false, [&] {
      return supports_io<Spec>(pos, in_out, nb_inputs, nb_outputs);
    });
  }

  // IPluginV2DynamicExt's configurePlugin cannot fail: a wrong input is
  // logged here, and enqueue refuses it.
  void configurePlugin(const nv::DynamicPluginTensorDesc* in, int32_t nb_inputs,
                       const nv::DynamicPluginTensorDesc* /*out*/, int32_t nb_outputs) noexcept override {
    guarded<Spec>("configurePlugin", false, [&] { return passes<Spec>(check_inputs<Spec>(in, nb_inputs, nb_outputs)); });
  }

  size_t getWorkspaceSize(const nv::PluginTensorDesc* /*inputs*/, int32_t /*nb_inputs*/,
                          const nv::PluginTensorDesc* /*outputs*/,
                          int32_t /*nb_outputs*/) const noexcept override {
    return 0;
  }

  int32_t enqueue(const nv::PluginTensorDesc* input_desc, const nv::PluginTensorDesc* /*output_desc*/,
                  const void* const* inputs, void* const* outputs, void* /*workspace*/,
                  cudaStream_t stream) noexcept override {
    return run<Spec>(attrs_, input_desc, inputs, outputs, stream);
  }

 private:
  // The implicit-batch overloads that IPluginV2DynamicExt retires (final there).
  using nv::IPluginV2::enqueue;
  using nv::IPluginV2::getOutputDimensions;
  using nv::IPluginV2::getWorkspaceSize;
  using nv::IPluginV2Ext::configurePlugin;

  AttrValues<Spec> attrs_;
  std::string namespace_;
};

template <class Spec>
class Creator final : public nv::IPluginCreator {
 public:
  Creator() { describe_fields<Spec>(field_names_, fc_, nullptr); }

  const char* getPluginName() const noexcept override { return plugin_name<Spec>(); }
  const char* getPluginVersion() const noexcept override { return kPluginVersion; }
  const nv::PluginFieldCollection* getFieldNames() noexcept override { return &fc_; }

  // A missing, mistyped or out-of-range field logs the reason and returns nullptr.
  nv::IPluginV2* createPlugin(const char* /*name*/, const nv::PluginFieldCollection* fc) noexcept override {
    return create<Spec, Plugin<Spec>>(
        "createPlugin", [&](AttrValues<Spec>& attrs) { return parse_fields<Spec>(fc, attrs); }, namespace_);
  }

  nv::IPluginV2* deserializePlugin(const char* /*name*/, const void* data, size_t length) noexcept override {
    return create<Spec, Plugin<Spec>>(
        "deserializePlugin", [&](AttrValues<Spec>& attrs) { return decode_attrs<Spec>(data, length, attrs.data()); },
        namespace_);
  }

  void setPluginNamespace(const char* ns) noexcept override {
    guarded<Spec>("setPluginNamespace", 0, [&] {
      namespace_ = ns == nullptr ? "" : ns;
      return 0;
    });
  }

  const char* getPluginNamespace() const noexcept override { return namespace_.c_str(); }

 private:
  std::array<nv::PluginField, Spec::kAttrs.size()> field_names_{};
  nv::PluginFieldCollection fc_{};
  std::string namespace_ = kPluginNamespace;
};

}  // namespace opforge::trt

#pragma GCC diagnostic pop
