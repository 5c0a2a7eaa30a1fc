// CUDA kernels of the channel normalisations (float32, x [n, c, s], formulas in
// channel_norms.h): group_norm and batch_norm forward and backward, deterministic (no
// atomics) and with the references' arithmetic: statistics and gradient sums in double,
// the saved mean / rstd rounded to float32 once, each output computed in double from them.
//   A thread block per statistics set (group_norm: a (sample, group), whose C/G channels
//   are contiguous; batch_norm: a channel, n strided runs of s) walks the set twice for
//   the mean and the centred variance (two block reductions, no cancellation), then writes
//   the set's outputs; batch_norm inference reads the running statistics instead.
//   Backward dx: a block per set forms mean(g) and mean(g xhat) (g = dy gamma) by block
//   reductions, then writes the set's dx (inference: dx = rstd g, no sums).
//   dgamma, dbeta: a block per channel reduces over (sample, position), one reduction each.
// Blocks loop over sets (channels) past the 65536-block grid; all indexing is int64.
#include <cmath>

#include "core/cuda/block_reduce.cuh"
#include "core/cuda/launch.cuh"
#include "ops/channel_norms/channel_norms.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;
using detail::block_sum_f64;

// The shape and the statistics sets: kBatch, set k = channel k over every sample; else set
// k = (sample k / groups, group k % groups) of `per` channels.
struct Sets {
  int64_t n, c, s, groups, per;
};

template <bool kBatch>
__device__ __forceinline__ int64_t set_size(const Sets& d) {
  return kBatch ? d.n * d.s : d.per * d.s;
}

// Element e of set k: its offset in x and its channel.
template <bool kBatch>
__device__ __forceinline__ int64_t element(const Sets& d, int64_t k, int64_t e, int64_t& channel) {
  if (kBatch) {
    channel = k;
    return (e / d.s * d.c + k) * d.s + e % d.s;
  }
  const int64_t g = k % d.groups;
  channel = g * d.per + e / d.s;
  return (k / d.groups * d.c + g * d.per) * d.s + e;
}

#define BENCHSUITE_FOR_SET(e, size) for (int64_t e = threadIdx.x; e < (size); e += kThreads)

// running_mean null: the statistics of x (group_norm, batch_norm training), else the running
// ones (batch_norm inference).
template <bool kBatch>
__global__ void __launch_bounds__(kThreads) norm_forward_kernel(const float* __restrict__ x,
                                                                const float* __restrict__ gamma,
                                                                const float* __restrict__ beta,
                                                                const float* __restrict__ running_mean,
                                                                const float* __restrict__ running_var,
                                                                float* __restrict__ y, float* __restrict__ mean,
                                                                float* __restrict__ rstd, Sets d, int64_t sets,
                                                                float eps) {
  const int64_t size = set_size<kBatch>(d);
  int64_t ch;
  for (int64_t k = blockIdx.x; k < sets; k += gridDim.x) {
    float m, r;
    if (running_mean != nullptr) {
      m = running_mean[k];
      r = static_cast<float>(1.0 / sqrt(static_cast<double>(running_var[k]) + eps));
    } else {
      double sum = 0.0;
      BENCHSUITE_FOR_SET(e, size) sum += x[element<kBatch>(d, k, e, ch)];
      sum = block_sum_f64<kThreads>(sum);
      const double mu = size > 0 ? sum / static_cast<double>(size) : 0.0;
      double sq = 0.0;
      BENCHSUITE_FOR_SET(e, size) {
        const double v = x[element<kBatch>(d, k, e, ch)] - mu;
        sq += v * v;
      }
      sq = block_sum_f64<kThreads>(sq);
      m = static_cast<float>(mu);
      r = static_cast<float>(1.0 / sqrt((size > 0 ? sq / static_cast<double>(size) : 0.0) + eps));
    }
    if (threadIdx.x == 0) {
      mean[k] = m;
      rstd[k] = r;
    }
    BENCHSUITE_FOR_SET(e, size) {
      const int64_t o = element<kBatch>(d, k, e, ch);
      y[o] = static_cast<float>((x[o] - static_cast<double>(m)) * r * static_cast<double>(gamma[ch]) + beta[ch]);
    }
  }
}

