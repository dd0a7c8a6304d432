// A libtorch-only TorchScript host, as Triton's PyTorch backend is: no
// libpython, no libtorch_python. It proves that opforge's torch library
// registers and runs its ops in such a process.
//
//   opforge_libtorch_loader LIBRARY MODULE
//
// LIBRARY: libopforge_torch.so, dlopen()ed with RTLD_NOW | RTLD_GLOBAL (what
//   LD_PRELOAD does for Triton's backend).
// MODULE: a TorchScript module saved by torch.jit.save, whose forward is
//   forward(x, lo: float, hi: float, z, a, b, r, w, eps: float)
//     -> (clip(x, lo, hi), zero_out(z), modulo(a, b), rms_norm(r, w, eps))
//
// Prints one JSON line on stdout: the inputs and outputs of each run (so the
// caller can compute references from exactly these inputs), which ops the
// dispatcher knew before and after dlopen, the error the module gave when run
// before dlopen, whether Python's C API is visible in the process, and which
// shared objects it had mapped (from /proc/self/maps) once the module had run.
// Exits 1 with a message on stderr on any error.

#include <dlfcn.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/script.h>
#include <torch/version.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char* const kOps[] = {"clip", "zero_out", "modulo", "rms_norm"};

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// NaN and +-Infinity as Python's json module reads them.
std::string number(double v, const char* format) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[40];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    default: return c10::toString(t);
  }
}

// {"dtype": ..., "shape": [...], "data": [flat, row-major]}
std::string tensor_json(const at::Tensor& tensor) {
  const at::Tensor t = tensor.cpu().contiguous();
  std::ostringstream out;
  out << "{\"dtype\": " << quoted(dtype_name(t.scalar_type())) << ", \"shape\": [";
  for (int64_t d = 0; d < t.dim(); ++d) out << (d ? ", " : "") << t.size(d);
  out << "], \"data\": [";
  const int64_t n = t.numel();
  if (t.is_floating_point()) {
    // %.9g round-trips every float32 (and so every float16) exactly.
    const at::Tensor f = t.to(at::kDouble);
    const double* p = f.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i) out << (i ? ", " : "") << number(p[i], "%.9g");
  } else {
    const at::Tensor l = t.to(at::kLong);
    const int64_t* p = l.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) out << (i ? ", " : "") << p[i];
  }
  out << "]}";
  return out.str();
}

// Deterministic values, the same on every run and platform.
struct Values {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  uint64_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  }
  at::Tensor floats(std::vector<int64_t> shape, at::ScalarType dtype, double scale = 3.0) {
    at::Tensor t = torch::empty(shape, at::kFloat);
    float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i)
      p[i] = static_cast<float>((static_cast<double>(next() % 2000001) / 1000000.0 - 1.0) * scale);
    return t.to(dtype);
  }
  at::Tensor ints(std::vector<int64_t> shape, at::ScalarType dtype, int64_t lo, int64_t hi) {
    at::Tensor t = torch::empty(shape, at::kLong);
    int64_t* p = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < t.numel(); ++i)
      p[i] = lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
    return t.to(dtype);
  }
};

void set_flat(at::Tensor& t, int64_t i, double v) { t.view({-1})[i].fill_(v); }

struct Run {
  std::string name;
  at::Tensor x, z, a, b, r, w;
  double lo, hi, eps;
};

std::vector<Run> make_runs() {
  Values v;
  std::vector<Run> runs;
  {
    // float32 floats, int64 zero_out; NaN and the bounds pass through clip,
    // zero and negative divisors for modulo.
    Run run{"float32", v.floats({3, 5}, at::kFloat), v.ints({2, 3, 4}, at::kLong, -1000, 1000),
            v.floats({7}, at::kFloat, 8.0), v.floats({7}, at::kFloat), v.floats({4, 16}, at::kFloat),
            v.floats({16}, at::kFloat), -1.5, 2.0, 1e-5};
    set_flat(run.x, 0, std::numeric_limits<double>::quiet_NaN());
    set_flat(run.x, 1, -1.5);
    set_flat(run.x, 2, 2.0);
    set_flat(run.b, 0, 0.0);
    set_flat(run.b, 1, -1.0);
    set_flat(run.a, 2, -7.0);
    set_flat(run.b, 2, 3.0);
    runs.push_back(run);
  }
  {
    // float16 floats, int32 zero_out and modulo, with x % 0 and INT32_MIN % -1.
    Run run{"float16_int32", v.floats({4, 4}, at::kHalf), v.ints({7}, at::kInt, -1000, 1000),
            v.ints({3, 5}, at::kInt, -1000, 1000), v.ints({3, 5}, at::kInt, -20, 20),
            v.floats({2, 3, 8}, at::kHalf), v.floats({8}, at::kHalf), -0.5, 0.75, 1e-5};
    set_flat(run.b, 0, 0);
    set_flat(run.a, 1, std::numeric_limits<int32_t>::min());
    set_flat(run.b, 1, -1);
    set_flat(run.a, 2, -7);
    set_flat(run.b, 2, 3);
    runs.push_back(run);
  }
  return runs;
}

