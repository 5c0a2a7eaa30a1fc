// CUDA softmax over the last axis, one thread block per row.
// v1 three_pass: max, then sum of exp, then write (three reads of the row).
// v2 online: running (max, sum) pairs merged across the block (Milakov & Gimelshein
//    2018), then one write pass: two reads of the row instead of three.
#include <cfloat>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

using detail::block_max;
using detail::block_sum;

__global__ void __launch_bounds__(kThreads) softmax_three_pass_kernel(const float* __restrict__ x,
                                                                      float* __restrict__ y, int64_t cols) {
  const float* xr = x + blockIdx.x * cols;
  float* yr = y + blockIdx.x * cols;
  float m = -FLT_MAX;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) m = fmaxf(m, xr[c]);
  m = block_max<kThreads>(m);
  float s = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) s += __expf(xr[c] - m);
  s = block_sum<kThreads>(s);
  const float inv = 1.0f / s;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) yr[c] = __expf(xr[c] - m) * inv;
}

__global__ void __launch_bounds__(kThreads) softmax_online_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                                  int64_t cols) {
  const float* xr = x + blockIdx.x * cols;
  float* yr = y + blockIdx.x * cols;
  float m, s;
  detail::block_online_max_sum<kThreads>(xr, cols, m, s);
  const float inv = 1.0f / s;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) yr[c] = __expf(xr[c] - m) * inv;
}

void check_rows(int64_t rows) {
  BENCHSUITE_CHECK_ARG(rows <= 2147483647LL, "softmax: rows=", rows, " exceeds the CUDA grid limit (2^31-1)");
}
}  // namespace

void softmax_f32_three_pass(const float* x, float* y, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  check_rows(rows);
  softmax_three_pass_kernel<<<static_cast<unsigned>(rows), kThreads, 0, detail::as_stream(stream)>>>(x, y, cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void softmax_f32_online(const float* x, float* y, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  check_rows(rows);
  softmax_online_kernel<<<static_cast<unsigned>(rows), kThreads, 0, detail::as_stream(stream)>>>(x, y, cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
