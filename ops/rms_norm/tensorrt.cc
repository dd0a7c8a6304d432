// TensorRT plugin OpforgeRmsNorm: x [..., N], weight [N] of x's dtype;
// field epsilon (float32, default 1e-6).
#include "rms_norm.h"
#include "tensorrt/plugin.h"

namespace {

using namespace opforge;

struct RmsNormSpec {
  static constexpr const char* kName = "RmsNorm";
  static constexpr int kNumInputs = 2;  // x, weight
  static constexpr std::array<trt::Attr, 1> kAttrs{
      {trt::optional_attr("epsilon", rms_norm::kDefaultEpsilon)}};
  static bool supports(DType t) { return rms_norm::supports(t); }
  static std::string enqueue(const float* attrs, DType t, const Dims* dims,
                             const void* const* inputs, void* const* outputs, Stream stream) {
    const float epsilon = attrs[0];
    // supportsFormatCombination gave weight the dtype of x.
    std::string err = rms_norm::validate(t, t, dims[0], dims[1], epsilon);
    if (!err.empty()) return err;
    const Dims x = dims[0];
    const int64_t cols = x[x.rank - 1];
    int64_t rows = 1;
    for (int i = 0; i + 1 < x.rank; ++i) rows *= x[i];
    return trt::kernel_result(rms_norm::kName, rms_norm::cuda(t, inputs[0], inputs[1], outputs[0],
                                                              rows, cols, epsilon, stream));
  }
};

}  // namespace

OPFORGE_REGISTER_TENSORRT_PLUGIN(RmsNormSpec);
