// Launch helpers shared by the CUDA kernels (compiled by nvcc only).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace opforge {

constexpr int kBlock = 256;

inline const char* launch_error() {
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

}  // namespace opforge
