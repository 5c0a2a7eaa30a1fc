// CUDA row-wise normalisations, one thread block per row (rows <= 2^31-1), on float32 /
// float16 / bfloat16 storage with fp32 math: layernorm and rmsnorm forward and backward. Rows move in 16-byte packs when their
// pointers are 16-byte aligned (element loads otherwise, and for the tail). The saved
// statistics (mean, rstd) are float32 for every dtype; gamma, beta and the parameter
// gradients have the input's dtype. Forward v1 streams the row (layernorm: three reads,
// rmsnorm: two); v2 holds it in registers (one read) when cols <= kMaxPacks packs per
// thread (8192 floats or 16384 halves), else runs v1. Parameter gradients (dgamma,
// dbeta) are column sums over rows: one thread per column walks the rows, so consecutive
// threads read consecutive addresses.
#include <cfloat>

#include "core/cuda/block_reduce.cuh"
#include "core/cuda/dispatch.cuh"
#include "core/cuda/launch.cuh"
#include "ops/norms/norms.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;
constexpr int kMaxPacks = 8;
using detail::aligned16;
using detail::block_sum;
using detail::from_float;
using detail::load_chunk;
using detail::pack_size;
using detail::store_chunk;
using detail::to_float;

// ---- forward, streaming (v1) ------------------------------------------------------------
template <class T>
__global__ void __launch_bounds__(kThreads) layernorm_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                             const T* __restrict__ beta, T* __restrict__ y,
                                                             float* __restrict__ mean, float* __restrict__ rstd,
                                                             int64_t cols, float eps) {
  constexpr int kPack = pack_size<T>();
  const T* xr = x + blockIdx.x * cols;
  T* yr = y + blockIdx.x * cols;
  const bool aligned = aligned16(xr) && aligned16(yr) && aligned16(gamma) && aligned16(beta);
  float v[kPack], g[kPack], b[kPack];
  float sum = 0;
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) sum += v[k];
  }
  const float m = block_sum<kThreads>(sum) / static_cast<float>(cols);
  float sq = 0;
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, m);  // fill m: (m - m)^2 = 0
#pragma unroll
    for (int k = 0; k < kPack; ++k) sq += (v[k] - m) * (v[k] - m);
  }
  const float s = rsqrtf(block_sum<kThreads>(sq) / static_cast<float>(cols) + eps);
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, 0.0f);
    load_chunk(gamma, e0, cols, aligned, g, 0.0f);
    load_chunk(beta, e0, cols, aligned, b, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) v[k] = (v[k] - m) * s * g[k] + b[k];
    store_chunk(yr, e0, cols, aligned, v);
  }
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = m;
    rstd[blockIdx.x] = s;
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads) rmsnorm_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                           T* __restrict__ y, float* __restrict__ rstd, int64_t cols,
                                                           float eps) {
  constexpr int kPack = pack_size<T>();
  const T* xr = x + blockIdx.x * cols;
  T* yr = y + blockIdx.x * cols;
  const bool aligned = aligned16(xr) && aligned16(yr) && aligned16(gamma);
  float v[kPack], g[kPack];
  float sq = 0;
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) sq += v[k] * v[k];
  }
  const float s = rsqrtf(block_sum<kThreads>(sq) / static_cast<float>(cols) + eps);
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, 0.0f);
    load_chunk(gamma, e0, cols, aligned, g, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) v[k] = v[k] * s * g[k];
    store_chunk(yr, e0, cols, aligned, v);
  }
  if (threadIdx.x == 0) rstd[blockIdx.x] = s;
}

