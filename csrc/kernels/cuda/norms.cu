// CUDA row-wise normalisations, one thread block per row (rows <= 2^31-1):
// softmax backward, log_softmax forward/backward, layernorm and rmsnorm forward and
// backward. Parameter gradients (dgamma, dbeta) are column sums over rows: one thread
// per column walks the rows, so consecutive threads read consecutive addresses.
#include <cfloat>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;
using detail::block_max;
using detail::block_sum;

__global__ void __launch_bounds__(kThreads) softmax_backward_kernel(const float* __restrict__ y,
                                                                    const float* __restrict__ dy,
                                                                    float* __restrict__ dx, int64_t cols) {
  const int64_t base = blockIdx.x * cols;
  float dot = 0;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) dot += y[base + c] * dy[base + c];
  dot = block_sum<kThreads>(dot);
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) dx[base + c] = y[base + c] * (dy[base + c] - dot);
}

__global__ void __launch_bounds__(kThreads) log_softmax_kernel(const float* __restrict__ x, float* __restrict__ y,
                                                               int64_t cols) {
  const int64_t base = blockIdx.x * cols;
  float m = -FLT_MAX;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) m = fmaxf(m, x[base + c]);
  m = block_max<kThreads>(m);
  float s = 0;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) s += __expf(x[base + c] - m);
  s = block_sum<kThreads>(s);
  const float shift = m + __logf(s);
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) y[base + c] = x[base + c] - shift;
}

__global__ void __launch_bounds__(kThreads) log_softmax_backward_kernel(const float* __restrict__ y,
                                                                        const float* __restrict__ dy,
                                                                        float* __restrict__ dx, int64_t cols) {
  const int64_t base = blockIdx.x * cols;
  float total = 0;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) total += dy[base + c];
  total = block_sum<kThreads>(total);
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) dx[base + c] = dy[base + c] - __expf(y[base + c]) * total;
}

__global__ void __launch_bounds__(kThreads) layernorm_kernel(const float* __restrict__ x,
                                                             const float* __restrict__ gamma,
                                                             const float* __restrict__ beta, float* __restrict__ y,
                                                             float* __restrict__ mean, float* __restrict__ rstd,
                                                             int64_t cols, float eps) {
  const int64_t base = blockIdx.x * cols;
  float sum = 0;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) sum += x[base + c];
  const float m = block_sum<kThreads>(sum) / static_cast<float>(cols);
  float sq = 0;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
    const float d = x[base + c] - m;
    sq += d * d;
  }
  const float s = rsqrtf(block_sum<kThreads>(sq) / static_cast<float>(cols) + eps);
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) y[base + c] = (x[base + c] - m) * s * gamma[c] + beta[c];
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = m;
    rstd[blockIdx.x] = s;
  }
}

__global__ void __launch_bounds__(kThreads) layernorm_backward_dx_kernel(
    const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ gamma,
    const float* __restrict__ mean, const float* __restrict__ rstd, float* __restrict__ dx, int64_t cols) {
  const int64_t base = blockIdx.x * cols;
  const float m = mean[blockIdx.x], s = rstd[blockIdx.x];
  float sum_g = 0, sum_gx = 0;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
    const float g = dy[base + c] * gamma[c];
    sum_g += g;
    sum_gx += g * (x[base + c] - m) * s;
  }
  const float mean_g = block_sum<kThreads>(sum_g) / static_cast<float>(cols);
  const float mean_gx = block_sum<kThreads>(sum_gx) / static_cast<float>(cols);
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) {
    const float xhat = (x[base + c] - m) * s;
    dx[base + c] = s * (dy[base + c] * gamma[c] - mean_g - xhat * mean_gx);
  }
}

// dgamma[c] = sum_r dy[r,c] * xhat[r,c]; dbeta[c] = sum_r dy[r,c] (dbeta may be null).
// For rmsnorm pass mean = null (xhat = x * rstd).
__global__ void norm_param_grad_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                       const float* __restrict__ mean, const float* __restrict__ rstd,
                                       float* __restrict__ dgamma, float* __restrict__ dbeta, int64_t rows,
                                       int64_t cols) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (c >= cols) return;
  float g = 0, b = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float d = dy[r * cols + c];
    g += d * (x[r * cols + c] - (mean ? mean[r] : 0.0f)) * rstd[r];
    b += d;
  }
  dgamma[c] = g;
  if (dbeta) dbeta[c] = b;
}

