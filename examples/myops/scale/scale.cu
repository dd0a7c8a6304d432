#include "opforge/cuda_elementwise.cuh"
#include "scale.h"

namespace myops::scale {

struct Scale {
  float alpha;
  __device__ float operator()(float x) const { return x * alpha; }
};

const char* Spec::cuda(const Args& a, Stream stream) {
  map1(a.in<float>(0), a.out<float>(), a.numel, Scale{a.attr(0)}, stream);  // 16-byte packs, on `stream`
  return launch_error();
}

}  // namespace myops::scale
