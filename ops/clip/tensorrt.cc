// TensorRT plugin OpforgeClip: y = min(max(x, lo), hi); fields lo, hi (float32, required).
#include "clip.h"
#include "tensorrt/plugin.h"

namespace {

using namespace opforge;

struct ClipSpec {
  static constexpr const char* kName = "Clip";
  static constexpr int kNumInputs = 1;  // x
  static constexpr std::array<trt::Attr, 2> kAttrs{
      {trt::required_attr("lo"), trt::required_attr("hi")}};
  static bool supports(DType t) { return clip::supports(t); }
  static std::string enqueue(const float* attrs, DType t, const Dims* dims,
                             const void* const* inputs, void* const* outputs, Stream stream) {
    std::string err = clip::validate(t);
    if (!err.empty()) return err;
    return trt::kernel_result(clip::kName, clip::cuda(t, inputs[0], outputs[0], dims[0].numel(),
                                                      attrs[0], attrs[1], stream));
  }
};

}  // namespace

OPFORGE_REGISTER_TENSORRT_PLUGIN(ClipSpec);
