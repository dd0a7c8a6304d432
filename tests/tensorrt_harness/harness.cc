// Drives the real libopforge_tensorrt.so the way TensorRT does, without
// TensorRT: it is linked against the stand-in libnvinfer (standin_nvinfer.cc)
// and loaded here with dlopen. Every op spec of the build is checked through
// TensorRT's interfaces only: registration, fields, createPlugin, clone,
// serialization, formats, shapes, configure, and (with a GPU) enqueue against
// the op's CPU kernel. Then TensorRT's loader route: setLoggerFinder and
// getCreators / getPluginCreators.
//
//   harness LIBRARY NAMESPACE     prints "ok <check>" / "FAIL <check>: why"; exit 1 on any FAIL
#include <NvInferRuntime.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "opforge/config.h"
#include "opforge/half.h"
#include "standin.h"

namespace harness {
using TestFn = void (*)();
std::vector<TestFn>& tests() {
  static std::vector<TestFn> all;
  return all;
}
}  // namespace harness

#define OPFORGE_REGISTER_OP(Spec) ::harness::register_test<Spec>()
#include "opforge/op_spec.h"

namespace harness {
namespace nv = nvinfer1;
using opforge::Attr;
using opforge::AttrType;
using opforge::DType;

constexpr int kMaxTensors = opforge::kMaxInputs + 1;
int failures = 0;
std::string ns;
bool gpu = false;

void expect(bool ok, const std::string& check, const std::string& why = "") {
  std::printf("%s %s%s\n", ok ? "ok" : "FAIL", check.c_str(), ok || why.empty() ? "" : (": " + why).c_str());
  failures += !ok;
}

// The last error logged since `mark`, or "".
std::string logged_since(std::size_t mark) {
  auto& m = standin::messages();
  for (std::size_t i = m.size(); i > mark; --i)
    if (m[i - 1].rfind("E ", 0) == 0) return m[i - 1];
  return "";
}

template <class Spec>
std::string plugin_name() {
  const auto n = opforge::camel_name<opforge::str_len(OPFORGE_PREFIX) + opforge::str_len(Spec::kName)>(
      OPFORGE_PREFIX, Spec::kName);
  return n.data();
}

#if NV_TENSORRT_MAJOR >= 10
using Creator = nv::IPluginCreatorV3One;
using Plugin = nv::IPluginV3;
#else
using Creator = nv::IPluginCreator;
using Plugin = nv::IPluginV2DynamicExt;
#endif

template <class D, class = void>
struct HasInt64 : std::false_type {};
template <class D>
struct HasInt64<D, std::void_t<decltype(D::kINT64)>> : std::true_type {};

bool opforge_dtype(nv::DataType t, DType* out) {
  switch (static_cast<int>(t)) {
    case static_cast<int>(nv::DataType::kFLOAT): *out = DType::kFloat32; return true;
    case static_cast<int>(nv::DataType::kHALF): *out = DType::kFloat16; return true;
    case static_cast<int>(nv::DataType::kINT32): *out = DType::kInt32; return true;
    case 8: *out = DType::kInt64; return HasInt64<nv::DataType>::value;  // kINT64 where the headers have it
    default: return false;
  }
}

// A field set: 4 bytes per value, as TensorRT hands them over.
struct Fields {
  std::vector<std::string> names;
  std::vector<nv::PluginFieldType> types;
  std::vector<double> values;
  std::vector<std::array<char, 8>> data;
  std::vector<nv::PluginField> fields;
  nv::PluginFieldCollection fc{};

