// CUDA reductions on float32 / float16 / bfloat16 storage, accumulated in fp32, the
// result rounded once to the input's dtype. Rows: one block per row, each thread
// accumulates 16-byte packs of a strided slice (element loads when the row is not
// 16-byte aligned, and for its tail), then a shuffle/shared-memory tree combines them.
// All elements: up to kReduceWorkspaceFloats blocks write fp32 partials, one block
// reduces the partials, so the result is deterministic run to run.
#include <cfloat>

#include "core/cuda/block_reduce.cuh"
#include "core/cuda/dispatch.cuh"
#include "core/cuda/launch.cuh"
#include "ops/reduce/reduce.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

using detail::from_float;
using detail::load_chunk;
using detail::load_pack;
using detail::pack_size;
using detail::to_float;

// max lets a NaN win (fmaxf would drop it), as NumPy and the CPU reference do.
__device__ __forceinline__ float combine(Reduction kind, float a, float b) {
  return kind == Reduction::max ? ((a > b || a != a) ? a : b) : a + b;
}
__device__ __forceinline__ float identity(Reduction kind) { return kind == Reduction::max ? -INFINITY : 0.0f; }

struct NanMaxOp {
  __device__ __forceinline__ float operator()(float a, float b) const { return (a > b || a != a) ? a : b; }
  static constexpr float identity = -__FLT_MAX__;
};

__device__ __forceinline__ float block_combine(Reduction kind, float v) {
  return kind == Reduction::max ? detail::block_reduce<kThreads>(v, NanMaxOp{}) : detail::block_sum<kThreads>(v);
}

template <class T>
__global__ void __launch_bounds__(kThreads) reduce_rows_kernel(Reduction kind, const T* __restrict__ x,
                                                               T* __restrict__ out, int64_t cols) {
  constexpr int kPack = pack_size<T>();
  const T* xr = x + blockIdx.x * cols;
  const bool aligned = detail::aligned16(xr);
  const float fill = identity(kind);
  float v = fill;
  for (int64_t e0 = static_cast<int64_t>(threadIdx.x) * kPack; e0 < cols; e0 += static_cast<int64_t>(kThreads) * kPack) {
    float c[kPack];
    load_chunk(xr, e0, cols, aligned, c, fill);
#pragma unroll
    for (int k = 0; k < kPack; ++k) v = combine(kind, v, c[k]);
  }
  v = block_combine(kind, v);
  if (threadIdx.x == 0) out[blockIdx.x] = from_float<T>(kind == Reduction::mean ? v / static_cast<float>(cols) : v);
}

// Stage 1: block b reduces packs b*kThreads + t (then elements), stepping by the grid.
template <class T>
__global__ void __launch_bounds__(kThreads) reduce_partials_kernel(Reduction kind, const T* __restrict__ x,
                                                                   float* __restrict__ partials, int64_t n,
                                                                   bool vectorized) {
  constexpr int kPack = pack_size<T>();
  const int64_t start = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  float v = identity(kind);
  int64_t done = 0;
  if (vectorized) {  // x is 16-byte aligned
    const int64_t packs = n / kPack;
    for (int64_t i = start; i < packs; i += stride) {
      float c[kPack];
      load_pack(x + i * kPack, c);
#pragma unroll
      for (int k = 0; k < kPack; ++k) v = combine(kind, v, c[k]);
    }
    done = packs * kPack;
  }
  for (int64_t i = done + start; i < n; i += stride) v = combine(kind, v, to_float(x[i]));
  v = block_combine(kind, v);
  if (threadIdx.x == 0) partials[blockIdx.x] = v;
}

// Stage 2: one block reduces the partials.
template <class T>
__global__ void __launch_bounds__(kThreads) reduce_finish_kernel(Reduction kind, const float* __restrict__ partials,
                                                                 int count, T* __restrict__ out, int64_t n) {
  float v = identity(kind);
  for (int i = threadIdx.x; i < count; i += kThreads) v = combine(kind, v, partials[i]);
  v = block_combine(kind, v);
  if (threadIdx.x == 0) out[0] = from_float<T>(kind == Reduction::mean ? v / static_cast<float>(n) : v);
}
}  // namespace

void reduce_rows(Reduction kind, DType dtype, const void* x, void* out, int64_t rows, int64_t cols,
                 StreamHandle stream) {
  if (rows == 0) return;
  BENCHSUITE_CHECK_ARG(rows <= 2147483647LL, "reduce: rows=", rows, " exceeds the CUDA grid limit (2^31-1)");
  detail::dispatch_float(dtype, "reduce", [&](auto tag) {
    using T = decltype(tag);
    reduce_rows_kernel<T><<<static_cast<unsigned>(rows), kThreads, 0, detail::as_stream(stream)>>>(
        kind, static_cast<const T*>(x), static_cast<T*>(out), cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void reduce_all(Reduction kind, DType dtype, const void* x, void* out, int64_t n, float* workspace,
                StreamHandle stream) {
  detail::dispatch_float(dtype, "reduce", [&](auto tag) {
    using T = decltype(tag);
    const bool vectorized = detail::aligned16(x);
    const int64_t per_block = static_cast<int64_t>(kThreads) * (vectorized ? pack_size<T>() : 1);
    const int64_t wanted = (n + per_block - 1) / per_block;
    const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(wanted, kReduceWorkspaceFloats)));
    reduce_partials_kernel<T><<<blocks, kThreads, 0, detail::as_stream(stream)>>>(kind, static_cast<const T*>(x),
                                                                                   workspace, n, vectorized);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    reduce_finish_kernel<T><<<1, kThreads, 0, detail::as_stream(stream)>>>(kind, workspace, blocks,
                                                                            static_cast<T*>(out), n);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void reduce_all_f32(Reduction kind, const float* x, float* out, int64_t n, float* workspace, StreamHandle stream) {
  reduce_all(kind, DType::float32, x, out, n, workspace, stream);
}

}  // namespace benchsuite::cuda
