// Elementwise kernels at the bandwidth limit (compiled by nvcc only).
//
// Each thread moves 16 bytes per load and store (a "pack" of 4 floats or 8
// halves) over the stretch where every pointer is 16-byte aligned; the few
// elements before that boundary and after the last pack go one by one. The
// grid is sized from the SM count, and a grid-stride loop covers any n (also
// past 2^31). Inputs and output may be the same buffer (in place): a thread
// reads each pack before it writes it and touches no other.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>

#include "opforge/kernel_api.h"

namespace opforge {

constexpr int kBlock = 256;

inline const char* launch_error() {
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

// Blocks of `block` threads for `threads` threads of work, at most `waves`
// full waves on every SM of the current device (0: as many as the work needs,
// up to 2^30 blocks; a grid-stride loop covers the rest).
inline unsigned grid_for(int64_t threads, int block = kBlock, int waves_cap = 2) {
  static std::atomic<int> sm_counts[64];
  int device = 0;
  cudaGetDevice(&device);
  int sms = device < 64 ? sm_counts[device].load(std::memory_order_relaxed) : 0;
  if (sms <= 0) {
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0) {
      cudaGetLastError();  // not sticky: leave no error for the launch check
      sms = 132;
    }
    if (device < 64) sm_counts[device].store(sms, std::memory_order_relaxed);
  }
  const int64_t wanted = (threads + block - 1) / block;
  const int64_t cap = waves_cap ? int64_t{sms} * (2048 / block) * waves_cap : int64_t{1} << 30;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(wanted, cap)));
}

constexpr int kUnroll = 4;  // packs per thread and loop trip

template <typename T>
__host__ __device__ constexpr int pack_size() {
  return 16 / static_cast<int>(sizeof(T));
}

// Elements before the first 16-byte boundary that all `pointers` reach
// together: 0 when they are aligned, n when they cannot be aligned at once
// (then everything goes element by element).
template <typename T>
inline int64_t aligned_head(int64_t n, std::initializer_list<const void*> pointers) {
  const uintptr_t first = reinterpret_cast<uintptr_t>(*pointers.begin()) % 16;
  for (const void* p : pointers)
    if (reinterpret_cast<uintptr_t>(p) % 16 != first) return n;
  if (first % sizeof(T)) return n;
  const int64_t head = first ? static_cast<int64_t>((16 - first) / sizeof(T)) : 0;
  return head < n ? head : n;
}

// y[i] = f(a[i]) (N = 1) or f(a[i], b[i]) (N = 2)
template <int N, typename T, typename F>
__global__ void map_kernel(const T* a, const T* b, T* y, int64_t n, int64_t head, F f) {
  constexpr int L = pack_size<T>();
  const int64_t tid = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t packs = (n - head) / L;
  const T* const in[2] = {a, b};
  const auto apply = [&f](const T* const* x, int64_t k) {  // f of element k of the N inputs x[0..N-1]
    if constexpr (N == 1) return f(x[0][k]);
    else return f(x[0][k], x[1][k]);
  };
  uint4* yp = reinterpret_cast<uint4*>(y + head);
  // kUnroll packs per thread and trip: their loads are all in flight before the first store.
  for (int64_t base = tid; base < packs; base += stride * kUnroll) {
    uint4 raw[kUnroll][N];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (base + u * stride < packs)
#pragma unroll
        for (int j = 0; j < N; ++j) raw[u][j] = reinterpret_cast<const uint4*>(in[j] + head)[base + u * stride];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (base + u * stride >= packs) continue;
      const T* e[N];
#pragma unroll
      for (int j = 0; j < N; ++j) e[j] = reinterpret_cast<const T*>(&raw[u][j]);
      T* out = reinterpret_cast<T*>(&raw[u][0]);  // element k is written after it is read
#pragma unroll
      for (int k = 0; k < L; ++k) out[k] = apply(e, k);
      yp[base + u * stride] = raw[u][0];
    }
  }
  const int64_t tail = head + packs * L, rest = head + (n - tail);
  for (int64_t i = tid; i < rest; i += stride) {
    const int64_t j = i < head ? i : tail + (i - head);
    y[j] = apply(in, j);
  }
}

// Blocks for a kernel that moves packs from `head` on: one trip per thread, as
// many blocks as that takes (the most loads in flight).
template <typename T>
unsigned grid_for_packs(int64_t n, int64_t head) {
  return grid_for(head + (n - head) / (pack_size<T>() * kUnroll) + pack_size<T>(), kBlock, 0);
}

// y[i] = f(x[i]); nothing is launched for n == 0.
template <typename T, typename F>
void map1(const T* x, T* y, int64_t n, F f, Stream stream) {
  if (n <= 0) return;
  const int64_t head = aligned_head<T>(n, {x, y});
  map_kernel<1><<<grid_for_packs<T>(n, head), kBlock, 0, stream>>>(x, x, y, n, head, f);
}

// y[i] = f(a[i], b[i]); nothing is launched for n == 0.
template <typename T, typename F>
void map2(const T* a, const T* b, T* y, int64_t n, F f, Stream stream) {
  if (n <= 0) return;
  const int64_t head = aligned_head<T>(n, {a, b, y});
  map_kernel<2><<<grid_for_packs<T>(n, head), kBlock, 0, stream>>>(a, b, y, n, head, f);
}

}  // namespace opforge
