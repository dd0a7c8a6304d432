// opforge's stand-in for the two libnvinfer functions a plugin library calls,
// written against TensorRT's public interfaces (the headers the test is
// given): getPluginRegistry() returns a registry that records what it is
// handed, getLogger() a logger that keeps every message. The harness links
// it and reads both through standin.h. It is no part of TensorRT.
#include "standin.h"

#include <NvInferRuntime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace standin {
namespace nv = nvinfer1;

std::vector<Registration>& registrations() {
  static std::vector<Registration> all;
  return all;
}

std::vector<std::string>& messages() {
  static std::vector<std::string> all;
  return all;
}

std::vector<std::string>& refusals() {
  static std::vector<std::string> all;
  return all;
}

namespace {

class Logger final : public nv::ILogger {
 public:
  void log(Severity severity, nv::AsciiChar const* msg) noexcept override {
    messages().push_back(std::string(severity <= Severity::kERROR ? "E " : "W ") + msg);
  }
};

Registration* find(const char* name, const char* version, const char* ns) {
  for (Registration& r : registrations())
    if (r.name == name && r.version == version && r.ns == (ns ? ns : "")) return &r;
  return nullptr;
}

bool add(void* creator, const char* name, const char* version, const char* ns, int generation) {
  if (find(name, version, ns)) {
    refusals().push_back(std::string(ns ? ns : "") + "::" + name + " " + version);
    return false;
  }
  registrations().push_back({creator, name, version, ns ? ns : "", generation});
  return true;
}

bool remove(const void* creator) {
  auto& all = registrations();
  const auto it = std::find_if(all.begin(), all.end(), [&](const Registration& r) { return r.creator == creator; });
  if (it == all.end()) return false;
  all.erase(it);
  return true;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
bool add_v2(nv::IPluginCreator& c, const char* ns) { return add(&c, c.getPluginName(), c.getPluginVersion(), ns, 2); }

class Registry final : public nv::IPluginRegistry {
 public:
#if NV_TENSORRT_MAJOR < 11  // TensorRT 11's registry takes IPluginCreatorInterface only
  bool registerCreator(nv::IPluginCreator& c, nv::AsciiChar const* const ns) noexcept override {
    return add_v2(c, ns);
  }
  nv::IPluginCreator* const* getPluginCreatorList(int32_t* const n) const noexcept override {
    *n = 0;
    return nullptr;
  }
  nv::IPluginCreator* getPluginCreator(nv::AsciiChar const* const name, nv::AsciiChar const* const version,
                                       nv::AsciiChar const* const ns) noexcept override {
    Registration* r = find(name, version, ns);
    return r && r->generation == 2 ? static_cast<nv::IPluginCreator*>(r->creator) : nullptr;
  }
  bool deregisterCreator(nv::IPluginCreator const& c) noexcept override { return remove(&c); }
#endif
  void setErrorRecorder(nv::IErrorRecorder* const) noexcept override {}
  nv::IErrorRecorder* getErrorRecorder() const noexcept override { return nullptr; }
  bool isParentSearchEnabled() const override { return false; }
  void setParentSearchEnabled(bool const) override {}
  PluginLibraryHandle loadLibrary(nv::AsciiChar const*) noexcept override { return nullptr; }
  void deregisterLibrary(PluginLibraryHandle) noexcept override {}
#if NV_TENSORRT_MAJOR >= 10
  bool registerCreator(nv::IPluginCreatorInterface& c, nv::AsciiChar const* const ns) noexcept override {
    if (std::strcmp(c.getInterfaceInfo().kind, "PLUGIN CREATOR_V3ONE") != 0)
      return add_v2(static_cast<nv::IPluginCreator&>(c), ns);
    auto& v3 = static_cast<nv::IPluginCreatorV3One&>(c);
    return add(&c, v3.getPluginName(), v3.getPluginVersion(), ns, 3);
  }
  nv::IPluginCreatorInterface* const* getAllCreators(int32_t* const n) const noexcept override {
    *n = 0;
    return nullptr;
  }
  nv::IPluginCreatorInterface* getCreator(nv::AsciiChar const* const name, nv::AsciiChar const* const version,
                                          nv::AsciiChar const* const ns) noexcept override {
    Registration* r = find(name, version, ns);
    return r ? static_cast<nv::IPluginCreatorInterface*>(r->creator) : nullptr;
  }
  bool deregisterCreator(nv::IPluginCreatorInterface const& c) noexcept override { return remove(&c); }
  nv::IPluginResource* acquirePluginResource(nv::AsciiChar const*, nv::IPluginResource*) noexcept override {
    return nullptr;
  }
  int32_t releasePluginResource(nv::AsciiChar const*) noexcept override { return 0; }
  nv::IPluginCreatorInterface* const* getAllCreatorsRecursive(int32_t* const n) noexcept override {
    *n = 0;
    return nullptr;
  }
#endif
};
#pragma GCC diagnostic pop

}  // namespace
}  // namespace standin

extern "C" __attribute__((visibility("default"))) nvinfer1::IPluginRegistry* getPluginRegistry() noexcept {
  static standin::Registry registry;
  return &registry;
}

extern "C" __attribute__((visibility("default"))) nvinfer1::ILogger* getLogger() noexcept {
  static standin::Logger logger;
  return &logger;
}
