// CUDA kernels of the Mamba SSM core and its backward (formulas in ssm.h), float32 with
// fp32 math, deterministic (no atomics; every sum over channels, batches or time runs in a
// fixed order).
//   Forward: a thread per (batch, channel) runs the recurrence down the sequence with
//   kChunk = 16 states in registers; a larger N repeats the sweep for the next 16 states
//   and adds into y (y starts at D x). Mamba's N is 16: one sweep.
//   Backward, as the CPU reference (states recomputed, the recurrence in reverse), in five
//   launches over a float workspace (mamba_ssm_backward_workspace floats):
//     1. a thread per (batch, channel) recomputes the states h_t into hs [B, T, N, D];
//     2. dC[b, t, n] = sum_d dy[b, t, d] h_t[b, d, n], a thread per (b, t, n), d in order;
//     3. a thread per (batch, channel) runs the reverse recurrence: dx and ddt for its
//        channel, its dA_log and dD partials to the workspace ([B, D, N], [B, D]), and its
//        dB terms over hs (step t's h_t is read by step t+1 of the reverse walk only, so
//        step t overwrites it);
//     4. dB[b, t, n] = the dB terms summed over d in order;
//     5. dA_log and dD = the partials summed over the batch in order.
//   dB and dC sum over channels, dA_log and dD over batches and time: per-thread partials
//   reduced by a second kernel keep every sum's order fixed where atomics would not.
// The hs layout [B, T, N, D] makes channel d's terms consecutive: the writes of step 1 and
// 3 coalesce across threads and steps 2 and 4 sum contiguous rows.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/cuda/launch.cuh"
#include "ops/ssm/ssm.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 128;
constexpr int kChunk = 16;  // states per thread per sweep, in registers

__device__ __forceinline__ float softplus(float v) { return v > 20.0f ? v : log1pf(expf(v)); }
__device__ __forceinline__ float softplus_grad(float v) { return v > 20.0f ? 1.0f : 1.0f / (1.0f + expf(-v)); }

struct SsmArgs {
  const float *x, *dt, *a_log, *bm, *cm, *dv;  // [B, T, D] x2, [D, N], [B, T, N] x2, [D]
  int64_t batch, len, dim, state;
};

#define BENCHSUITE_GRID_STRIDE(i, n)                                                                  \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// y for each (batch, channel); N == 0 still writes y = D x (the loop runs once).
__global__ void __launch_bounds__(kThreads) mamba_ssm_kernel(const SsmArgs s, float* __restrict__ y) {
  const int64_t N = s.state;
  BENCHSUITE_GRID_STRIDE(bd, s.batch * s.dim) {
    const int64_t b = bd / s.dim, d = bd % s.dim;
    int64_t n0 = 0;
    do {
      float a_neg[kChunk], h[kChunk];
#pragma unroll
      for (int j = 0; j < kChunk; ++j) {
        const int64_t n = n0 + j;
        a_neg[j] = n < N ? -expf(s.a_log[d * N + n]) : 0.0f;
        h[j] = 0.0f;
      }
      for (int64_t t = 0; t < s.len; ++t) {
        const int64_t i = (b * s.len + t) * s.dim + d, row = (b * s.len + t) * N;
        const float delta = softplus(s.dt[i]), xi = s.x[i];
        float out = n0 == 0 ? s.dv[d] * xi : y[i];
#pragma unroll
        for (int j = 0; j < kChunk; ++j) {
          const int64_t n = n0 + j;
          if (n < N) {
            h[j] = expf(delta * a_neg[j]) * h[j] + delta * s.bm[row + n] * xi;
            out += h[j] * s.cm[row + n];
          }
        }
        y[i] = out;
      }
      n0 += kChunk;
    } while (n0 < N);
  }
}

