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

}  // namespace benchsuite::cuda::detail