std::string registered_ops() {
  std::ostringstream out;
  out << "[";
  bool first = true;
  for (const char* op : kOps) {
    const std::string name = std::string("opforge::") + op;
    if (c10::Dispatcher::singleton().findSchema({name, ""}).has_value()) {
      out << (first ? "" : ", ") << quoted(op);
      first = false;
    }
  }
  return out.str() + "]";
}

// Basenames of the shared objects in /proc/self/maps, sorted.
std::set<std::string> mapped_objects() {
  std::set<std::string> found;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string base = path.substr(path.rfind('/') + 1);
    if (base.find(".so") != std::string::npos) found.insert(base);
  }
  return found;
}

int run(const std::string& library, const std::string& module_path) {
  std::ostringstream json;
  json << "{\"torch_version\": " << quoted(TORCH_VERSION);
  json << ", \"registered_before_dlopen\": " << registered_ops();

  // Negative control: without the library the module loads (TorchScript
  // resolves ops lazily) but cannot run.
  std::string run_error;
  try {
    const Run r = make_runs().front();
    torch::jit::load(module_path).forward({r.x, r.lo, r.hi, r.z, r.a, r.b, r.r, r.w, r.eps});
  } catch (const std::exception& e) {
    // The first non-empty line: TorchScript's messages start with a newline.
    std::istringstream lines(e.what());
    while (std::getline(lines, run_error) && run_error.find_first_not_of(" \t") == std::string::npos) {
    }
  }
  json << ", \"error_before_dlopen\": " << quoted(run_error);

  if (!dlopen(library.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
    std::cerr << "dlopen(" << library << ") failed: " << dlerror() << "\n";
    return 1;
  }
  json << ", \"registered_after_dlopen\": " << registered_ops();

  torch::jit::Module module = torch::jit::load(module_path);
  module.eval();
  torch::NoGradGuard no_grad;

  json << ", \"runs\": [";
  bool first_run = true;
  for (const Run& r : make_runs()) {
    const c10::IValue out = module.forward({r.x, r.lo, r.hi, r.z, r.a, r.b, r.r, r.w, r.eps});
    const auto outputs = out.toTuple()->elements();
    if (outputs.size() != 4) {
      std::cerr << "the module returned " << outputs.size() << " values, expected 4\n";
      return 1;
    }
    json << (first_run ? "" : ", ") << "{\"name\": " << quoted(r.name) << ", \"attrs\": {\"lo\": "
         << number(r.lo, "%.17g") << ", \"hi\": " << number(r.hi, "%.17g")
         << ", \"epsilon\": " << number(r.eps, "%.17g") << "}, \"inputs\": {\"x\": "
         << tensor_json(r.x) << ", \"z\": " << tensor_json(r.z) << ", \"a\": " << tensor_json(r.a)
         << ", \"b\": " << tensor_json(r.b) << ", \"r\": " << tensor_json(r.r)
         << ", \"w\": " << tensor_json(r.w) << "}, \"outputs\": {";
    for (size_t i = 0; i < 4; ++i)
      json << (i ? ", " : "") << quoted(kOps[i]) << ": " << tensor_json(outputs[i].toTensor());
    json << "}}";
    first_run = false;
  }
  json << "]";

  // After the ops ran: everything they needed is mapped by now.
  json << ", \"mapped_objects\": [";
  bool first = true;
  for (const std::string& name : mapped_objects()) {
    json << (first ? "" : ", ") << quoted(name);
    first = false;
  }
  json << "]";
  json << ", \"python_symbols_visible\": "
       << (dlsym(RTLD_DEFAULT, "Py_IsInitialized") || dlsym(RTLD_DEFAULT, "PyObject_GetAttr")
               ? "true" : "false");
  json << "}";
  std::cout << json.str() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " LIBRARY MODULE\n";
    return 2;
  }
  try {
    return run(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
