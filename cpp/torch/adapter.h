// The generic torch adapter: from an op spec, the schema
// "<name>(Tensor x, ..., float lo, ...) -> Tensor" and boxed kernels for CPU,
// CUDA (when built), Meta (fake tensors, opcheck, torch.compile) and Autograd.
// Uses <torch/library.h> + <ATen/ATen.h> only: torch's Python-extension
// header would tie the library to libpython, which Triton's libtorch process
// does not have.
#pragma once

#ifdef _OPENMP
// at::parallel_for's OpenMP calls bind to libtorch's own runtime, whatever
// its file is named (pip wheels rename it), through libtorch_cpu's
// dependencies at load time: weak, so that no OpenMP library is linked here.
// (GCC emits these calls as builtins: only the assembler's .weak reaches them.)
__asm__(".weak GOMP_parallel\n\t.weak omp_get_num_threads\n\t.weak omp_get_thread_num");
#endif

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/functions/basic_ops.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/library.h>
#include <torch/version.h>

#include <memory>
#include <ostream>
#include <string>
#include <type_traits>

#include "opforge/config.h"
#include "opforge/op_spec.h"

#if OPFORGE_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace opforge::torch_adapter {

inline bool to_dtype(at::ScalarType s, DType* out) {
  switch (s) {
    case at::kFloat: *out = DType::kFloat32; return true;
    case at::kHalf: *out = DType::kFloat16; return true;
    case at::kInt: *out = DType::kInt32; return true;
    case at::kLong: *out = DType::kInt64; return true;
    default: return false;
  }
}

// torch's intra-op threads (at::parallel_for: torch.set_num_threads, OpenMP).
inline void parallel(void*, int64_t n, int64_t grain, void (*body)(void*, int64_t, int64_t), void* ctx) {
  at::parallel_for(0, n, grain, [&](int64_t begin, int64_t end) { body(ctx, begin, end); });
}

template <class Spec>
std::string schema() {
  std::string s = std::string(Spec::kName) + "(";
  for (const char* name : Spec::kInputs) s += std::string(s.back() == '(' ? "" : ", ") + "Tensor " + name;
  for (const Attr& a : Spec::kAttrs) {
    s += std::string(", ") + (a.type == AttrType::kFloat ? "float " : "int ") + a.name;
    if (!a.required()) s += "=" + number(a.default_value);
  }
  return s + ") -> Tensor";
}

// One size as the spec's checks compare it; symbolic under fake tensors. A
// data-dependent size (a[a > 0]) cannot be guarded on: from torch 2.1 the
// equality is expected true and checked when the graph runs, as aten's own
// checks do (torch.compile with dynamic output shapes, torch.export).
struct Size {
  const c10::SymInt& value;
  bool operator==(const Size& other) const {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
    return value.sym_eq(other.value).expect_true(__FILE__, __LINE__);
#else
    return value == other.value;
#endif
  }
  friend std::ostream& operator<<(std::ostream& out, const Size& s) { return out << s.value; }
};

// A tensor's sizes as the spec's checks read them.
struct Shape {
  c10::SymIntArrayRef sizes;
  int rank;
  Size operator[](int i) const { return {sizes[i]}; }
};

// Checks the call the way every framework does and fills `args` (but for
// pointers). Raises torch's TypeError for a dtype opforge has no kernel for,
// else RuntimeError.
template <class Spec>
void check(const at::Tensor* in, Args& args) {
  constexpr std::size_t n = Spec::kInputs.size();
  DType types[n];
  Shape shapes[n];
  for (std::size_t i = 0; i < n; ++i) {
    TORCH_CHECK_TYPE(to_dtype(in[i].scalar_type(), &types[i]),
                     unsupported_dtype(Spec::kName, Spec::kInputs[i], c10::toString(in[i].scalar_type()),
                                       Spec::kDTypes.names()));
    TORCH_CHECK(in[i].device() == in[0].device(), Spec::kName, ": inputs must be on one device, got ",
                in[0].device(), " and ", in[i].device());
    shapes[i] = {in[i].sym_sizes(), static_cast<int>(in[i].dim())};
  }
  TORCH_CHECK_TYPE(Spec::kDTypes.has(types[0]), unsupported_dtype(Spec::kName, Spec::kInputs[0],
                                                                  c10::toString(in[0].scalar_type()),
                                                                  Spec::kDTypes.names()));
  std::string err = check_dtypes<Spec>(types);
  if (err.empty()) err = check_attrs<Spec>(args.attrs);
  if (err.empty()) err = check_shapes<Spec>(shapes);
  TORCH_CHECK(err.empty(), err);
  args.dtype = types[0];
}

template <class Spec>
void launch(const at::Tensor& device_of, const Args& args) {
  if (device_of.is_cpu()) return Spec::cpu(args);
#if OPFORGE_WITH_CUDA
  if constexpr (has_cuda<Spec>) {
    if (device_of.is_cuda()) {
      const c10::cuda::CUDAGuard guard(device_of.device());
      const char* err = Spec::cuda(args, c10::cuda::getCurrentCUDAStream(device_of.device().index()).stream());
      TORCH_CHECK(err == nullptr, Spec::kName, ": CUDA kernel launch failed: ", err);
      return;
    }
  }
#endif
  TORCH_CHECK(false, "this opforge build has no kernel for device ", device_of.device());
}

