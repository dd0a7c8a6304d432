// The generic TensorRT adapter: from an op spec, the plugin generation that
// the TensorRT headers in use call for, registered when the library loads.
//
//   TensorRT >= 10: IPluginV3 (IPluginV3OneCore/Build/Runtime) + IPluginCreatorV3One
//   TensorRT 8.6:   IPluginV2DynamicExt + IPluginCreator
//
// Each creator registers itself with TensorRT's global plugin registry when
// the library is loaded (LD_PRELOAD, ctypes.CDLL, dlopen), under plugin
// namespace OPFORGE_NS_STR: the namespace it reports, so that
// getCreator(name, "1", OPFORGE_NS_STR) and engines that name it find it.
#pragma once

#include <NvInferVersion.h>

#if NV_TENSORRT_MAJOR >= 10
#include "tensorrt/plugin_v3.h"
namespace opforge::trt {
template <class Spec>
using Creator = CreatorV3<Spec>;
}  // namespace opforge::trt
#else
#include "tensorrt/plugin_v2.h"
namespace opforge::trt {
template <class Spec>
using Creator = CreatorV2<Spec>;
}  // namespace opforge::trt
#endif

namespace opforge::trt {

template <class Spec>
bool register_plugin() {
  static Creator<Spec> creator;
#if NV_TENSORRT_MAJOR < 10
  creator.setPluginNamespace(kPluginNamespace);
#endif
  ::getPluginRegistry()->registerCreator(creator, kPluginNamespace);
  return true;
}

}  // namespace opforge::trt

#define OPFORGE_TRT_CONCAT_(a, b) a##b
#define OPFORGE_TRT_CONCAT(a, b) OPFORGE_TRT_CONCAT_(a, b)
#undef OPFORGE_REGISTER_OP
#define OPFORGE_REGISTER_OP(Spec)                                                               \
  [[maybe_unused]] static const bool OPFORGE_TRT_CONCAT(opforge_registered_, __COUNTER__) = \
      ::opforge::trt::register_plugin<Spec>();
