// The generic TensorRT adapter: from an op spec, the plugin generation that
// the TensorRT headers in use call for.
//
//   TensorRT >= 10: IPluginV3 (IPluginV3OneCore/Build/Runtime) + IPluginCreatorV3One
//   TensorRT 8.6:   IPluginV2DynamicExt + IPluginCreator
//
// Two ways in, both under plugin namespace OPFORGE_NS_STR, the namespace each
// creator reports (so that getCreator(name, "1", OPFORGE_NS_STR) and engines
// that name it find it):
//   - loaded by dlopen (LD_PRELOAD, Triton's tensorrt plugins= option,
//     ctypes): each creator registers itself with the global registry;
//   - loaded by TensorRT (loadLibrary, trtexec --dynamicPlugins,
//     version-compatible engines): through the exported getCreators (10+) /
//     getPluginCreators (8.6) and setLoggerFinder (exports.cc).
#pragma once

#include <NvInferVersion.h>

#include <vector>

// Each defines Plugin<Spec>, Creator<Spec> and CreatorBase for its generation.
#if NV_TENSORRT_MAJOR >= 10
#include "tensorrt/plugin_v3.h"
#else
#include "tensorrt/plugin_v2.h"
#endif

namespace opforge::trt {

// Every creator of the library, and whether it registered itself.
struct Registered {
  CreatorBase* creator;
  bool by_library;
};
std::vector<Registered>& creators();

// A creator another copy of this library (or another library) registered
// under the same name, version and namespace stays: a second registration
// would fail in TensorRT with an error. An op without a CUDA kernel has no
// plugin: TensorRT runs plugins on the GPU.
template <class Spec>
bool register_plugin() {
  if constexpr (has_cuda<Spec>) {
    static Creator<Spec> creator;
#if NV_TENSORRT_MAJOR < 10
    const bool taken = ::getPluginRegistry()->getPluginCreator(plugin_name<Spec>(), kPluginVersion, kPluginNamespace);
#else
    const bool taken = ::getPluginRegistry()->getCreator(plugin_name<Spec>(), kPluginVersion, kPluginNamespace);
#endif
    const bool by_library = !taken && ::getPluginRegistry()->registerCreator(creator, kPluginNamespace);
    creators().push_back({&creator, by_library});
  }
  return true;
}

}  // namespace opforge::trt

#undef OPFORGE_REGISTER_OP
#define OPFORGE_REGISTER_OP(Spec) ::opforge::trt::register_plugin<Spec>()