  void add(const char* name, nv::PluginFieldType type, double v) {
    names.push_back(name);
    types.push_back(type);
    values.push_back(v);
  }
  const nv::PluginFieldCollection* get() {
    data.assign(names.size(), {});
    fields.clear();
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (types[i] == nv::PluginFieldType::kINT32) {  // each value converted only to its own type
        const auto k = static_cast<int32_t>(values[i]);
        std::memcpy(data[i].data(), &k, 4);
      } else {
        const float f = static_cast<float>(values[i]);
        std::memcpy(data[i].data(), &f, 4);
      }
      fields.emplace_back(names[i].c_str(), data[i].data(), types[i], 1);
    }
    fc.nbFields = static_cast<int32_t>(fields.size());
    fc.fields = fields.data();
    return &fc;
  }
};

// A valid value for each attribute: its default, else 0.5 kept in range.
template <class Spec>
Fields valid_fields() {
  Fields f;
  for (const Attr& a : Spec::kAttrs) {
    double v = a.required() ? 0.5 : a.default_value;
    if (a.bounded()) v = std::fmin(std::fmax(v, a.min), a.max);
    f.add(a.name, a.type == AttrType::kFloat ? nv::PluginFieldType::kFLOAT32 : nv::PluginFieldType::kINT32, v);
  }
  return f;
}

template <class Spec>
Plugin* create(Creator* c, const nv::PluginFieldCollection* fc) {
#if NV_TENSORRT_MAJOR >= 10
  return c->createPlugin(plugin_name<Spec>().c_str(), fc, nv::TensorRTPhase::kBUILD);
#else
  return static_cast<Plugin*>(c->createPlugin(plugin_name<Spec>().c_str(), fc));
#endif
}

void destroy(Plugin* p) {
#if NV_TENSORRT_MAJOR >= 10
  delete p;
#else
  p->destroy();
#endif
}

#if NV_TENSORRT_MAJOR >= 10
nv::IPluginV3OneBuild* build(Plugin* p) {
  return static_cast<nv::IPluginV3OneBuild*>(p->getCapabilityInterface(nv::PluginCapabilityType::kBUILD));
}
nv::IPluginV3OneRuntime* runtime(Plugin* p) {
  return static_cast<nv::IPluginV3OneRuntime*>(p->getCapabilityInterface(nv::PluginCapabilityType::kRUNTIME));
}
#endif

// Input shapes that satisfy the spec's relations (x [2, 3, 8]), or break the first one.
template <class Spec>
std::vector<nv::Dims> shapes(bool broken) {
  std::vector<nv::Dims> s(Spec::kInputs.size());
  for (auto& d : s) {
    d.nbDims = 3;
    d.d[0] = 2, d.d[1] = 3, d.d[2] = 8;
  }
  for (const opforge::Relation& r : Spec::kRelations) {
    if (r.rule == opforge::Rule::kLastAxis) {
      s[r.a].nbDims = 1;
      s[r.a].d[0] = s[r.b].d[s[r.b].nbDims - 1];
    }
  }
  if (broken && !Spec::kRelations.empty()) {
    const auto& r = Spec::kRelations[0];
    s[r.a].d[0] += 1;
  }
  return s;
}

std::vector<nv::PluginTensorDesc> descs(const std::vector<nv::Dims>& in, nv::DataType t) {
  std::vector<nv::PluginTensorDesc> d(in.size() + 1);
  for (std::size_t i = 0; i <= in.size(); ++i) {
    d[i].dims = in[i < in.size() ? i : 0];
    d[i].type = t;
    d[i].format = nv::TensorFormat::kLINEAR;
    d[i].scale = 1.f;
  }
  return d;
}

std::vector<nv::DynamicPluginTensorDesc> dynamic(const std::vector<nv::PluginTensorDesc>& d, bool unknown_batch) {
  std::vector<nv::DynamicPluginTensorDesc> out(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[i].desc = d[i];
    out[i].min = out[i].max = d[i].dims;
    if (unknown_batch && out[i].desc.dims.nbDims > 1) out[i].desc.dims.d[0] = -1;
  }
  return out;
}

nv::DataType first_dtype(const opforge::DTypes& types) {
  return types.has(DType::kFloat32) ? nv::DataType::kFLOAT
         : types.has(DType::kFloat16) ? nv::DataType::kHALF
                                      : nv::DataType::kINT32;
}

