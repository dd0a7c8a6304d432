// Launch helpers shared by the CUDA kernels (compiled by nvcc only).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace opforge {

constexpr int kBlock = 256;

// Grid-stride loops cover any n; cap the grid so huge tensors reuse blocks.
inline unsigned elementwise_grid(int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
}

inline const char* launch_error() {
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

}  // namespace opforge
