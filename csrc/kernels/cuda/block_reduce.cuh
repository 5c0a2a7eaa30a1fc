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

// Merges running (max, sum of exp(x - max)) pairs; each sum is relative to its own max.
__device__ __forceinline__ void merge_max_sum(float& m, float& s, float m2, float s2) {
  const float new_m = fmaxf(m, m2);
  s = (m == -__FLT_MAX__ ? 0.0f : s * expf(m - new_m)) + (m2 == -__FLT_MAX__ ? 0.0f : s2 * expf(m2 - new_m));
  m = new_m;
}

// One-read online max and sum of exp(x - max) over a row of `cols` values, for the whole
// block (Milakov & Gimelshein 2018); every thread gets (m, s). Safe to call repeatedly:
// the leading barrier keeps a previous call's readers of the scratch ahead of its writers.
template <int kThreads>
__device__ void block_online_max_sum(const float* __restrict__ row, int64_t cols, float& m, float& s) {
  constexpr int kWarps = kThreads / 32;
  __shared__ float scratch_m[kWarps], scratch_s[kWarps];
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

}  // namespace benchsuite::cuda::detail