template <class Spec>
void check_shapes_and_formats(Plugin* p) {
  const std::string op = plugin_name<Spec>();
  const int n = static_cast<int>(Spec::kInputs.size());
  const nv::DataType t = first_dtype(Spec::kDTypes);
  // supportsFormatCombination over every dtype value the headers know, for input 0.
  bool formats_ok = true;
  std::string why, taken;
  for (int v = 0; v < nv::EnumMax<nv::DataType>(); ++v) {
    auto d = descs(shapes<Spec>(false), static_cast<nv::DataType>(v));
    DType mapped;
    const bool want = opforge_dtype(static_cast<nv::DataType>(v), &mapped) && Spec::kDTypes.has(mapped);
#if NV_TENSORRT_MAJOR >= 10
    auto dd = dynamic(d, false);
    const bool got = build(p)->supportsFormatCombination(0, dd.data(), n, 1);
#else
    const bool got = p->supportsFormatCombination(0, d.data(), n, 1);
#endif
    if (got != want) formats_ok = false, why += " dtype " + std::to_string(v) + (got ? " taken" : " refused");
    if (got) taken += std::string(taken.empty() ? "" : ", ") + opforge::dtype_name(mapped);
  }
  expect(formats_ok, op + " supportsFormatCombination over every DataType: takes " + taken, why);
  {  // other tensors follow input 0; a non-linear format is refused
    auto d = descs(shapes<Spec>(false), t);
    auto other = d;
    other[n].type = t == nv::DataType::kFLOAT ? nv::DataType::kHALF : nv::DataType::kFLOAT;
    other[0].format = nv::TensorFormat::kCHW32;
#if NV_TENSORRT_MAJOR >= 10
    auto dd = dynamic(d, false), od = dynamic(other, false);
    const bool same = build(p)->supportsFormatCombination(n, dd.data(), n, 1);
    const bool mixed = build(p)->supportsFormatCombination(n, od.data(), n, 1);
    const bool chw = build(p)->supportsFormatCombination(0, od.data(), n, 1);
#else
    const bool same = p->supportsFormatCombination(n, d.data(), n, 1);
    const bool mixed = p->supportsFormatCombination(n, other.data(), n, 1);
    const bool chw = p->supportsFormatCombination(0, other.data(), n, 1);
#endif
    expect(same && !mixed && !chw, op + " output takes input 0's dtype, linear format only");
  }
  // Output shape and dtype with dynamic dims: the expressions of input kOutput.like, as given.
  std::vector<nv::DimsExprs> in(n);
  for (int i = 0; i < n; ++i) {
    in[i].nbDims = 2;
    for (int k = 0; k < 2; ++k) in[i].d[k] = reinterpret_cast<const nv::IDimensionExpr*>(0x1000 + 16 * (2 * i + k));
  }
  nv::DimsExprs out{};
  struct NoBuilder : nv::IExprBuilder {} builder;  // the plugin builds no expression: it is never called
#if NV_TENSORRT_MAJOR >= 10
  nv::DataType types[kMaxTensors] = {}, out_type{};
  for (int i = 0; i < n; ++i) types[i] = t;
  const bool shaped = build(p)->getOutputShapes(in.data(), n, nullptr, 0, &out, 1, builder) == 0 &&
                      build(p)->getOutputDataTypes(&out_type, 1, types, n) == 0 && out_type == t;
#else
  nv::DataType types[kMaxTensors] = {};
  for (int i = 0; i < n; ++i) types[i] = t;
  out = p->getOutputDimensions(0, in.data(), n, builder);
  const bool shaped = p->getOutputDataType(0, types, n) == t;
#endif
  const auto& like = in[Spec::kOutput.like];
  expect(shaped && out.nbDims == like.nbDims && out.d[0] == like.d[0] && out.d[1] == like.d[1],
         op + " output shape: input " + Spec::kInputs[Spec::kOutput.like] + "'s, dynamic dims kept");
}

