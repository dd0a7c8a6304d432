// The GPU self-test of an op spec: its CUDA kernel against its CPU kernel, for
// every dtype the spec allows, on the harness's standard shapes of input
// kOutput.like (flat, or [rows, cols] for an op with a last_axis relation);
// the other inputs follow the relations. The spec's kSelftest* members
// (op_spec.h's SpecBase) tune it.
#pragma once

#include <string>
#include <vector>

#include "opforge/op_spec.h"
#include "selftest/harness.h"

namespace opforge::selftest {

template <class Spec>
constexpr bool by_rows() {
  for (const Relation& r : Spec::kRelations)
    if (r.rule == Rule::kLastAxis) return true;
  return false;
}

// The standard shapes of an elementwise op: 0, 1, 31 and 1,000,003 elements;
// of an op over the last axis, [rows, cols] from one row or column to rows of
// 65537; then those of the bandwidth table; and one above 2^31 elements, the
// 32-bit index boundary.
using Shapes = std::vector<std::vector<int64_t>>;
inline Shapes shapes(bool rows) {
  if (rows) return {{0, 8}, {1, 1}, {1, 31}, {31, 1}, {1000003, 1}, {977, 1031}, {3, 8192}, {2, 65537}};
  return {{0}, {1}, {31}, {1000003}};
}
inline Shapes bandwidth_shapes(bool rows) {
  if (rows) return {{8192, 4096}, {65536, 1024}, {1048576, 128}};
  return {{int64_t{1} << 28}};
}
inline std::vector<int64_t> huge_shape(bool rows) {
  if (rows) return {(int64_t{1} << 21) + 3, 1024};  // 2^31 + 3072 elements
  return {(int64_t{1} << 31) + 1027};
}

// One case: every input's shape, and the call through Args.
template <class Spec>
struct Case {
  std::vector<std::vector<int64_t>> shapes;
  DType dtype;

  Case(DType t, const std::vector<int64_t>& like) : shapes(Spec::kInputs.size(), like), dtype(t) {
    for (const Relation& r : Spec::kRelations)
      if (r.rule == Rule::kLastAxis) shapes[r.a] = {like.back()};
  }

  Run run() const {
    Run r{Spec::kName, dtype, "", {}, numel(Spec::kOutput.like)};
    for (std::size_t i = 0; i < shapes.size(); ++i) r.inputs.push_back(numel(i));
    for (int64_t d : shapes[Spec::kOutput.like]) r.shape += (r.shape.empty() ? "" : "x") + std::to_string(d);
    r.tolerance = Spec::kSelftestTolerance[dtype == DType::kFloat16 ? 1 : 0];
    r.integer_divisors = Spec::kSelftestSmallInts;
    if (Spec::kSelftestReadsOneElement) r.moved_elements = r.output + 1;
    return r;
  }

  Dims dims(std::size_t i) const { return {shapes[i].data(), static_cast<int>(shapes[i].size())}; }
  int64_t numel(std::size_t i) const { return dims(i).numel(); }

  Args args(const Inputs& in, void* out) const {
    Args a{};
    a.dtype = dtype;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      a.inputs[i] = in[i];
      a.dims[i] = dims(i);
    }
    a.output = out;
    a.numel = numel(Spec::kOutput.like);
    a.parallel = &thread_parallel;
    for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i) {
      const double* given = Spec::kSelftestAttrs;
      a.attrs[i] = given ? given[i] : Spec::kAttrs[i].required() ? 0.75 : Spec::kAttrs[i].default_value;
    }
    return a;
  }

  CpuFn cpu() const {
    return [c = *this](const Inputs& in, void* out) { Spec::cpu(c.args(in, out)); };
  }
  CudaFn cuda() const {
    return [c = *this](const Inputs& in, void* out, Stream s) { return Spec::cuda(c.args(in, out), s); };
  }
};

template <class Spec>
void test(Harness& h, bool bandwidth) {
  constexpr bool rows = by_rows<Spec>();
  for (DType t : {DType::kFloat32, DType::kFloat16, DType::kInt32, DType::kInt64}) {
    if (!Spec::kDTypes.has(t)) continue;
    for (const auto& shape : bandwidth ? bandwidth_shapes(rows) : shapes(rows)) {
      const Case<Spec> c(t, shape);
      if (bandwidth) h.bandwidth(c.run(), c.cuda());
      else h.run(c.run(), c.cpu(), c.cuda());
    }
  }
  if (bandwidth) return;
  DType smallest = DType::kInt64;  // the huge case in the narrowest dtype
  for (DType t : {DType::kInt64, DType::kFloat32, DType::kInt32, DType::kFloat16})
    if (Spec::kDTypes.has(t)) smallest = t;
  const Case<Spec> huge(smallest, huge_shape(rows));
  h.run_huge(huge.run(), huge.cpu(), huge.cuda());
}

// An op without a CUDA kernel has nothing to test here.
template <class Spec>
bool register_op() {
  if constexpr (has_cuda<Spec>) return register_test(Spec::kName, &test<Spec>);
  return true;
}

}  // namespace opforge::selftest

#undef OPFORGE_REGISTER_OP
#define OPFORGE_REGISTER_OP(Spec) ::opforge::selftest::register_op<Spec>()
