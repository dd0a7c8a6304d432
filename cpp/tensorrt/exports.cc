// The entry points TensorRT's own loader looks up (IPluginRegistry::loadLibrary,
// trtexec --dynamicPlugins, engines with setPluginsToSerialize): the only
// symbols libopforge_tensorrt.so exports (cpp/exports/tensorrt.map).
#include "tensorrt/plugin.h"

namespace opforge::trt {

nv::ILoggerFinder*& logger_finder() noexcept {
  static nv::ILoggerFinder* finder = nullptr;
  return finder;
}

std::vector<Registered>& creators() {
  static std::vector<Registered> all;
  return all;
}

namespace {

// TensorRT registers what the loader returns: the creators this library
// registered itself when dlopen ran its initialisers step aside first, so
// that each is registered once.
template <class Base>
Base* const* hand_over(int32_t& count) noexcept {
  static std::vector<Base*> list;
  list.clear();
  for (Registered& r : creators()) {
    if (r.by_library) r.by_library = !::getPluginRegistry()->deregisterCreator(*r.creator);
    list.push_back(static_cast<Base*>(r.creator));
  }
  count = static_cast<int32_t>(list.size());
  return list.data();
}

}  // namespace
}  // namespace opforge::trt

#define OPFORGE_EXPORT extern "C" __attribute__((visibility("default")))

OPFORGE_EXPORT void setLoggerFinder(nvinfer1::ILoggerFinder* finder) { opforge::trt::logger_finder() = finder; }

#if NV_TENSORRT_MAJOR >= 10
OPFORGE_EXPORT nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& count) {
  return opforge::trt::hand_over<nvinfer1::IPluginCreatorInterface>(count);
}
#else
OPFORGE_EXPORT nvinfer1::IPluginCreator* const* getPluginCreators(int32_t& count) {
  return opforge::trt::hand_over<nvinfer1::IPluginCreator>(count);
}
#endif