template <class Spec>
void check_configure_and_enqueue(Plugin* p) {
  const std::string op = plugin_name<Spec>();
  const int n = static_cast<int>(Spec::kInputs.size());
  const nv::DataType t = first_dtype(Spec::kDTypes);
  auto good = descs(shapes<Spec>(false), t), bad = descs(shapes<Spec>(true), t);
  auto good_dyn = dynamic(good, true), bad_dyn = dynamic(bad, false);
  const std::size_t mark = standin::messages().size();
#if NV_TENSORRT_MAJOR >= 10
  expect(build(p)->configurePlugin(good_dyn.data(), n, good_dyn.data() + n, 1) == 0,
         op + " configurePlugin accepts good shapes with a dynamic dim");
  expect(build(p)->configurePlugin(good_dyn.data(), n - 1 < 0 ? 0 : n - 1, good_dyn.data() + n, 1) != 0,
         op + " configurePlugin refuses a wrong input count");
  if (!Spec::kRelations.empty()) {
    expect(build(p)->configurePlugin(bad_dyn.data(), n, bad_dyn.data() + n, 1) != 0 && !logged_since(mark).empty(),
           op + " configurePlugin refuses shapes that break its relations", logged_since(mark));
    expect(runtime(p)->onShapeChange(bad.data(), n, bad.data() + n, 1) != 0,
           op + " onShapeChange refuses shapes that break its relations");
  }
  expect(runtime(p)->onShapeChange(good.data(), n, good.data() + n, 1) == 0, op + " onShapeChange accepts good shapes");
  auto enqueue = [&](std::vector<nv::PluginTensorDesc>& d, const void* const* in, void* const* out) {
    return runtime(p)->enqueue(d.data(), d.data() + n, in, out, nullptr, nullptr);
  };
#else
  p->configurePlugin(good_dyn.data(), n, good_dyn.data() + n, 1);
  expect(logged_since(mark).empty(), op + " configurePlugin accepts good shapes with a dynamic dim", logged_since(mark));
  if (!Spec::kRelations.empty()) {
    p->configurePlugin(bad_dyn.data(), n, bad_dyn.data() + n, 1);  // void in 8.6: it can only log
    expect(!logged_since(mark).empty(), op + " configurePlugin logs shapes that break its relations");
  }
  auto enqueue = [&](std::vector<nv::PluginTensorDesc>& d, const void* const* in, void* const* out) {
    return p->enqueue(d.data(), d.data() + n, in, out, nullptr, nullptr);
  };
#endif
  if (!Spec::kRelations.empty()) {
    const void* nulls[8] = {};
    void* out[1] = {};
    expect(enqueue(bad, nulls, out) != 0, op + " enqueue refuses bad shapes before touching memory");
  }
  if (!gpu) return;
  // On the GPU: every dtype the spec allows, against the op's CPU kernel.
  for (nv::DataType dt : {nv::DataType::kFLOAT, nv::DataType::kHALF, nv::DataType::kINT32}) {
    DType d;
    if (!opforge_dtype(dt, &d) || !Spec::kDTypes.has(d)) continue;
    auto desc = descs(shapes<Spec>(false), dt);
    const std::size_t es = d == DType::kFloat16 ? 2 : 4;
    std::vector<std::vector<char>> host(n);
    std::vector<void*> dev(n + 1, nullptr);
    opforge::Args args{};
    std::vector<std::vector<int64_t>> dims(n);
    for (int i = 0; i < n; ++i) {
      int64_t count = 1;
      for (int k = 0; k < desc[i].dims.nbDims; ++k) count *= desc[i].dims.d[k], dims[i].push_back(desc[i].dims.d[k]);
      host[i].resize(count * es);
      for (int64_t k = 0; k < count; ++k) {
        const float v = static_cast<float>((k * 7 + i * 3) % 11) - 4.5f;
        if (d == DType::kFloat32) std::memcpy(&host[i][k * es], &v, 4);
        else if (d == DType::kFloat16) { const uint16_t h = opforge::float_to_half(v); std::memcpy(&host[i][k * es], &h, 2); }
        else { const int32_t k32 = static_cast<int32_t>(v * 2) + (i ? 3 : 0); std::memcpy(&host[i][k * es], &k32, 4); }
      }
      cudaMalloc(&dev[i], host[i].size() + 1);
      cudaMemcpy(dev[i], host[i].data(), host[i].size(), cudaMemcpyHostToDevice);
      args.inputs[i] = host[i].data();
      args.dims[i] = {dims[i].data(), static_cast<int>(dims[i].size())};
    }
    const std::size_t out_bytes = host[Spec::kOutput.like].size();
    std::vector<char> expected(out_bytes), actual(out_bytes);
    cudaMalloc(&dev[n], out_bytes + 1);
    args.dtype = d;
    args.output = expected.data();
    args.numel = static_cast<int64_t>(out_bytes / es);
    Fields f = valid_fields<Spec>();
    for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) args.attrs[i] = f.values[i];
    Spec::cpu(args);
    const int rc = enqueue(desc, const_cast<const void* const*>(dev.data()), dev.data() + n);
    cudaDeviceSynchronize();
    cudaMemcpy(actual.data(), dev[n], out_bytes, cudaMemcpyDeviceToHost);
    bool close = true;
    for (std::size_t k = 0; k < out_bytes / es && close; ++k) {
      double a, e;
      if (d == DType::kFloat16) {
        uint16_t ha, he;
        std::memcpy(&ha, &actual[k * es], 2), std::memcpy(&he, &expected[k * es], 2);
        a = opforge::half_to_float(ha), e = opforge::half_to_float(he);
      } else if (d == DType::kFloat32) {
        float fa, fe;
        std::memcpy(&fa, &actual[k * es], 4), std::memcpy(&fe, &expected[k * es], 4);
        a = fa, e = fe;
      } else {
        int32_t ia, ie;
        std::memcpy(&ia, &actual[k * es], 4), std::memcpy(&ie, &expected[k * es], 4);
        a = ia, e = ie;
      }
      close = std::fabs(a - e) <= 2e-3 * (1 + std::fabs(e)) || (std::isnan(a) && std::isnan(e));
    }
    for (void* ptr : dev) cudaFree(ptr);
    expect(rc == 0 && close, op + " enqueue on the GPU matches the CPU kernel, " + opforge::dtype_name(d),
           "rc " + std::to_string(rc));
  }
}

