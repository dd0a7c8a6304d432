// opforge's GPU self-test (see harness.h). Needs a driver and the CUDA
// runtime it is linked with, nothing else: no framework, no Python.
//
//   <namespace>_selftest [--no-huge] [--no-bandwidth]
//   exit 0: every case matched; 1: a mismatch or a CUDA error; 2: no usable CUDA device
#include "harness.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "selftest/host_data.h"

namespace opforge::selftest {
namespace {

struct {
  bool huge = true, bandwidth = true;
} options;  // set once, from the command line

std::vector<std::pair<std::string, TestFn>>& registry() {
  static std::vector<std::pair<std::string, TestFn>> tests;
  return tests;
}

struct CudaError {
  std::string what;
};
void ok(cudaError_t e, const char* call) {
  if (e != cudaSuccess) throw CudaError{std::string(call) + ": " + cudaGetErrorString(e)};
}

struct DeviceBuffer {
  void* p = nullptr;
  explicit DeviceBuffer(size_t bytes) { ok(cudaMalloc(&p, std::max<size_t>(bytes, 1)), "cudaMalloc"); }
  ~DeviceBuffer() { cudaFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

struct Event {
  cudaEvent_t e = nullptr;
  Event() { ok(cudaEventCreate(&e), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(e); }
};

struct StreamHolder {
  cudaStream_t s = nullptr;
  StreamHolder() { ok(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~StreamHolder() { cudaStreamDestroy(s); }
};

// The inputs of `r`, filled on the host (seeds `seed`, `seed` + 1, ...) and
// copied to the device, each `offset` elements past the start of its buffer.
// keep_host false: each host copy goes once uploaded (bandwidth shapes take
// GiBs; then `host` and `hin` are empty).
// Host buffers are left uninitialized: each is written in full before it is
// read, and zeroing GiBs first would fault every page in on one core.
using HostBuffer = std::unique_ptr<char[]>;
HostBuffer host_buffer(size_t bytes) { return HostBuffer(new char[bytes]); }

struct Uploaded {
  std::vector<HostBuffer> host;
  std::vector<std::unique_ptr<DeviceBuffer>> device;
  Inputs hin, din;
};
Uploaded upload(const Run& r, uint64_t seed, int64_t offset, bool specials, bool keep_host = true) {
  const size_t es = dtype_size(r.dtype);
  Uploaded u;
  for (size_t k = 0; k < r.inputs.size(); ++k) {
    const int64_t n = r.inputs[k];
    HostBuffer host = host_buffer(static_cast<size_t>(n) * es);
    fill(r.dtype, host.get(), n, seed + k, r, specials);
    u.device.push_back(std::make_unique<DeviceBuffer>((n + offset) * es));
    char* d = static_cast<char*>(u.device.back()->p) + offset * es;
    ok(cudaMemcpy(d, host.get(), n * es, cudaMemcpyHostToDevice), "cudaMemcpy");
    u.din.push_back(d);
    if (!keep_host) continue;  // `host` goes at the end of this iteration
    u.hin.push_back(host.get());
    u.host.push_back(std::move(host));
  }
  return u;
}

int64_t mem_available_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string key, unit;
  int64_t kb;
  while (f >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1u << 30));
  return buf;
}

}  // namespace

void thread_parallel(void*, int64_t n, int64_t grain, void (*body)(void*, int64_t, int64_t), void* ctx) {
  split_over_cores(n, grain, [=](int64_t begin, int64_t end) { body(ctx, begin, end); });
}

bool register_test(const char* op, TestFn fn) {
  registry().emplace_back(op, fn);
  return true;
}

void Harness::report(const Run& r, const char* note, const std::string& result) {
  std::printf("  %-10s %-8s %-24s %-10s %s\n", r.op, dtype_name(r.dtype), (r.shape + note).c_str(),
              result.rfind("ok", 0) == 0 ? "ok" : (result.rfind("skipped", 0) == 0 ? "skipped" : "FAILED"),
              result.rfind("ok", 0) == 0 ? result.substr(2).c_str() : result.c_str());
  std::fflush(stdout);
}

void Harness::run_once(const Run& r, const CpuFn& cpu, const CudaFn& cuda, int64_t offset, const char* note) {
  const size_t es = dtype_size(r.dtype);
  const bool specials = r.tolerance == 0;  // a NaN would make every tolerant (reducing) case NaN
  std::string result;
  try {
    StreamHolder stream;
    const Uploaded in = upload(r, 1000, offset, specials);
    const HostBuffer expected = host_buffer(r.output * es), actual = host_buffer(r.output * es);
    DeviceBuffer dout((r.output + offset) * es);
    char* out = static_cast<char*>(dout.p) + offset * es;
    ok(cudaMemset(dout.p, 0xff, (r.output + offset) * es), "cudaMemset");
    cpu(in.hin, expected.get());
    if (const char* err = cuda(in.din, out, stream.s)) throw CudaError{std::string("kernel launch: ") + err};
    ok(cudaStreamSynchronize(stream.s), "kernel");
    ok(cudaMemcpy(actual.get(), out, r.output * es, cudaMemcpyDeviceToHost), "cudaMemcpy");
    result = compare(r.dtype, expected.get(), actual.get(), r.output, r.tolerance);
    if (result.empty()) result = r.tolerance ? "ok  (within " + std::to_string(r.tolerance).substr(0, 7) + ")" : "ok  (exact)";
  } catch (const CudaError& e) {
    result = e.what;
    cudaGetLastError();  // a sticky error stays; a launch error is cleared for the next case
  }
  report(r, note, result);
  (result.rfind("ok", 0) == 0 ? passes_ : failures_)++;
}

void Harness::run(const Run& r, const CpuFn& cpu, const CudaFn& cuda) {
  run_once(r, cpu, cuda, 0, "");
  if (r.output > 0) run_once(r, cpu, cuda, 1, " misaligned");
}

void Harness::run_huge(const Run& r, const CpuFn& cpu, const CudaFn& cuda) {
  const size_t es = dtype_size(r.dtype);
  const int64_t elements = std::accumulate(r.inputs.begin(), r.inputs.end(), r.output);
  const double device_bytes = static_cast<double>(elements) * es;
  const double host_bytes = device_bytes + static_cast<double>(r.output) * es;
  size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  if (!options.huge) {
    report(r, "", "skipped (--no-huge)");
    return;
  }
  if (device_bytes > 0.9 * free_b || host_bytes > 0.8 * mem_available_bytes()) {
    report(r, "", "skipped (needs " + gib(device_bytes) + " on the GPU, " + gib(free_b) + " free; " +
                      gib(host_bytes) + " host, " + gib(mem_available_bytes()) + " available)");
    return;
  }
  run_once(r, cpu, cuda, 0, "");
}

void Harness::bandwidth(const Run& r, const CudaFn& cuda) {
  const size_t es = dtype_size(r.dtype);
  const int64_t elements = r.moved_elements ? r.moved_elements
                                            : std::accumulate(r.inputs.begin(), r.inputs.end(), r.output);
  const size_t bytes = static_cast<size_t>(elements) * es;
  try {
    StreamHolder stream;
    const Uploaded in = upload(r, 2000, 0, false, false);
    DeviceBuffer out(r.output * es), copy_src(bytes / 2), copy_dst(bytes / 2);
    const Event start, stop;
    auto median_ms = [&](const std::function<void()>& launch) {
      std::vector<float> ms;
      for (int i = 0; i < 23; ++i) {
        ok(cudaEventRecord(start.e, stream.s), "cudaEventRecord");
        launch();
        ok(cudaEventRecord(stop.e, stream.s), "cudaEventRecord");
        ok(cudaEventSynchronize(stop.e), "kernel");
        float t = 0;
        ok(cudaEventElapsedTime(&t, start.e, stop.e), "cudaEventElapsedTime");
        if (i >= 3) ms.push_back(t);  // the first launches warm up
      }
      std::sort(ms.begin(), ms.end());
      return static_cast<double>(ms[ms.size() / 2]);
    };
    const double op_ms = median_ms([&] {
      if (const char* err = cuda(in.din, out.p, stream.s)) throw CudaError{err};
    });
    // A copy of half the bytes reads and writes as many bytes as the op does.
    const double copy_ms = median_ms([&] {
      ok(cudaMemcpyAsync(copy_dst.p, copy_src.p, bytes / 2, cudaMemcpyDeviceToDevice, stream.s), "cudaMemcpyAsync");
    });
    const double op_gbs = bytes / op_ms / 1e6, copy_gbs = bytes / copy_ms / 1e6;
    std::printf("  %-10s %-8s %-20s %9.1f %12.1f %8.2f\n", r.op, dtype_name(r.dtype), r.shape.c_str(), op_gbs,
                copy_gbs, op_gbs / copy_gbs);
  } catch (const CudaError& e) {
    std::printf("  %-10s %-8s %-20s FAILED %s\n", r.op, dtype_name(r.dtype), r.shape.c_str(), e.what.c_str());
    failures_++;
  }
  std::fflush(stdout);
}

}  // namespace opforge::selftest

int main(int argc, char** argv) {
  using namespace opforge::selftest;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--no-huge")) options.huge = false;
    else if (!std::strcmp(argv[i], "--no-bandwidth")) options.bandwidth = false;
    else {
      std::fprintf(stderr, "usage: %s [--no-huge] [--no-bandwidth]\n", argv[0]);
      return 64;
    }
  }
  int runtime = 0, driver = 0, count = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    std::printf("opforge selftest: no CUDA device (%s; CUDA runtime %d.%d, driver %s)\n",
                e != cudaSuccess ? cudaGetErrorString(e) : "no device found", runtime / 1000,
                (runtime % 1000) / 10,
                driver ? (std::to_string(driver / 1000) + "." + std::to_string((driver % 1000) / 10)).c_str()
                       : "none");
    return 2;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  std::printf("opforge selftest: %s (sm_%d%d, %d SMs, %.0f GiB), CUDA runtime %d.%d, driver %d.%d\n", prop.name,
              prop.major, prop.minor, prop.multiProcessorCount, prop.totalGlobalMem / double(1u << 30),
              runtime / 1000, (runtime % 1000) / 10, driver / 1000, (driver % 1000) / 10);
  std::printf("  %-10s %-8s %-24s %-10s %s\n", "op", "dtype", "case", "result", "detail");

  auto tests = registry();
  std::sort(tests.begin(), tests.end());
  Harness h;
  for (auto& [op, fn] : tests) fn(h, false);
  if (options.bandwidth) {
    std::printf("\n  bandwidth: GB/s read + written, median of 20 launches, next to cudaMemcpy device-to-device"
                " of the same bytes\n");
    std::printf("  %-10s %-8s %-20s %9s %12s %8s\n", "op", "dtype", "shape", "GB/s", "memcpy GB/s", "ratio");
    for (auto& [op, fn] : tests) fn(h, true);
  }
  std::printf("\nopforge selftest: %d cases passed, %d failed\n", h.passes(), h.failures());
  return h.failures() ? 1 : 0;
}