// hs[((b T + t) N + n) D + d] = h_t[b, d, n], the state after step t.
__global__ void __launch_bounds__(kThreads) mamba_states_kernel(const SsmArgs s, float* __restrict__ hs) {
  const int64_t N = s.state;
  BENCHSUITE_GRID_STRIDE(bd, s.batch * s.dim) {
    const int64_t b = bd / s.dim, d = bd % s.dim;
    for (int64_t n0 = 0; n0 < N; n0 += kChunk) {
      float a_neg[kChunk], h[kChunk];
#pragma unroll
      for (int j = 0; j < kChunk; ++j) {
        a_neg[j] = n0 + j < N ? -expf(s.a_log[d * N + n0 + j]) : 0.0f;
        h[j] = 0.0f;
      }
      for (int64_t t = 0; t < s.len; ++t) {
        const int64_t i = (b * s.len + t) * s.dim + d, row = (b * s.len + t) * N;
        const float delta = softplus(s.dt[i]), xi = s.x[i];
#pragma unroll
        for (int j = 0; j < kChunk; ++j) {
          const int64_t n = n0 + j;
          if (n < N) {
            h[j] = expf(delta * a_neg[j]) * h[j] + delta * s.bm[row + n] * xi;
            hs[(row + n) * s.dim + d] = h[j];
          }
        }
      }
    }
  }
}

// out[r] = sum over d of (dy[r / N, d] or 1) * terms[r D + d], d in order; r = (b T + t) N + n.
__global__ void __launch_bounds__(kThreads) sum_channels_kernel(const float* __restrict__ terms,
                                                                const float* __restrict__ dy, float* __restrict__ out,
                                                                int64_t rows, int64_t dim, int64_t state) {
  BENCHSUITE_GRID_STRIDE(r, rows) {
    const float* v = terms + r * dim;
    const float* g = dy ? dy + (r / state) * dim : nullptr;
    float sum = 0.0f;
    for (int64_t d = 0; d < dim; ++d) sum += g ? g[d] * v[d] : v[d];
    out[r] = sum;
  }
}

// The reverse recurrence per (batch, channel); hs holds the states on entry and this
// channel's dB terms g_t[n] delta_t x_t on return. part_a [B, D, N], part_d [B, D].
__global__ void __launch_bounds__(kThreads) mamba_reverse_kernel(const SsmArgs s, const float* __restrict__ dy,
                                                                 float* __restrict__ hs, float* __restrict__ dx,
                                                                 float* __restrict__ ddt, float* __restrict__ part_a,
                                                                 float* __restrict__ part_d) {
  const int64_t N = s.state, D = s.dim;
  BENCHSUITE_GRID_STRIDE(bd, s.batch * D) {
    const int64_t b = bd / D, d = bd % D;
    int64_t n0 = 0;
    do {  // at least once: dx and ddt are written even when N == 0
      float a_neg[kChunk], g[kChunk], ga[kChunk];
#pragma unroll
      for (int j = 0; j < kChunk; ++j) {
        a_neg[j] = n0 + j < N ? -expf(s.a_log[d * N + n0 + j]) : 0.0f;
        g[j] = 0.0f;  // d loss / d h_t, carried from the future
        ga[j] = 0.0f;
      }
      for (int64_t t = s.len - 1; t >= 0; --t) {
        const int64_t i = (b * s.len + t) * D + d, row = (b * s.len + t) * N;
        const float gy = dy[i], xi = s.x[i], delta = softplus(s.dt[i]);
        float g_delta = 0.0f, g_x = n0 == 0 ? gy * s.dv[d] : 0.0f;
#pragma unroll
        for (int j = 0; j < kChunk; ++j) {
          const int64_t n = n0 + j;
          if (n < N) {
            const float a = expf(delta * a_neg[j]), bn = s.bm[row + n];
            const float h_prev = t > 0 ? hs[(row - N + n) * D + d] : 0.0f;
            g[j] += gy * s.cm[row + n];
            const float g_a = g[j] * h_prev;  // through a_t = exp(delta A)
            g_delta += g_a * a * a_neg[j] + g[j] * bn * xi;
            ga[j] += g_a * a * delta * a_neg[j];  // d a / d A_log = a delta A
            hs[(row + n) * D + d] = g[j] * delta * xi;  // h_t is not read again
            g_x += g[j] * delta * bn;
            g[j] *= a;
          }
        }
        if (n0 == 0) {
          dx[i] = g_x;
          ddt[i] = g_delta;
        } else {
          dx[i] += g_x;
          ddt[i] += g_delta;
        }
      }
#pragma unroll
      for (int j = 0; j < kChunk; ++j)
        if (n0 + j < N) part_a[bd * N + n0 + j] = ga[j];
      n0 += kChunk;
    } while (n0 < N);
    float gd = 0.0f;
    for (int64_t t = 0; t < s.len; ++t) {
      const int64_t i = (b * s.len + t) * D + d;
      ddt[i] *= softplus_grad(s.dt[i]);
      gd += dy[i] * s.x[i];
    }
    part_d[bd] = gd;
  }
}

