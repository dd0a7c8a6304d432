// TensorRT plugin <Prefix>Scale: y = x * alpha; field alpha (float32, required).
#include "scale.h"
#include "tensorrt/plugin.h"

namespace {

using namespace opforge;

struct ScaleSpec {
  static constexpr const char* kName = "Scale";
  static constexpr int kNumInputs = 1;
  static constexpr std::array<trt::Attr, 1> kAttrs{{trt::required_attr("alpha")}};
  static bool supports(DType t) { return myops::scale::supports(t); }
  static std::string enqueue(const float* attrs, DType t, const Dims* dims, const void* const* inputs,
                             void* const* outputs, Stream stream) {
    std::string err = myops::scale::validate(t);
    if (!err.empty()) return err;
    return trt::kernel_result(myops::scale::kName,
                              myops::scale::cuda(static_cast<const float*>(inputs[0]),
                                                 static_cast<float*>(outputs[0]), dims[0].numel(),
                                                 attrs[0], stream));
  }
};

}  // namespace

OPFORGE_REGISTER_TENSORRT_PLUGIN(ScaleSpec);
