// TensorRT plugin OpforgeZeroOut: keeps x's first element, zeroes the rest.
// int32 and int64 on TensorRT 10+; int32 only on TensorRT 8.6, which has no
// 64-bit integer tensors (no DataType::kINT64).
#include "tensorrt/plugin.h"
#include "zero_out.h"

namespace {

using namespace opforge;

struct ZeroOutSpec {
  static constexpr const char* kName = "ZeroOut";
  static constexpr int kNumInputs = 1;  // x
  static constexpr std::array<trt::Attr, 0> kAttrs{};
  static bool supports(DType t) { return zero_out::supports(t); }
  static std::string enqueue(const float* /*attrs*/, DType t, const Dims* dims,
                             const void* const* inputs, void* const* outputs, Stream stream) {
    std::string err = zero_out::validate(t);
    if (!err.empty()) return err;
    return trt::kernel_result(zero_out::kName,
                              zero_out::cuda(t, inputs[0], outputs[0], dims[0].numel(), stream));
  }
};

}  // namespace

OPFORGE_REGISTER_TENSORRT_PLUGIN(ZeroOutSpec);
