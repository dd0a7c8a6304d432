// TensorRT plugin OpforgeModulo: y = fmod(a, b), a and b of one shape and dtype.
#include "modulo.h"
#include "tensorrt/plugin.h"

namespace {

using namespace opforge;

struct ModuloSpec {
  static constexpr const char* kName = "Modulo";
  static constexpr int kNumInputs = 2;  // a, b
  static constexpr std::array<trt::Attr, 0> kAttrs{};
  static bool supports(DType t) { return modulo::supports(t); }
  static std::string enqueue(const float* /*attrs*/, DType t, const Dims* dims,
                             const void* const* inputs, void* const* outputs, Stream stream) {
    // supportsFormatCombination gave b the dtype of a.
    std::string err = modulo::validate(t, t, dims[0], dims[1]);
    if (!err.empty()) return err;
    return trt::kernel_result(
        modulo::kName,
        modulo::cuda(t, inputs[0], inputs[1], outputs[0], dims[0].numel(), stream));
  }
};

}  // namespace

OPFORGE_REGISTER_TENSORRT_PLUGIN(ModuloSpec);
