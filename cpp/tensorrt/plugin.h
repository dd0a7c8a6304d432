// What an op's tensorrt.cc includes: the plugin generation that the TensorRT
// headers in use call for, and the registration macro.
//
//   TensorRT >= 10: IPluginV3 (IPluginV3OneCore/Build/Runtime) + IPluginCreatorV3One
//   TensorRT 8.6:   IPluginV2DynamicExt + IPluginCreator
//
// Registration is static (REGISTER_TENSORRT_PLUGIN): the creators register
// themselves with TensorRT's global plugin registry when the library is
// loaded (LD_PRELOAD, ctypes.CDLL, dlopen), so the library exports nothing.
// Each creator reports plugin namespace OPFORGE_NS_STR and version "1".
#pragma once

#include <NvInferVersion.h>

#include "tensorrt/plugin_spec.h"

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

// One line per op, at namespace scope: OPFORGE_REGISTER_TENSORRT_PLUGIN(ClipSpec);
#define OPFORGE_REGISTER_TENSORRT_PLUGIN(Spec)                 \
  using Spec##TensorRTCreator = ::opforge::trt::Creator<Spec>; \
  REGISTER_TENSORRT_PLUGIN(Spec##TensorRTCreator)