template <class Spec>
void test() {
  const std::string op = plugin_name<Spec>();
  // Registration: under the plugin's own namespace, found by name, version, namespace.
  const standin::Registration* reg = nullptr;
  for (const auto& r : standin::registrations())
    if (r.name == op) reg = &r;
  expect(reg && reg->ns == ns && reg->version == "1",
         op + " registered under namespace '" + ns + "'", reg ? "namespace argument '" + reg->ns + "'" : "absent");
#if NV_TENSORRT_MAJOR >= 10
  auto* found = getPluginRegistry()->getCreator(op.c_str(), "1", ns.c_str());
  auto* c = found ? static_cast<Creator*>(found) : nullptr;
#else
  auto* c = getPluginRegistry()->getPluginCreator(op.c_str(), "1", ns.c_str());
#endif
  expect(c != nullptr, op + " found by getCreator(name, \"1\", \"" + ns + "\")");
  if (!c) return;
  expect(op == c->getPluginName() && std::string("1") == c->getPluginVersion() && ns == c->getPluginNamespace(),
         op + " creator reports name, version 1, namespace " + ns);
  const nv::PluginFieldCollection* names = c->getFieldNames();
  bool fields_ok = names && names->nbFields == static_cast<int32_t>(Spec::kAttrs.size());
  for (std::size_t i = 0; fields_ok && i < Spec::kAttrs.size(); ++i)
    fields_ok = std::string(names->fields[i].name) == Spec::kAttrs[i].name &&
                names->fields[i].type == (Spec::kAttrs[i].type == AttrType::kFloat ? nv::PluginFieldType::kFLOAT32
                                                                                    : nv::PluginFieldType::kINT32);
  expect(fields_ok, op + " getFieldNames lists the spec's attributes and types");

  Fields f = valid_fields<Spec>();
  Plugin* p = create<Spec>(c, f.get());
  expect(p != nullptr, op + " createPlugin with valid fields");
  if (!p) return;
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) {
    const Attr& a = Spec::kAttrs[i];
    auto refused = [&](Fields g, const std::string& what) {
      const std::size_t mark = standin::messages().size();
      Plugin* q = create<Spec>(c, g.get());
      const std::string err = logged_since(mark);
      expect(q == nullptr && err.find(a.name) != std::string::npos, op + " createPlugin refuses " + what,
             q ? "accepted" : "no logged reason");
      if (q) destroy(q);
    };
    if (a.required()) {
      Fields g = f;
      g.names.erase(g.names.begin() + i), g.types.erase(g.types.begin() + i), g.values.erase(g.values.begin() + i);
      refused(g, std::string("a missing '") + a.name + "'");
    }
    Fields wrong = f;
    wrong.types[i] = nv::PluginFieldType::kCHAR;
    refused(wrong, std::string("a mistyped '") + a.name + "'");
    if (a.bounded()) {
      Fields out = f;
      out.values[i] = a.min > -opforge::kInf ? a.min - 1 : a.max + 1;
      refused(out, std::string("an out-of-range '") + a.name + "'");
      out.values[i] = NAN;
      refused(out, std::string("a NaN '") + a.name + "'");
    }
  }