// out[j] = sum over b of parts[b count + j], b in order.
__global__ void __launch_bounds__(kThreads) sum_batches_kernel(const float* __restrict__ parts,
                                                               float* __restrict__ out, int64_t batch,
                                                               int64_t count) {
  BENCHSUITE_GRID_STRIDE(j, count) {
    float sum = 0.0f;
    for (int64_t b = 0; b < batch; ++b) sum += parts[b * count + j];
    out[j] = sum;
  }
}
#undef BENCHSUITE_GRID_STRIDE

SsmArgs make_args(const float* x, const float* dt, const float* a_log, const float* bm, const float* cm,
                  const float* dv, int64_t batch, int64_t len, int64_t dim, int64_t state) {
  return SsmArgs{x, dt, a_log, bm, cm, dv, batch, len, dim, state};
}
}  // namespace

void mamba_ssm_f32(const float* x, const float* dt, const float* a_log, const float* bm, const float* cm,
                   const float* dv, float* y, int64_t batch, int64_t len, int64_t dim, int64_t state,
                   StreamHandle stream) {
  const int64_t channels = batch * dim;
  if (channels == 0 || len == 0) return;
  mamba_ssm_kernel<<<detail::grid_for(channels, kThreads), kThreads, 0, detail::as_stream(stream)>>>(
      make_args(x, dt, a_log, bm, cm, dv, batch, len, dim, state), y);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

int64_t mamba_ssm_backward_workspace(int64_t batch, int64_t len, int64_t dim, int64_t state) {
  return batch * len * state * dim + batch * dim * state + batch * dim;
}

void mamba_ssm_backward_f32(const float* dy, const float* x, const float* dt, const float* a_log, const float* bm,
                            const float* cm, const float* dv, float* dx, float* ddt, float* da_log, float* dbm,
                            float* dcm, float* ddv, float* workspace, int64_t batch, int64_t len, int64_t dim,
                            int64_t state, StreamHandle stream) {
  cudaStream_t st = detail::as_stream(stream);
  const SsmArgs s = make_args(x, dt, a_log, bm, cm, dv, batch, len, dim, state);
  const int64_t channels = batch * dim, rows = batch * len * state;
  float* hs = workspace;
  float* part_a = hs + rows * dim;
  float* part_d = part_a + channels * state;
  if (channels > 0 && len > 0) {
    mamba_states_kernel<<<detail::grid_for(channels, kThreads), kThreads, 0, st>>>(s, hs);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  if (rows > 0) {  // dC from the states, before step 3 overwrites them
    sum_channels_kernel<<<detail::grid_for(rows, kThreads), kThreads, 0, st>>>(hs, dy, dcm, rows, dim, state);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  if (channels > 0) {  // also T == 0: the partials are zero
    mamba_reverse_kernel<<<detail::grid_for(channels, kThreads), kThreads, 0, st>>>(s, dy, hs, dx, ddt, part_a,
                                                                                   part_d);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  if (rows > 0) {
    sum_channels_kernel<<<detail::grid_for(rows, kThreads), kThreads, 0, st>>>(hs, nullptr, dbm, rows, dim, state);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  if (dim * state > 0) {
    sum_batches_kernel<<<detail::grid_for(dim * state, kThreads), kThreads, 0, st>>>(part_a, da_log, batch,
                                                                                    dim * state);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  if (dim > 0) {
    sum_batches_kernel<<<detail::grid_for(dim, kThreads), kThreads, 0, st>>>(part_d, ddv, batch, dim);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace benchsuite::cuda
