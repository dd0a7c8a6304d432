// The library's one exported symbol. It negotiates the API version with the
// runtime that loads it, so one binary serves ONNX Runtime 1.15 (Triton
// 23.05) as well as the newest release: ask for the newest version both the
// headers and the runtime know, fall back downwards, and stamp every op with
// the version obtained (a newer stamp makes an older runtime reject the op).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>

#include "onnxruntime/adapter.h"

namespace opforge::ort_adapter {
namespace {

constexpr int kMinApiVersion = 13;  // ONNX Runtime 1.13 (Triton 22.12)
#ifndef OPFORGE_ORT_MAX_API_VERSION  // set by the build; a release build caps it
#define OPFORGE_ORT_MAX_API_VERSION ORT_API_VERSION
#endif

const char* runtime_version(const OrtApiBase* base) {
  const char* v = base->GetVersionString ? base->GetVersionString() : nullptr;
  return v ? v : "unknown";
}

// "1.15.0" -> 15: for 1.x releases the API version is the minor version.
int runtime_api_version(const OrtApiBase* base) {
  const char* v = runtime_version(base);
  if (std::atoi(v) != 1) return ORT_API_VERSION;
  const char* dot = v;
  while (*dot && *dot != '.') ++dot;
  return *dot ? std::atoi(dot + 1) : ORT_API_VERSION;
}

std::mutex domain_mutex;
std::atomic<int> negotiated{0};  // the API version of the first registration, for good

// Session options keep a raw pointer to the domain, so it must outlive every
// one of them: one domain for the process, made at the first registration,
// shared by all later ones and never destroyed. A domain per registration
// would grow with every session a server creates.
Ort::CustomOpDomain& shared_domain(int version) {
  static auto* domain = [version] {
    auto* d = new Ort::CustomOpDomain(OPFORGE_NS_STR);
    for (OrtCustomOp* op : registry()) {
      op->version = static_cast<uint32_t>(version);
      d->Add(op);
    }
    negotiated.store(version, std::memory_order_relaxed);
    return d;
  }();
  return *domain;
}

}  // namespace

std::vector<OrtCustomOp*>& registry() {
  static std::vector<OrtCustomOp*> ops;
  return ops;
}

int api_version() { return negotiated.load(std::memory_order_relaxed); }

}  // namespace opforge::ort_adapter

extern "C" __attribute__((visibility("default"))) OrtStatus* ORT_API_CALL
RegisterCustomOps(OrtSessionOptions* options, const OrtApiBase* api_base) {
  using namespace opforge::ort_adapter;
  const int wanted = std::min({runtime_api_version(api_base), ORT_API_VERSION, OPFORGE_ORT_MAX_API_VERSION});
  int version = wanted;
  const OrtApi* api = nullptr;
  while (version >= kMinApiVersion && (api = api_base->GetApi(version)) == nullptr) --version;
  if (api == nullptr) {
    const OrtApi* v1 = api_base->GetApi(1);
    const std::string msg = std::string("opforge: ONNX Runtime ") + runtime_version(api_base) +
                            " offers none of API versions " + std::to_string(kMinApiVersion) +
                            ".." + std::to_string(wanted);
    return v1 ? v1->CreateStatus(ORT_FAIL, msg.c_str()) : nullptr;
  }
  try {
    std::lock_guard<std::mutex> lock(domain_mutex);
    // A second ONNX Runtime in one process (another version, or another copy
    // of the same: each has its own API table) is refused before it replaces
    // the table that the first one's kernels call through.
    if (api_version() != 0 && api != &Ort::GetApi())
      return api->CreateStatus(ORT_FAIL, ("opforge: registered with another ONNX Runtime in this process already (API " +
                                          std::to_string(api_version()) + "); this one, " + runtime_version(api_base) +
                                          ", offers API " + std::to_string(version)).c_str());
    Ort::InitApi(api);
    Ort::UnownedSessionOptions(options).Add(shared_domain(version));
  } catch (const Ort::Exception& e) {
    return api->CreateStatus(e.GetOrtErrorCode(), e.what());
  } catch (const std::exception& e) {
    return api->CreateStatus(ORT_FAIL, e.what());
  }
  return nullptr;
}
