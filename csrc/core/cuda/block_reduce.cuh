// Block-wide reductions for row-per-block kernels: warp shuffles, then one float per
// warp in shared memory, then the first warp. Every thread gets the result.
#pragma once
#include <cuda_runtime.h>

namespace benchsuite::cuda::detail {

struct SumOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return a + b; }
  static constexpr float identity = 0.0f;
};
struct MaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
  static constexpr float identity = -__FLT_MAX__;
};

template <class Op>
__device__ __forceinline__ float warp_reduce(float v, Op op) {
  for (int offset = 16; offset > 0; offset >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// kThreads must be a multiple of 32 and at most 1024. Safe to call repeatedly in one
// kernel: the leading barrier keeps a previous call's readers ahead of this call's writers.
template <int kThreads, class Op>
__device__ float block_reduce(float v, Op op) {
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "block size");
  __shared__ float scratch[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_reduce(v, op);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < kThreads / 32 ? scratch[lane] : Op::identity;
  return warp_reduce(v, op);
}

template <int kThreads>
__device__ __forceinline__ float block_sum(float v) {
  return block_reduce<kThreads>(v, SumOp{});
}
template <int kThreads>
__device__ __forceinline__ float block_max(float v) {
  return block_reduce<kThreads>(v, MaxOp{});
}

// The same tree on doubles, for sums whose CPU references are formed in double (long
// reductions: a channel over a whole batch). Deterministic for a given block size.
template <int kThreads>
__device__ double block_sum_f64(double v) {
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "block size");
  __shared__ double scratch_f64[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  __syncthreads();
  if (lane == 0) scratch_f64[warp] = v;
  __syncthreads();
  v = lane < kThreads / 32 ? scratch_f64[lane] : 0.0;
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Merges running (max, sum of exp(x - max)) pairs; each sum is relative to its own max.
__device__ __forceinline__ void merge_max_sum(float& m, float& s, float m2, float s2) {
  const float new_m = fmaxf(m, m2);
  s = (m == -__FLT_MAX__ ? 0.0f : s * expf(m - new_m)) + (m2 == -__FLT_MAX__ ? 0.0f : s2 * expf(m2 - new_m));
  m = new_m;
}

// Combines every thread's (m, s) into the block's, given to every thread: a warp shuffle
// tree, one value per warp through shared memory, then the tree again. The leading barrier
// keeps a previous call's readers of the scratch ahead of this call's writers.
template <int kThreads>
__device__ __forceinline__ void block_merge_max_sum(float& m, float& s) {
  constexpr int kWarps = kThreads / 32;
  __shared__ float scratch_m[kWarps], scratch_s[kWarps];
  for (int offset = 16; offset > 0; offset >>= 1)
    merge_max_sum(m, s, __shfl_xor_sync(0xffffffffu, m, offset), __shfl_xor_sync(0xffffffffu, s, offset));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) {
    scratch_m[warp] = m;
    scratch_s[warp] = s;
  }
  __syncthreads();
  m = lane < kWarps ? scratch_m[lane] : -__FLT_MAX__;
  s = lane < kWarps ? scratch_s[lane] : 0.0f;
  for (int offset = 16; offset > 0; offset >>= 1)
    merge_max_sum(m, s, __shfl_xor_sync(0xffffffffu, m, offset), __shfl_xor_sync(0xffffffffu, s, offset));
}

// One-read online max and sum of exp(x - max) over a row of `cols` values, for the whole
// block (Milakov & Gimelshein 2018); every thread gets (m, s). Safe to call repeatedly:
// the leading barrier keeps a previous call's readers of the scratch ahead of its writers.
template <int kThreads>
__device__ void block_online_max_sum(const float* __restrict__ row, int64_t cols, float& m, float& s) {
  m = -__FLT_MAX__;
  s = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
    const float v = row[c];
    if (v > m) {
      s = s * expf(m - v) + 1.0f;
      m = v;
    } else {
      s += expf(v - m);
    }
  }
  block_merge_max_sum<kThreads>(m, s);
}

}  // namespace benchsuite::cuda::detail

// ---- float32 / float16 / bfloat16 storage with fp32 math ------------------------------
// Row kernels read and write a row in 16-byte packs (4 floats or 8 halves) when the row
// pointer is 16-byte aligned, and element by element otherwise and for the row's tail.
#include <cstdint>