#if NV_TENSORRT_MAJOR >= 10
  Plugin* copy = p->clone();
  expect(copy != nullptr, op + " clone");
  auto* core = static_cast<nv::IPluginV3OneCore*>(copy->getCapabilityInterface(nv::PluginCapabilityType::kCORE));
  expect(core && op == core->getPluginName() && ns == core->getPluginNamespace(), op + " clone reports its name");
  // TensorRT 10 serializes the fields it gets from getFieldsToSerialize.
  const nv::PluginFieldCollection* saved = runtime(copy)->getFieldsToSerialize();
  Plugin* back = c->createPlugin(op.c_str(), saved, nv::TensorRTPhase::kRUNTIME);
  bool same = back != nullptr;
  const nv::PluginFieldCollection* again = same ? runtime(back)->getFieldsToSerialize() : nullptr;
  for (int i = 0; same && i < saved->nbFields; ++i)
    same = std::memcmp(saved->fields[i].data, again->fields[i].data, 4) == 0;
  expect(same, op + " fields round trip through getFieldsToSerialize and createPlugin");
  delete back;
  delete copy;
#else
  nv::IPluginV2DynamicExt* copy = p->clone();
  expect(copy != nullptr && op == copy->getPluginType() && ns == copy->getPluginNamespace(), op + " clone");
  std::vector<char> buf(copy->getSerializationSize());
  copy->serialize(buf.data());
  auto* back = static_cast<Plugin*>(c->deserializePlugin(op.c_str(), buf.data(), buf.size()));
  std::vector<char> buf2(back ? back->getSerializationSize() : 0);
  if (back) back->serialize(buf2.data());
  expect(back && buf == buf2, op + " serialize / deserializePlugin round trip");
  if (back) back->destroy();
  std::vector<char> longer = buf;
  longer.push_back(0);
  auto* bad = c->deserializePlugin(op.c_str(), longer.data(), longer.size());
  auto* shorter = buf.empty() ? nullptr : c->deserializePlugin(op.c_str(), buf.data(), buf.size() - 1);
  expect(!bad && !shorter, op + " deserializePlugin refuses truncated and overlong buffers");
  for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) {
    if (!Spec::kAttrs[i].bounded()) continue;
    std::vector<char> corrupt = buf;
    const float nan = NAN;
    std::memcpy(corrupt.data() + 4 * i, &nan, 4);
    auto* q = c->deserializePlugin(op.c_str(), corrupt.data(), corrupt.size());
    expect(q == nullptr, op + " deserializePlugin refuses a corrupt '" + Spec::kAttrs[i].name + "'");
    if (q) q->destroy();
  }
  copy->destroy();
