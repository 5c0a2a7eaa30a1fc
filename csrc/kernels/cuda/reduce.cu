// CUDA reductions. Rows: one block per row, each thread accumulates a strided slice,
// then a shuffle/shared-memory tree combines them. All elements: up to 1024 blocks write
// partials, one block reduces the partials, so the result is deterministic run to run.
#include <cfloat>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

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

__global__ void __launch_bounds__(kThreads) reduce_rows_kernel(Reduction kind, const float* __restrict__ x,
                                                               float* __restrict__ out, int64_t cols) {
  const float* xr = x + blockIdx.x * cols;
  float v = identity(kind);
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) v = combine(kind, v, xr[c]);
  v = block_combine(kind, v);
  if (threadIdx.x == 0) out[blockIdx.x] = kind == Reduction::mean ? v / static_cast<float>(cols) : v;
}

// Stage 1: block b reduces elements b*kThreads + t, stepping by the whole grid.
__global__ void __launch_bounds__(kThreads) reduce_partials_kernel(Reduction kind, const float* __restrict__ x,
                                                                   float* __restrict__ partials, int64_t n) {
  float v = identity(kind);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads)
    v = combine(kind, v, x[i]);
  v = block_combine(kind, v);
  if (threadIdx.x == 0) partials[blockIdx.x] = v;
}

// Stage 2: one block reduces the partials.
__global__ void __launch_bounds__(kThreads) reduce_finish_kernel(Reduction kind, const float* __restrict__ partials,
                                                                 int count, float* __restrict__ out, int64_t n) {
  float v = identity(kind);
  for (int i = threadIdx.x; i < count; i += kThreads) v = combine(kind, v, partials[i]);
  v = block_combine(kind, v);
  if (threadIdx.x == 0) out[0] = kind == Reduction::mean ? v / static_cast<float>(n) : v;
}
}  // namespace

void reduce_rows_f32(Reduction kind, const float* x, float* out, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0) return;
  BENCHSUITE_CHECK_ARG(rows <= 2147483647LL, "reduce: rows=", rows, " exceeds the CUDA grid limit (2^31-1)");
  reduce_rows_kernel<<<static_cast<unsigned>(rows), kThreads, 0, detail::as_stream(stream)>>>(kind, x, out, cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void reduce_all_f32(Reduction kind, const float* x, float* out, int64_t n, float* workspace, StreamHandle stream) {
  const int64_t wanted = (n + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(wanted, kReduceWorkspaceFloats)));
  reduce_partials_kernel<<<blocks, kThreads, 0, detail::as_stream(stream)>>>(kind, x, workspace, n);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
  reduce_finish_kernel<<<1, kThreads, 0, detail::as_stream(stream)>>>(kind, workspace, blocks, out, n);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