// stats_of_x: dx = rstd (g - mean(g) - xhat mean(g xhat)), else dx = rstd g (constant statistics).
template <bool kBatch>
__global__ void __launch_bounds__(kThreads) norm_backward_dx_kernel(const float* __restrict__ dy,
                                                                    const float* __restrict__ x,
                                                                    const float* __restrict__ gamma,
                                                                    const float* __restrict__ mean,
                                                                    const float* __restrict__ rstd,
                                                                    float* __restrict__ dx, Sets d, int64_t sets,
                                                                    bool stats_of_x) {
  const int64_t size = set_size<kBatch>(d);
  int64_t ch;
  for (int64_t k = blockIdx.x; k < sets; k += gridDim.x) {
    const double m = mean[k], r = rstd[k];
    double mean_g = 0.0, mean_gx = 0.0;
    if (stats_of_x) {
      BENCHSUITE_FOR_SET(e, size) {
        const int64_t o = element<kBatch>(d, k, e, ch);
        const double g = static_cast<double>(dy[o]) * gamma[ch];
        mean_g += g;
        mean_gx += g * ((x[o] - m) * r);
      }
      mean_g = block_sum_f64<kThreads>(mean_g);
      mean_gx = block_sum_f64<kThreads>(mean_gx);
      if (size > 0) {
        mean_g /= static_cast<double>(size);
        mean_gx /= static_cast<double>(size);
      }
    }
    BENCHSUITE_FOR_SET(e, size) {
      const int64_t o = element<kBatch>(d, k, e, ch);
      const double g = static_cast<double>(dy[o]) * gamma[ch];
      dx[o] = static_cast<float>(stats_of_x ? r * (g - mean_g - (x[o] - m) * r * mean_gx) : r * g);
    }
  }
}

// dgamma[j] = sum of dy xhat, dbeta[j] = sum of dy over channel j's (sample, position).
template <bool kBatch>
__global__ void __launch_bounds__(kThreads) norm_param_grad_kernel(const float* __restrict__ dy,
                                                                   const float* __restrict__ x,
                                                                   const float* __restrict__ mean,
                                                                   const float* __restrict__ rstd,
                                                                   float* __restrict__ dgamma,
                                                                   float* __restrict__ dbeta, Sets d) {
  for (int64_t j = blockIdx.x; j < d.c; j += gridDim.x) {
    double dg = 0.0, db = 0.0;
    for (int64_t e = threadIdx.x; e < d.n * d.s; e += kThreads) {
      const int64_t i = e / d.s, o = (i * d.c + j) * d.s + e % d.s;
      const int64_t k = kBatch ? j : i * d.groups + j / d.per;
      const double xhat = (x[o] - static_cast<double>(mean[k])) * rstd[k];
      dg += dy[o] * xhat;
      db += dy[o];
    }
    dg = block_sum_f64<kThreads>(dg);
    db = block_sum_f64<kThreads>(db);
    if (threadIdx.x == 0) {
      dgamma[j] = static_cast<float>(dg);
      dbeta[j] = static_cast<float>(db);
    }
  }
}

unsigned blocks_for(int64_t items) { return static_cast<unsigned>(items < 65536 ? items : 65536); }

template <bool kBatch>
void forward(const float* x, const float* gamma, const float* beta, const float* running_mean,
             const float* running_var, float* y, float* mean, float* rstd, const Sets& d, float eps,
             StreamHandle stream) {
  const int64_t sets = kBatch ? d.c : d.n * d.groups;
  if (sets == 0) return;
  norm_forward_kernel<kBatch><<<blocks_for(sets), kThreads, 0, detail::as_stream(stream)>>>(
      x, gamma, beta, running_mean, running_var, y, mean, rstd, d, sets, eps);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

template <bool kBatch>
void backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
              bool stats_of_x, float* dx, float* dgamma, float* dbeta, const Sets& d, StreamHandle stream) {
  const int64_t sets = kBatch ? d.c : d.n * d.groups;
  const cudaStream_t s = detail::as_stream(stream);
  if (sets > 0) {
    norm_backward_dx_kernel<kBatch><<<blocks_for(sets), kThreads, 0, s>>>(dy, x, gamma, mean, rstd, dx, d, sets,
                                                                          stats_of_x);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  if (d.c > 0) {
    norm_param_grad_kernel<kBatch><<<blocks_for(d.c), kThreads, 0, s>>>(dy, x, mean, rstd, dgamma, dbeta, d);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
}
}  // namespace

void group_norm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                    int64_t n, int64_t c, int64_t s, int64_t groups, float eps, StreamHandle stream) {
  forward<false>(x, gamma, beta, nullptr, nullptr, y, mean, rstd, Sets{n, c, s, groups, c / groups}, eps, stream);
}

void group_norm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean,
                             const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t n, int64_t c,
                             int64_t s, int64_t groups, StreamHandle stream) {
  backward<false>(dy, x, gamma, mean, rstd, true, dx, dgamma, dbeta, Sets{n, c, s, groups, c / groups}, stream);
}

void batch_norm_f32(const float* x, const float* gamma, const float* beta, const float* running_mean,
                    const float* running_var, bool training, float* y, float* mean, float* rstd, int64_t n, int64_t c,
                    int64_t s, float eps, StreamHandle stream) {
  forward<true>(x, gamma, beta, training ? nullptr : running_mean, training ? nullptr : running_var, y, mean, rstd,
                Sets{n, c, s, c, 1}, eps, stream);
}

void batch_norm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean,
                             const float* rstd, bool training, float* dx, float* dgamma, float* dbeta, int64_t n,
                             int64_t c, int64_t s, StreamHandle stream) {
  backward<true>(dy, x, gamma, mean, rstd, training, dx, dgamma, dbeta, Sets{n, c, s, c, 1}, stream);
}

}  // namespace benchsuite::cuda