// ---- forward, row in registers (v2) -----------------------------------------------------
// cols <= kPacks * kThreads * kPack; pack j of this thread holds elements
// (j * kThreads + threadIdx.x) * kPack + [0, kPack), zeros past the row (kept out of the
// variance by the fill below). kRms: no mean, no beta.
template <class T, int kPacks, bool kRms>
__global__ void __launch_bounds__(kThreads) norm_registers_kernel(const T* __restrict__ x,
                                                                  const T* __restrict__ gamma,
                                                                  const T* __restrict__ beta, T* __restrict__ y,
                                                                  float* __restrict__ mean, float* __restrict__ rstd,
                                                                  int64_t cols, float eps) {
  constexpr int kPack = pack_size<T>();
  const T* xr = x + blockIdx.x * cols;
  T* yr = y + blockIdx.x * cols;
  const bool aligned = aligned16(xr) && aligned16(yr) && aligned16(gamma) && (kRms || aligned16(beta));
  float v[kPacks][kPack];
  float sum = 0;
#pragma unroll
  for (int j = 0; j < kPacks; ++j) {
    const int64_t e0 = (static_cast<int64_t>(j) * kThreads + threadIdx.x) * kPack;
    load_chunk(xr, e0, cols, aligned, v[j], 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) sum += kRms ? v[j][k] * v[j][k] : v[j][k];
  }
  const float total = block_sum<kThreads>(sum) / static_cast<float>(cols);
  float m = 0, s;
  if (kRms) {
    s = rsqrtf(total + eps);
  } else {
    m = total;
    float sq = 0;
#pragma unroll
    for (int j = 0; j < kPacks; ++j) {
      const int64_t e0 = (static_cast<int64_t>(j) * kThreads + threadIdx.x) * kPack;
#pragma unroll
      for (int k = 0; k < kPack; ++k) {
        const float d = e0 + k < cols ? v[j][k] - m : 0.0f;
        sq += d * d;
      }
    }
    s = rsqrtf(block_sum<kThreads>(sq) / static_cast<float>(cols) + eps);
  }
#pragma unroll
  for (int j = 0; j < kPacks; ++j) {
    const int64_t e0 = (static_cast<int64_t>(j) * kThreads + threadIdx.x) * kPack;
    if (e0 >= cols) break;
    float g[kPack], b[kPack];
    load_chunk(gamma, e0, cols, aligned, g, 0.0f);
    if (!kRms) load_chunk(beta, e0, cols, aligned, b, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) v[j][k] = kRms ? v[j][k] * s * g[k] : (v[j][k] - m) * s * g[k] + b[k];
    store_chunk(yr, e0, cols, aligned, v[j]);
  }
  if (threadIdx.x == 0) {
    if (!kRms) mean[blockIdx.x] = m;
    rstd[blockIdx.x] = s;
  }
}

// ---- backward ---------------------------------------------------------------------------
// dx of layernorm (kRms false: mean given) or rmsnorm (mean null): two reads of dy, x, gamma.
template <class T, bool kRms>
__global__ void __launch_bounds__(kThreads) norm_backward_dx_kernel(const T* __restrict__ dy, const T* __restrict__ x,
                                                                    const T* __restrict__ gamma,
                                                                    const float* __restrict__ mean,
                                                                    const float* __restrict__ rstd,
                                                                    T* __restrict__ dx, int64_t cols) {
  constexpr int kPack = pack_size<T>();
  const int64_t base = blockIdx.x * cols;
  const T *gr = dy + base, *xr = x + base;
  T* dxr = dx + base;
  const bool aligned = aligned16(gr) && aligned16(xr) && aligned16(dxr) && aligned16(gamma);
  const float m = kRms ? 0.0f : mean[blockIdx.x], s = rstd[blockIdx.x];
  float d[kPack], v[kPack], g[kPack];
  float sum_g = 0, sum_gx = 0;
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(gr, e0, cols, aligned, d, 0.0f);
    load_chunk(xr, e0, cols, aligned, v, 0.0f);
    load_chunk(gamma, e0, cols, aligned, g, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) {
      const float dg = d[k] * g[k];
      sum_g += dg;
      sum_gx += dg * (v[k] - m) * s;
    }
  }
  const float mean_gx = block_sum<kThreads>(sum_gx) / static_cast<float>(cols);
  const float mean_g = kRms ? 0.0f : block_sum<kThreads>(sum_g) / static_cast<float>(cols);
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(gr, e0, cols, aligned, d, 0.0f);
    load_chunk(xr, e0, cols, aligned, v, 0.0f);
    load_chunk(gamma, e0, cols, aligned, g, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) {
      const float xhat = (v[k] - m) * s;
      d[k] = s * (d[k] * g[k] - mean_g - xhat * mean_gx);
    }
    store_chunk(dxr, e0, cols, aligned, d);
  }
}

// dgamma[c] = sum_r dy[r,c] * xhat[r,c]; dbeta[c] = sum_r dy[r,c] (dbeta may be null).
// For rmsnorm pass mean = null (xhat = x * rstd). fp32 sums, rounded once.
template <class T>
__global__ void norm_param_grad_kernel(const T* __restrict__ dy, const T* __restrict__ x,
                                       const float* __restrict__ mean, const float* __restrict__ rstd,
                                       T* __restrict__ dgamma, T* __restrict__ dbeta, int64_t rows, int64_t cols) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (c >= cols) return;
  float g = 0, b = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float d = to_float(dy[r * cols + c]);
    g += d * (to_float(x[r * cols + c]) - (mean ? mean[r] : 0.0f)) * rstd[r];
    b += d;
  }
  dgamma[c] = from_float<T>(g);
  if (dbeta) dbeta[c] = from_float<T>(b);
}

unsigned row_grid(const char* op, int64_t rows) {
  BENCHSUITE_CHECK_ARG(rows <= 2147483647LL, op, ": rows=", rows, " exceeds the CUDA grid limit (2^31-1)");
  return static_cast<unsigned>(rows);
}
unsigned column_grid(int64_t cols) { return static_cast<unsigned>((cols + kThreads - 1) / kThreads); }

