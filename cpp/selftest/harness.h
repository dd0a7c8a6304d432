// The framework-free GPU self-test: each op's CUDA kernel against its own
// CPU kernel, on the same inputs, with nothing but the CUDA runtime.
//
// Every op takes part: adapter.h derives its cases from the op's spec and
// calls h.run(...) once per dtype and shape. The harness owns everything else:
// inputs (random, with NaN/Inf/zero where the dtype has them), a misaligned
// copy, sizes above 2^31 elements where memory allows, the comparison, the
// bandwidth next to cudaMemcpy, and the report.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "opforge/kernel_api.h"

namespace opforge::selftest {

using Inputs = std::vector<const void*>;
using CpuFn = std::function<void(const Inputs& in, void* out)>;
using CudaFn = std::function<const char*(const Inputs& in, void* out, Stream stream)>;

// One run: the element counts of the inputs and the output, and how to call
// the op. `shape` is how the report names the case, e.g. "1000003" or "4096x128".
struct Run {
  const char* op;
  DType dtype;
  std::string shape;
  std::vector<int64_t> inputs;  // elements per input (all of `dtype`)
  int64_t output;
  double tolerance = 0;  // 0: exact (NaN matches NaN); else relative and absolute
  bool integer_divisors = false;  // ints in [-1000, 1000] with zeros (modulo), not full range
  // Elements the op really reads and writes per call, for the bandwidth, when
  // that is not all of its inputs plus its output (zero_out reads one).
  int64_t moved_elements = 0;
};

class Harness {
 public:
  // Runs the case as given, then (when it has elements) again on inputs and
  // output that start one element past a 16-byte boundary.
  void run(const Run& r, const CpuFn& cpu, const CudaFn& cuda);
  // Like run(), for a case above 2^31 elements, when host and device memory
  // allow it; else reported as skipped.
  void run_huge(const Run& r, const CpuFn& cpu, const CudaFn& cuda);
  // Bandwidth: bytes read and written per second, median of repeated
  // launches, next to cudaMemcpy device-to-device of the same bytes.
  void bandwidth(const Run& r, const CudaFn& cuda);

  int failures() const { return failures_; }
  int passes() const { return passes_; }

 private:
  void run_once(const Run& r, const CpuFn& cpu, const CudaFn& cuda, int64_t offset, const char* note);
  void report(const Run& r, const char* note, const std::string& result);
  int failures_ = 0;
  int passes_ = 0;
};

// The CPU kernels' threads here (Args::parallel): the self-test is a tool of
// its own, so a plain split over std::threads.
void thread_parallel(void* pool, int64_t n, int64_t grain, void (*body)(void*, int64_t, int64_t), void* ctx);

// Each test runs twice: first its correctness cases (run, run_huge), then
// with `bandwidth` its bandwidth cases, so the report has one table of each.
using TestFn = void (*)(Harness&, bool bandwidth);
bool register_test(const char* op, TestFn fn);

}  // namespace opforge::selftest