#endif
  check_shapes_and_formats<Spec>(p);
  check_configure_and_enqueue<Spec>(p);
  destroy(p);
}

// An op without a CUDA kernel has no plugin (tensorrt/plugin.h): nothing to test.
template <class Spec>
bool register_test() {
  if constexpr (opforge::has_cuda<Spec>) tests().push_back(&test<Spec>);
  return true;
}

}  // namespace harness

#include OPFORGE_HARNESS_SPECS  // every spec of the build: their OPFORGE_OP lines add test<Spec>

namespace harness {

class Finder final : public nv::ILoggerFinder {
 public:
  nv::ILogger* findLogger() override { return getLogger(); }
};

}  // namespace harness

int main(int argc, char** argv) {
  using namespace harness;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s LIBRARY NAMESPACE\n", argv[0]);
    return 64;
  }
  ns = argv[2];
  int count = 0;
  gpu = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  std::printf("harness: TensorRT %d.%d headers, %s\n", NV_TENSORRT_MAJOR, NV_TENSORRT_MINOR,
              gpu ? "GPU present: enqueue runs" : "no GPU: enqueue checked for refusals only");
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::printf("FAIL dlopen: %s\n", dlerror());
    return 1;
  }
  expect(standin::registrations().size() == tests().size(),
         "the library registered one creator per op (" + std::to_string(tests().size()) + ")",
         std::to_string(standin::registrations().size()) + " registered");
  for (TestFn t : tests()) t();

  // TensorRT's loader route: the same creators, each registered once.
  using SetFinder = void (*)(nvinfer1::ILoggerFinder*);
  auto set_finder = reinterpret_cast<SetFinder>(dlsym(lib, "setLoggerFinder"));
#if NV_TENSORRT_MAJOR >= 10
  using GetCreators = nvinfer1::IPluginCreatorInterface* const* (*)(int32_t&);
  auto get = reinterpret_cast<GetCreators>(dlsym(lib, "getCreators"));
  const char* entry = "getCreators";
#else
  using GetCreators = nvinfer1::IPluginCreator* const* (*)(int32_t&);
  auto get = reinterpret_cast<GetCreators>(dlsym(lib, "getPluginCreators"));
  const char* entry = "getPluginCreators";
#endif
  expect(set_finder && get, std::string("exports setLoggerFinder and ") + entry);
  if (set_finder && get) {
    static Finder finder;
    set_finder(&finder);
    int32_t n = 0;
    auto* list = get(n);
    expect(list && n == static_cast<int32_t>(tests().size()) && standin::registrations().empty(),
           std::string(entry) + " hands over every creator, withdrawn from the registry first",
           std::to_string(n) + " handed, " + std::to_string(standin::registrations().size()) + " still registered");
    bool all_in = true;
    for (int32_t i = 0; i < n; ++i)
#if NV_TENSORRT_MAJOR >= 10
      all_in &= getPluginRegistry()->registerCreator(*list[i], ns.c_str());
#else
      all_in &= getPluginRegistry()->registerCreator(*list[i], ns.c_str());
#endif
    expect(all_in && standin::refusals().empty(), "the loader registers them without duplicates");
  }
  std::printf("harness: %d failed\n", failures);
  return failures ? 1 : 0;
}