__global__ void __launch_bounds__(kThreads) rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ gamma,
                                                           float* __restrict__ y, float* __restrict__ rstd,
                                                           int64_t cols, float eps) {
  const int64_t base = blockIdx.x * cols;
  float sq = 0;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) sq += x[base + c] * x[base + c];
  const float s = rsqrtf(block_sum<kThreads>(sq) / static_cast<float>(cols) + eps);
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) y[base + c] = x[base + c] * s * gamma[c];
  if (threadIdx.x == 0) rstd[blockIdx.x] = s;
}

__global__ void __launch_bounds__(kThreads) rmsnorm_backward_dx_kernel(const float* __restrict__ dy,
                                                                       const float* __restrict__ x,
                                                                       const float* __restrict__ gamma,
                                                                       const float* __restrict__ rstd,
                                                                       float* __restrict__ dx, int64_t cols) {
  const int64_t base = blockIdx.x * cols;
  const float s = rstd[blockIdx.x];
  float sum_gx = 0;
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) sum_gx += dy[base + c] * gamma[c] * x[base + c];
  const float k = s * s * block_sum<kThreads>(sum_gx) / static_cast<float>(cols);
  for (int64_t c = threadIdx.x; c < cols; c += kThreads) dx[base + c] = s * (dy[base + c] * gamma[c] - x[base + c] * k);
}

unsigned row_grid(const char* op, int64_t rows) {
  BENCHSUITE_CHECK_ARG(rows <= 2147483647LL, op, ": rows=", rows, " exceeds the CUDA grid limit (2^31-1)");
  return static_cast<unsigned>(rows);
}
unsigned column_grid(int64_t cols) { return static_cast<unsigned>((cols + kThreads - 1) / kThreads); }
}  // namespace

void softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  softmax_backward_kernel<<<row_grid("softmax_backward", rows), kThreads, 0, detail::as_stream(stream)>>>(y, dy, dx,
                                                                                                         cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void log_softmax_f32(const float* x, float* y, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  log_softmax_kernel<<<row_grid("log_softmax", rows), kThreads, 0, detail::as_stream(stream)>>>(x, y, cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void log_softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols,
                              StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  log_softmax_backward_kernel<<<row_grid("log_softmax_backward", rows), kThreads, 0, detail::as_stream(stream)>>>(
      y, dy, dx, cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void layernorm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                   int64_t rows, int64_t cols, float eps, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  layernorm_kernel<<<row_grid("layernorm", rows), kThreads, 0, detail::as_stream(stream)>>>(x, gamma, beta, y, mean,
                                                                                            rstd, cols, eps);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void layernorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                            float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols, StreamHandle stream) {
  if (cols == 0) return;
  if (rows > 0) {
    layernorm_backward_dx_kernel<<<row_grid("layernorm_backward", rows), kThreads, 0, detail::as_stream(stream)>>>(
        dy, x, gamma, mean, rstd, dx, cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  norm_param_grad_kernel<<<column_grid(cols), kThreads, 0, detail::as_stream(stream)>>>(dy, x, mean, rstd, dgamma,
                                                                                       dbeta, rows, cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void rmsnorm_f32(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t cols, float eps,
                 StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  rmsnorm_kernel<<<row_grid("rmsnorm", rows), kThreads, 0, detail::as_stream(stream)>>>(x, gamma, y, rstd, cols, eps);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void rmsnorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                          float* dgamma, int64_t rows, int64_t cols, StreamHandle stream) {
  if (cols == 0) return;
  if (rows > 0) {
    rmsnorm_backward_dx_kernel<<<row_grid("rmsnorm_backward", rows), kThreads, 0, detail::as_stream(stream)>>>(
        dy, x, gamma, rstd, dx, cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  norm_param_grad_kernel<<<column_grid(cols), kThreads, 0, detail::as_stream(stream)>>>(dy, x, nullptr, rstd, dgamma,
                                                                                       nullptr, rows, cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
