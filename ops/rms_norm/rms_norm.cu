#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "opforge/cuda_elementwise.cuh"
#include "rms_norm.h"

namespace opforge::rms_norm {
namespace {

constexpr int kWarp = 32;

__device__ inline float warp_sum(float v) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over the `warps` warps of a row team (a warp, or a whole block), in a
// fixed order so every thread gets the same value.
template <int kTeamWarps>
__device__ inline float team_sum(float v, float* shared) {
  v = warp_sum(v);
  if (kTeamWarps == 1) return v;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float total = 0.f;
#pragma unroll
  for (int w = 0; w < kTeamWarps; ++w) total += shared[w];
  __syncthreads();  // shared[] is reused by the next row
  return total;
}

// A row team keeps its whole row in registers: x is read from global memory
// once. kVec: each thread moves packs of 16 bytes (cols is a multiple of the
// pack and rows start aligned), else single elements; kPer: packs (or
// elements) per thread. Teams of one warp for short rows, of a block for long.
template <typename T, bool kVec, int kPer, int kTeamWarps>
__global__ void rms_norm_rows(const T* x, const T* w, T* y, int64_t rows, int cols, float eps) {
  constexpr int L = kVec ? pack_size<T>() : 1;
  constexpr int kTeam = kTeamWarps * kWarp;
  __shared__ float shared[kTeamWarps];
  const int t = threadIdx.x % kTeam;
  const int64_t team = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kTeam;
  const int64_t teams = static_cast<int64_t>(gridDim.x) * blockDim.x / kTeam;
  // Whole blocks share a team's loop trip count (kTeamWarps == block): __syncthreads is safe.
  for (int64_t row = team; row < rows; row += teams) {
    const T* xr = x + row * cols;
    T* yr = y + row * cols;
    float v[kPer][L];
    float sum = 0.f;
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int c = (t + k * kTeam) * L;
      if (c < cols) {
        if constexpr (kVec) {
          const uint4 raw = *reinterpret_cast<const uint4*>(xr + c);
          const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
          for (int j = 0; j < L; ++j) v[k][j] = static_cast<float>(e[j]);
        } else {
          v[k][0] = static_cast<float>(xr[c]);
        }
      } else {
#pragma unroll
        for (int j = 0; j < L; ++j) v[k][j] = 0.f;
      }
#pragma unroll
      for (int j = 0; j < L; ++j) sum += v[k][j] * v[k][j];
    }
    // Correctly rounded sqrt and division, as on the CPU (rsqrtf is off by up to 2 ulp).
    const float inv = 1.0f / sqrtf(team_sum<kTeamWarps>(sum, shared) / static_cast<float>(cols) + eps);
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int c = (t + k * kTeam) * L;
      if (c >= cols) continue;
      if constexpr (kVec) {
        const uint4 wraw = *reinterpret_cast<const uint4*>(w + c);
        const T* we = reinterpret_cast<const T*>(&wraw);
        uint4 out;
        T* oe = reinterpret_cast<T*>(&out);
#pragma unroll
        for (int j = 0; j < L; ++j) oe[j] = static_cast<T>(v[k][j] * inv * static_cast<float>(we[j]));
        *reinterpret_cast<uint4*>(yr + c) = out;
      } else {
        yr[c] = static_cast<T>(v[k][0] * inv * static_cast<float>(w[c]));
      }
    }
  }
}

// Rows too long for registers: a block per row, two passes over x.
template <typename T>
__global__ void rms_norm_long_rows(const T* x, const T* w, T* y, int64_t rows, int64_t cols, float eps) {
  __shared__ float shared[kBlock / kWarp];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * cols;
    T* yr = y + row * cols;
    float sum = 0.f;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
      const float v = static_cast<float>(xr[c]);
      sum += v * v;
    }
    const float inv = 1.0f / sqrtf(team_sum<kBlock / kWarp>(sum, shared) / static_cast<float>(cols) + eps);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
      yr[c] = static_cast<T>(static_cast<float>(xr[c]) * inv * static_cast<float>(w[c]));
  }
}

template <typename T, bool kVec, int kPer, int kTeamWarps>
void launch_rows(const T* x, const T* w, T* y, int64_t rows, int cols, float eps, Stream stream) {
  const int64_t threads = rows * kTeamWarps * kWarp;
  rms_norm_rows<T, kVec, kPer, kTeamWarps><<<grid_for(threads), kBlock, 0, stream>>>(x, w, y, rows, cols, eps);
}

// The smallest team and register count that hold a row of `cols`.
template <typename T, bool kVec>
bool launch_in_registers(const T* x, const T* w, T* y, int64_t rows, int64_t cols, float eps, Stream s) {
  constexpr int L = kVec ? pack_size<T>() : 1;
  const int c = static_cast<int>(cols);
  if (cols <= 1 * kWarp * L) launch_rows<T, kVec, 1, 1>(x, w, y, rows, c, eps, s);
  else if (cols <= 2 * kWarp * L) launch_rows<T, kVec, 2, 1>(x, w, y, rows, c, eps, s);
  else if (cols <= 4 * kWarp * L) launch_rows<T, kVec, 4, 1>(x, w, y, rows, c, eps, s);
  else if (cols <= 8 * kWarp * L) launch_rows<T, kVec, 8, 1>(x, w, y, rows, c, eps, s);
  else if (cols <= 2 * kBlock * L) launch_rows<T, kVec, 2, kBlock / kWarp>(x, w, y, rows, c, eps, s);
  else if (cols <= 4 * kBlock * L) launch_rows<T, kVec, 4, kBlock / kWarp>(x, w, y, rows, c, eps, s);
  else if (cols <= 8 * kBlock * L) launch_rows<T, kVec, 8, kBlock / kWarp>(x, w, y, rows, c, eps, s);
  else return false;
  return true;
}

template <typename T>
void launch(const T* x, const T* w, T* y, int64_t rows, int64_t cols, float eps, Stream stream) {
  // Packs need cols a multiple of the pack and 16-byte aligned row starts.
  const bool vec = cols % pack_size<T>() == 0 && aligned_head<T>(cols, {x, w, y}) == 0;
  const bool done = vec ? launch_in_registers<T, true>(x, w, y, rows, cols, eps, stream)
                        : launch_in_registers<T, false>(x, w, y, rows, cols, eps, stream);
  if (!done)
    rms_norm_long_rows<<<grid_for(rows * kBlock), kBlock, 0, stream>>>(x, w, y, rows, cols, eps);
}

}  // namespace

const char* Spec::cuda(const Args& a, Stream stream) {
  const int64_t rows = a.rows(0), cols = a.cols(0);
  const float eps = a.attr(0);
  if (rows == 0 || cols == 0) return nullptr;
  if (a.dtype == DType::kFloat32)
    launch(a.in<float>(0), a.in<float>(1), a.out<float>(), rows, cols, eps, stream);
  else if (a.dtype == DType::kFloat16)
    launch(a.in<__half>(0), a.in<__half>(1), a.out<__half>(), rows, cols, eps, stream);
  return launch_error();
}

}  // namespace opforge::rms_norm