// The kernel behind every dispatch key: Meta only allocates the output.
template <class Spec, bool kMeta>
void boxed(const c10::OperatorHandle&, torch::jit::Stack* stack) {
  constexpr std::size_t n = Spec::kInputs.size(), k = Spec::kAttrs.size();
  auto values = torch::jit::last(*stack, n + k);
  at::Tensor in[n];
  Args args{};
  for (std::size_t i = 0; i < n; ++i) in[i] = values[i].toTensor();
  for (std::size_t i = 0; i < k; ++i)
    args.attrs[i] = Spec::kAttrs[i].type == AttrType::kFloat ? values[n + i].toDouble()
                                                             : static_cast<double>(values[n + i].toInt());
  check<Spec>(in, args);
  const at::Tensor& like = in[Spec::kOutput.like];
  at::Tensor y = at::empty_symint(like.sym_sizes(), like.options().memory_format(at::MemoryFormat::Contiguous));
  if (!kMeta) {
    for (std::size_t i = 0; i < n; ++i) {
      in[i] = in[i].contiguous();
      args.inputs[i] = in[i].data_ptr();
      args.dims[i] = {in[i].sizes().data(), static_cast<int>(in[i].dim())};
    }
    args.output = y.data_ptr();
    args.numel = y.numel();
    args.parallel = &parallel;
    launch<Spec>(in[0], args);
  }
  torch::jit::drop(*stack, n + k);
  torch::jit::push(*stack, std::move(y));
}

// Autograd: the ops have no derivatives. Where an input requires grad, the
// output gets torch's NotImplemented node, so backward raises "derivative for
// <ns>::<op> is not implemented" (torch's default would warn and give no
// gradient); otherwise straight to the kernel, at no more cost than torch's
// own fallback.
// (torch holds autograd nodes in shared_ptr up to some 2.x, in intrusive_ptr since.)
template <class N, class... A>
auto make_node(A&&... args) {
  if constexpr (std::is_base_of_v<c10::intrusive_ptr_target, N>) return c10::make_intrusive<N>(std::forward<A>(args)...);
  else return std::make_shared<N>(std::forward<A>(args)...);
}

template <class Spec>
void autograd(const c10::OperatorHandle& op, c10::DispatchKeySet keys, torch::jit::Stack* stack) {
  constexpr std::size_t n = Spec::kInputs.size(), k = Spec::kAttrs.size();
  using torch::autograd::NotImplemented;
  decltype(make_node<NotImplemented>(std::string(), torch::autograd::edge_list())) node;
  if (at::GradMode::is_enabled()) {
    auto values = torch::jit::last(*stack, n + k);
    at::Tensor in[n];
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
      in[i] = values[i].toTensor();
      any = any || in[i].requires_grad();
    }
    if (any)
      node = make_node<NotImplemented>(std::string(OPFORGE_NS_STR "::") + Spec::kName,
                                       torch::autograd::collect_next_edges(at::ArrayRef<at::Tensor>(in, n)));
  }
  {
    const at::AutoDispatchBelowADInplaceOrView below;
    op.redispatchBoxed(keys & c10::after_ADInplaceOrView_keyset, stack);
  }
  if (node) torch::autograd::set_history(stack->back().toTensor(), node);
}

template <class Spec>
bool register_op() {
  using torch::CppFunction;
  static torch::Library def(torch::Library::FRAGMENT, OPFORGE_NS_STR, {}, __FILE__, __LINE__);
  def.def(schema<Spec>().c_str());
  static torch::Library cpu(torch::Library::IMPL, OPFORGE_NS_STR, c10::DispatchKey::CPU, __FILE__, __LINE__);
  cpu.impl(Spec::kName, CppFunction::makeFromBoxedFunction<&boxed<Spec, false>>());
  static torch::Library meta(torch::Library::IMPL, OPFORGE_NS_STR, c10::DispatchKey::Meta, __FILE__, __LINE__);
  meta.impl(Spec::kName, CppFunction::makeFromBoxedFunction<&boxed<Spec, true>>());
  static torch::Library autograd(torch::Library::IMPL, OPFORGE_NS_STR, c10::DispatchKey::Autograd, __FILE__,
                                 __LINE__);
  autograd.impl(Spec::kName, CppFunction::makeFromBoxedFunction<&torch_adapter::autograd<Spec>>());
#if OPFORGE_WITH_CUDA
  if constexpr (has_cuda<Spec>) {
    static torch::Library cuda(torch::Library::IMPL, OPFORGE_NS_STR, c10::DispatchKey::CUDA, __FILE__, __LINE__);
    cuda.impl(Spec::kName, CppFunction::makeFromBoxedFunction<&boxed<Spec, false>>());
  }
#endif
  return true;
}

}  // namespace opforge::torch_adapter

#undef OPFORGE_REGISTER_OP
#define OPFORGE_REGISTER_OP(Spec) ::opforge::torch_adapter::register_op<Spec>()