// The register kernel for the smallest pack count that holds the row; false when the row
// needs more than kMaxPacks packs per thread.
template <class T, bool kRms>
bool launch_norm_registers(const T* x, const T* gamma, const T* beta, T* y, float* mean, float* rstd, int64_t rows,
                           int64_t cols, float eps, cudaStream_t stream) {
  const int64_t round = static_cast<int64_t>(kThreads) * pack_size<T>();
  const int64_t packs = (cols + round - 1) / round;
  const unsigned grid = row_grid(kRms ? "rmsnorm" : "layernorm", rows);
  if (packs <= 1)
    norm_registers_kernel<T, 1, kRms><<<grid, kThreads, 0, stream>>>(x, gamma, beta, y, mean, rstd, cols, eps);
  else if (packs <= 2)
    norm_registers_kernel<T, 2, kRms><<<grid, kThreads, 0, stream>>>(x, gamma, beta, y, mean, rstd, cols, eps);
  else if (packs <= 4)
    norm_registers_kernel<T, 4, kRms><<<grid, kThreads, 0, stream>>>(x, gamma, beta, y, mean, rstd, cols, eps);
  else if (packs <= kMaxPacks)
    norm_registers_kernel<T, kMaxPacks, kRms><<<grid, kThreads, 0, stream>>>(x, gamma, beta, y, mean, rstd, cols, eps);
  else
    return false;
  BENCHSUITE_CUDA_CHECK_LAUNCH();
  return true;
}
}  // namespace

void layernorm(DType dtype, const void* x, const void* gamma, const void* beta, void* y, float* mean, float* rstd,
               int64_t rows, int64_t cols, float eps, bool registers, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "layernorm", [&](auto tag) {
    using T = decltype(tag);
    const T *xt = static_cast<const T*>(x), *g = static_cast<const T*>(gamma), *b = static_cast<const T*>(beta);
    T* yt = static_cast<T*>(y);
    if (registers &&
        launch_norm_registers<T, false>(xt, g, b, yt, mean, rstd, rows, cols, eps, detail::as_stream(stream)))
      return;
    layernorm_kernel<T><<<row_grid("layernorm", rows), kThreads, 0, detail::as_stream(stream)>>>(xt, g, b, yt, mean,
                                                                                               rstd, cols, eps);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void rmsnorm(DType dtype, const void* x, const void* gamma, void* y, float* rstd, int64_t rows, int64_t cols,
             float eps, bool registers, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "rmsnorm", [&](auto tag) {
    using T = decltype(tag);
    const T *xt = static_cast<const T*>(x), *g = static_cast<const T*>(gamma);
    T* yt = static_cast<T*>(y);
    if (registers &&
        launch_norm_registers<T, true>(xt, g, nullptr, yt, nullptr, rstd, rows, cols, eps, detail::as_stream(stream)))
      return;
    rmsnorm_kernel<T><<<row_grid("rmsnorm", rows), kThreads, 0, detail::as_stream(stream)>>>(xt, g, yt, rstd, cols,
                                                                                           eps);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

namespace {
// layernorm (kRms false: mean and dbeta used) and rmsnorm (kRms true: no mean, no dbeta)
// backward: dx by rows, then the parameter gradients by columns.
template <bool kRms>
void norm_backward(const char* op, DType dtype, const void* dy, const void* x, const void* gamma, const float* mean,
                   const float* rstd, void* dx, void* dgamma, void* dbeta, int64_t rows, int64_t cols,
                   StreamHandle stream) {
  if (cols == 0) return;
  detail::dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T *dyt = static_cast<const T*>(dy), *xt = static_cast<const T*>(x);
    if (rows > 0) {
      norm_backward_dx_kernel<T, kRms><<<row_grid(op, rows), kThreads, 0, detail::as_stream(stream)>>>(
          dyt, xt, static_cast<const T*>(gamma), mean, rstd, static_cast<T*>(dx), cols);
      BENCHSUITE_CUDA_CHECK_LAUNCH();
    }
    norm_param_grad_kernel<T><<<column_grid(cols), kThreads, 0, detail::as_stream(stream)>>>(
        dyt, xt, mean, rstd, static_cast<T*>(dgamma), static_cast<T*>(dbeta), rows, cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}
}  // namespace

void layernorm_backward(DType dtype, const void* dy, const void* x, const void* gamma, const float* mean,
                        const float* rstd, void* dx, void* dgamma, void* dbeta, int64_t rows, int64_t cols,
                        StreamHandle stream) {
  norm_backward<false>("layernorm_backward", dtype, dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols, stream);
}

void rmsnorm_backward(DType dtype, const void* dy, const void* x, const void* gamma, const float* rstd, void* dx,
                      void* dgamma, int64_t rows, int64_t cols, StreamHandle stream) {
  norm_backward<true>("rmsnorm_backward", dtype, dy, x, gamma, nullptr, rstd, dx, dgamma, nullptr, rows, cols, stream);
}

}  // namespace benchsuite::cuda