#include "core/cuda/convert.cuh"

namespace benchsuite::cuda::detail {

// Elements of T in one 16-byte pack.
template <class T>
constexpr int pack_size() { return static_cast<int>(16 / sizeof(T)); }

__host__ __device__ __forceinline__ bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

// p must be 16-byte aligned. Read-only path (the inputs of these kernels never alias
// their outputs).
template <class T>
__device__ __forceinline__ void load_pack(const T* __restrict__ p, float (&v)[pack_size<T>()]) {
  const uint4 raw = __ldg(reinterpret_cast<const uint4*>(p));
  const T* e = reinterpret_cast<const T*>(&raw);
#pragma unroll
  for (int k = 0; k < pack_size<T>(); ++k) v[k] = to_float(e[k]);
}
template <class T>
__device__ __forceinline__ void store_pack(T* __restrict__ p, const float (&v)[pack_size<T>()]) {
  alignas(16) T e[pack_size<T>()];
#pragma unroll
  for (int k = 0; k < pack_size<T>(); ++k) e[k] = from_float<T>(v[k]);
  *reinterpret_cast<uint4*>(p) = *reinterpret_cast<const uint4*>(e);
}

// The pack loop of a row kernel: thread t takes the packs at e0 = (t + j * kThreads) * kPack,
// j = 0, 1, ... while e0 < cols (kThreads: the block size, a constant where it is used).
#define BENCHSUITE_FOR_CHUNKS(e0, cols, kPack)                                  \
  for (int64_t e0 = static_cast<int64_t>(threadIdx.x) * (kPack); e0 < (cols); \
       e0 += static_cast<int64_t>(kThreads) * (kPack))

// Elements [e0, e0 + pack) of a row of `cols`: one 16-byte load when the row is aligned
// (e0 is a multiple of the pack) and the pack lies inside the row; else element loads,
// `fill` past the end. Never reads outside [row, row + cols).
template <class T>
__device__ __forceinline__ void load_chunk(const T* __restrict__ row, int64_t e0, int64_t cols, bool aligned,
                                           float (&v)[pack_size<T>()], float fill) {
  constexpr int kPack = pack_size<T>();
  if (aligned && e0 + kPack <= cols) {
    load_pack(row + e0, v);
    return;
  }
#pragma unroll
  for (int k = 0; k < kPack; ++k) v[k] = e0 + k < cols ? to_float(row[e0 + k]) : fill;
}
template <class T>
__device__ __forceinline__ void store_chunk(T* __restrict__ row, int64_t e0, int64_t cols, bool aligned,
                                            const float (&v)[pack_size<T>()]) {
  constexpr int kPack = pack_size<T>();
  if (aligned && e0 + kPack <= cols) {
    store_pack(row + e0, v);
    return;
  }
#pragma unroll
  for (int k = 0; k < kPack; ++k)
    if (e0 + k < cols) row[e0 + k] = from_float<T>(v[k]);
}

// The online (max, sum of exp(x - max)) of a row of T for the whole block, read once in
// packs: a pack's own maximum rescales the running sum once per pack. Every thread gets
// (m, s); m stays -FLT_MAX for a row of -inf. Safe to call repeatedly (leading barrier).
template <int kThreads, class T>
__device__ void block_online_max_sum_packed(const T* __restrict__ row, int64_t cols, bool aligned, float& m,
                                            float& s) {
  constexpr int kPack = pack_size<T>();
  m = -__FLT_MAX__;
  s = 0.0f;
  for (int64_t e0 = static_cast<int64_t>(threadIdx.x) * kPack; e0 < cols; e0 += static_cast<int64_t>(kThreads) * kPack) {
    float v[kPack];
    load_chunk(row, e0, cols, aligned, v, -INFINITY);
    float mc = v[0];
#pragma unroll
    for (int k = 1; k < kPack; ++k) mc = fmaxf(mc, v[k]);
    if (mc > m) {
      s *= __expf(m - mc);
      m = mc;
    }
#pragma unroll
    for (int k = 0; k < kPack; ++k) s += __expf(v[k] - m);  // fill: exp(-inf) = 0
  }
  block_merge_max_sum<kThreads>(m, s);
}

}  // namespace benchsuite::cuda::detail
