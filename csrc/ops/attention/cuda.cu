// CUDA kernels of scaled dot-product attention (formulas in ops/attention/attention.h):
// naive forward/backward through a materialised fp32 [bh, S, S] workspace, and a SIMT
// flash-style forward (online softmax, K/V tiles in shared memory, no S x S buffer). All are
// templated on the element type T (float, __half, __nv_bfloat16): loads widen to float, the
// arithmetic is fp32, stores round once to T; lse is float32 for every T.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "core/error.h"
#include "ops/attention/attention.h"
#include "core/cuda/block_reduce.cuh"
#include "core/cuda/convert.cuh"
#include "core/cuda/dispatch.cuh"
#include "core/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
using detail::from_float;
using detail::to_float;
using detail::as_stream;
using detail::grid_for;

constexpr int kThreads = 256;

template <class T>
__device__ __forceinline__ float dot_rows(const T* __restrict__ a, const T* __restrict__ b, int64_t n) {
  float s = 0.0f;
  for (int64_t d = 0; d < n; ++d) s = fmaf(to_float(a[d]), to_float(b[d]), s);
  return s;
}

// ---- naive forward -----------------------------------------------------------------------------
// scores[b, i, j] = q_i . k_j * scale, -inf where causal masks it. One thread per element.
template <class T>
__global__ void scores_kernel(const T* __restrict__ q, const T* __restrict__ k, float* __restrict__ scores, int64_t bh,
                              int64_t S, int64_t D, float scale, bool causal) {
  const int64_t n = bh * S * S;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = e % S, i = (e / S) % S, b = e / (S * S);
    scores[e] = (causal && j > i) ? -INFINITY : dot_rows(q + (b * S + i) * D, k + (b * S + j) * D, D) * scale;
  }
}

// A block per row of [rows, S] scores: in place P = softmax(row), lse = log-sum-exp.
// Every row has at least one finite entry (key 0), so the max is finite.
__global__ void row_softmax_kernel(float* __restrict__ p, float* __restrict__ lse, int64_t rows, int64_t S) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    float* row = p + r * S;
    float m = -__FLT_MAX__;
    for (int64_t c = threadIdx.x; c < S; c += kThreads) m = fmaxf(m, row[c]);
    m = detail::block_max<kThreads>(m);
    float s = 0.0f;
    for (int64_t c = threadIdx.x; c < S; c += kThreads) s += expf(row[c] - m);  // exp(-inf) = 0
    s = detail::block_sum<kThreads>(s);
    const float inv = 1.0f / s;
    for (int64_t c = threadIdx.x; c < S; c += kThreads) row[c] = expf(row[c] - m) * inv;
    if (threadIdx.x == 0) lse[r] = m + logf(s);
  }
}

// out[b, i, d] = alpha * sum_j A[b, i, j] * B[b, j, d]   (A [bh, S, S], B [bh, S, D]), or with
// A transposed (sum_j A[b, j, i] * B[b, j, d]) when kTransA. One thread per output element.
template <bool kTransA, class T>
__global__ void batched_av_kernel(const float* __restrict__ a, const T* __restrict__ bmat, T* __restrict__ out,
                                  int64_t bh, int64_t S, int64_t D, float alpha) {
  const int64_t n = bh * S * D;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t d = e % D, i = (e / D) % S, b = e / (S * D);
    const float* ab = a + b * S * S;
    const T* bb = bmat + b * S * D + d;
    float acc = 0.0f;
    for (int64_t j = 0; j < S; ++j) acc = fmaf(kTransA ? ab[j * S + i] : ab[i * S + j], to_float(bb[j * D]), acc);
    out[e] = from_float<T>(acc * alpha);
  }
}

// ---- naive backward ----------------------------------------------------------------------------
// p[b, i, j] = exp(q_i . k_j * scale - lse[b, i]), 0 where masked.
template <class T>
__global__ void probs_kernel(const T* __restrict__ q, const T* __restrict__ k, const float* __restrict__ lse,
                             float* __restrict__ p, int64_t bh, int64_t S, int64_t D, float scale, bool causal) {
  const int64_t n = bh * S * S;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = e % S, i = (e / S) % S, b = e / (S * S);
    p[e] =
        (causal && j > i) ? 0.0f : expf(dot_rows(q + (b * S + i) * D, k + (b * S + j) * D, D) * scale - lse[b * S + i]);
  }
}

// In place: p -> dS = p * (do_i . v_j - do_i . o_i).
template <class T>
__global__ void dscores_kernel(const T* __restrict__ dout, const T* __restrict__ v, const T* __restrict__ o,
                               float* __restrict__ p, int64_t bh, int64_t S, int64_t D) {
  const int64_t n = bh * S * S;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = e % S, i = (e / S) % S, b = e / (S * S);
    const float pij = p[e];
    if (pij == 0.0f) continue;  // masked (or underflowed): dS = 0 either way
    const T* gi = dout + (b * S + i) * D;
    p[e] = pij * (dot_rows(gi, v + (b * S + j) * D, D) - dot_rows(gi, o + (b * S + i) * D, D));
  }
}

// ---- flash forward -----------------------------------------------------------------------------
constexpr int kBq = 64;                     // queries per block
constexpr int kBk = 32;                     // keys per tile: one per lane
constexpr int kWarps = kThreads / 32;       // 8
constexpr int kRowsPerWarp = kBq / kWarps;  // 8

__device__ __forceinline__ float warp_max(float v) {
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// Shared memory: Qs [kBq, D], Ks [kBk, D + 1] (padded: lane j reads row j, no bank
// conflicts), Vs [kBk, D], all float (T widened on load). Lane c of a warp owns output
// columns c, c + 32, ... (kChunks of them, D <= 32 * kChunks). Blocks walk (bh, query tile)
// pairs grid-stride.
template <int kChunks, class T>
__global__ void __launch_bounds__(kThreads)
    flash_forward_kernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v, T* __restrict__ o,
                         float* __restrict__ lse, int64_t bh, int64_t S, int D, float scale, bool causal) {
  extern __shared__ float smem[];
  float* Qs = smem;
  float* Ks = Qs + kBq * D;
  float* Vs = Ks + kBk * (D + 1);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t qtiles = (S + kBq - 1) / kBq, total = bh * qtiles;
  for (int64_t t = blockIdx.x; t < total; t += gridDim.x) {
    const int64_t b = t / qtiles, i0 = (t % qtiles) * kBq;
    const T* qb = q + b * S * D;
    const T* kb = k + b * S * D;
    const T* vb = v + b * S * D;
    __syncthreads();  // the previous tile's readers of Qs are done
    for (int e = threadIdx.x; e < kBq * D; e += kThreads) {
      const int r = e / D, c = e % D;
      Qs[e] = i0 + r < S ? to_float(qb[(i0 + r) * D + c]) : 0.0f;
    }
    float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kChunks];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      m[rr] = -INFINITY;
      l[rr] = 0.0f;
#pragma unroll
      for (int c = 0; c < kChunks; ++c) acc[rr][c] = 0.0f;
    }
    // Causal: keys past the block's last query are masked for every row.
    const int64_t kend = causal ? min(S, i0 + kBq) : S;
    for (int64_t j0 = 0; j0 < kend; j0 += kBk) {
      __syncthreads();  // Qs loaded; the previous K/V tile's readers are done
      for (int e = threadIdx.x; e < kBk * D; e += kThreads) {
        const int r = e / D, c = e % D;
        const bool ok = j0 + r < S;
        Ks[r * (D + 1) + c] = ok ? to_float(kb[(j0 + r) * D + c]) : 0.0f;
        Vs[e] = ok ? to_float(vb[(j0 + r) * D + c]) : 0.0f;
      }
      __syncthreads();
      const int64_t j = j0 + lane;
#pragma unroll
      for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        const int r = warp * kRowsPerWarp + rr;
        const int64_t i = i0 + r;
        if (i >= S) continue;  // warp-uniform
        float s = -INFINITY;
        if (j < S && (!causal || j <= i)) {
          const float* qr = Qs + r * D;
          const float* kr = Ks + lane * (D + 1);
          float dot = 0.0f;
          for (int d = 0; d < D; ++d) dot = fmaf(qr[d], kr[d], dot);
          s = dot * scale;
        }
        const float tile_max = warp_max(s);
        if (tile_max == -INFINITY) continue;  // warp-uniform: every key of this tile masked
        const float m_new = fmaxf(m[rr], tile_max);
        const float alpha = expf(m[rr] - m_new);  // 0 on the first tile (m = -inf)
        const float p = expf(s - m_new);          // 0 for masked keys
        l[rr] = l[rr] * alpha + warp_sum(p);
        m[rr] = m_new;
#pragma unroll
        for (int c = 0; c < kChunks; ++c) acc[rr][c] *= alpha;
        for (int jj = 0; jj < kBk; ++jj) {
          const float pj = __shfl_sync(0xffffffffu, p, jj);
          const float* vr = Vs + jj * D;
#pragma unroll
          for (int c = 0; c < kChunks; ++c) {
            const int d = lane + 32 * c;
            if (d < D) acc[rr][c] = fmaf(pj, vr[d], acc[rr][c]);
          }
        }
      }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      const int64_t i = i0 + warp * kRowsPerWarp + rr;
      if (i >= S) continue;
      const float inv = 1.0f / l[rr];  // l > 0: key 0 is visible to every row
      T* orow = o + (b * S + i) * D;
#pragma unroll
      for (int c = 0; c < kChunks; ++c) {
        const int d = lane + 32 * c;
        if (d < D) orow[d] = from_float<T>(acc[rr][c] * inv);
      }
      if (lane == 0) lse[b * S + i] = m[rr] + logf(l[rr]);
    }
  }
}

template <int kChunks, class T>
void launch_flash(const T* q, const T* k, const T* v, T* o, float* lse, int64_t bh, int64_t S, int64_t D, float scale,
                  bool causal, cudaStream_t stream) {
  const size_t smem = static_cast<size_t>(kBq * D + kBk * (D + 1) + kBk * D) * sizeof(float);
  if (smem > 48 * 1024)
    BENCHSUITE_CUDA_CHECK(cudaFuncSetAttribute(flash_forward_kernel<kChunks, T>,
                                               cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const int64_t total = bh * ((S + kBq - 1) / kBq);
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(total, INT_MAX));
  flash_forward_kernel<kChunks, T>
      <<<grid, kThreads, smem, stream>>>(q, k, v, o, lse, bh, S, static_cast<int>(D), scale, causal);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}
}  // namespace

void attention_forward_naive(DType dtype, const void* q, const void* k, const void* v, void* o, float* lse,
                             float* workspace, int64_t bh, int64_t seq_len, int64_t head_dim, float scale, bool causal,
                             StreamHandle stream) {
  detail::dispatch_float(dtype, "attention_forward_naive", [&](auto tag) {
    using T = decltype(tag);
    const T *qt = static_cast<const T*>(q), *kt = static_cast<const T*>(k), *vt = static_cast<const T*>(v);
    const cudaStream_t s = as_stream(stream);
    const int64_t S = seq_len, D = head_dim, rows = bh * S;
    scores_kernel<T><<<grid_for(rows * S, kThreads), kThreads, 0, s>>>(qt, kt, workspace, bh, S, D, scale, causal);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    const unsigned row_grid = static_cast<unsigned>(std::min<int64_t>(rows, INT_MAX));
    row_softmax_kernel<<<row_grid, kThreads, 0, s>>>(workspace, lse, rows, S);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    batched_av_kernel<false, T>
        <<<grid_for(rows * D, kThreads), kThreads, 0, s>>>(workspace, vt, static_cast<T*>(o), bh, S, D, 1.0f);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void attention_forward_flash(DType dtype, const void* q, const void* k, const void* v, void* o, float* lse, int64_t bh,
                             int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream) {
  detail::dispatch_float(dtype, "attention_forward_flash", [&](auto tag) {
    using T = decltype(tag);
    const T *qt = static_cast<const T*>(q), *kt = static_cast<const T*>(k), *vt = static_cast<const T*>(v);
    T* ot = static_cast<T*>(o);
    const cudaStream_t s = as_stream(stream);
    if (head_dim <= 32)
      launch_flash<1, T>(qt, kt, vt, ot, lse, bh, seq_len, head_dim, scale, causal, s);
    else if (head_dim <= 64)
      launch_flash<2, T>(qt, kt, vt, ot, lse, bh, seq_len, head_dim, scale, causal, s);
    else if (head_dim <= 128)
      launch_flash<4, T>(qt, kt, vt, ot, lse, bh, seq_len, head_dim, scale, causal, s);
    else
      launch_flash<8, T>(qt, kt, vt, ot, lse, bh, seq_len, head_dim, scale, causal, s);
  });
}

void attention_backward_naive(DType dtype, const void* dout, const void* q, const void* k, const void* v, const void* o,
                              const float* lse, void* dq, void* dk, void* dv, float* workspace, int64_t bh,
                              int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream) {
  detail::dispatch_float(dtype, "attention_backward_naive", [&](auto tag) {
    using T = decltype(tag);
    const T *gt = static_cast<const T*>(dout), *qt = static_cast<const T*>(q), *kt = static_cast<const T*>(k),
            *vt = static_cast<const T*>(v), *ot = static_cast<const T*>(o);
    const cudaStream_t s = as_stream(stream);
    const int64_t S = seq_len, D = head_dim, nss = bh * S * S, nsd = bh * S * D;
    probs_kernel<T><<<grid_for(nss, kThreads), kThreads, 0, s>>>(qt, kt, lse, workspace, bh, S, D, scale, causal);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    batched_av_kernel<true, T>
        <<<grid_for(nsd, kThreads), kThreads, 0, s>>>(workspace, gt, static_cast<T*>(dv), bh, S, D, 1.0f);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    dscores_kernel<T><<<grid_for(nss, kThreads), kThreads, 0, s>>>(gt, vt, ot, workspace, bh, S, D);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    batched_av_kernel<false, T>
        <<<grid_for(nsd, kThreads), kThreads, 0, s>>>(workspace, kt, static_cast<T*>(dq), bh, S, D, scale);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    batched_av_kernel<true, T>
        <<<grid_for(nsd, kThreads), kThreads, 0, s>>>(workspace, qt, static_cast<T*>(dk), bh, S, D, scale);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

// ---- attention_kv --------------------------------------------------------------------------------
namespace {
constexpr int kKvThreads = 128;
constexpr int64_t kKvChunk = 512;

// Where query row r of attention_kv reads: its batch, the start of its kv head's keys and
// values, and the key range [begin, end) its position, causality and the window leave it.
struct KvRow {
  int64_t b, kv_offset, begin, end;
};
__device__ inline KvRow kv_row(int64_t r, const cpu::AttentionKvShape& s, const cpu::AttentionKvParams& p) {
  const int64_t i = r % s.q_len, bh = r / s.q_len, b = bh / s.q_heads, h = bh % s.q_heads;
  const int64_t kvh = b * s.kv_heads + h / (s.q_heads / s.kv_heads), pos = p.q_offset + i;
  return {b, kvh * s.kv_cap * s.head_dim, p.window > 0 ? max(int64_t{0}, pos - p.window + 1) : 0,
          p.causal ? min(p.kv_len, pos + 1) : p.kv_len};
}

__global__ void attention_kv_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                    const float* __restrict__ v, const float* __restrict__ key_mask,
                                    float* __restrict__ o, cpu::AttentionKvShape s, cpu::AttentionKvParams p) {
  extern __shared__ float smem[];
  float* q_row = smem;                 // [D]
  float* acc = smem + s.head_dim;      // [D]
  float* probs = acc + s.head_dim;     // [kKvChunk]
  const int64_t D = s.head_dim;
  const int64_t rows = s.batch * s.q_heads * s.q_len;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const KvRow row = kv_row(r, s, p);
    const int64_t b = row.b, begin = row.begin, end = row.end;
    const float *kb = k + row.kv_offset, *vb = v + row.kv_offset;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
      q_row[d] = q[r * D + d];
      acc[d] = 0.0f;
    }
    __syncthreads();
    float m = -INFINITY, l = 0.0f;
    for (int64_t c0 = begin; c0 < end; c0 += kKvChunk) {
      const int64_t n = min(kKvChunk, end - c0);
      float local_max = -INFINITY;
      for (int64_t t = threadIdx.x; t < n; t += blockDim.x) {
        const int64_t j = c0 + t;
        float score = -INFINITY;
        if (key_mask == nullptr || key_mask[b * s.kv_cap + j] != 0.0f) {
          float dot = 0.0f;
          for (int64_t d = 0; d < D; ++d) dot = fmaf(q_row[d], kb[j * D + d], dot);
          score = dot * p.scale;
        }
        probs[t] = score;
        local_max = fmaxf(local_max, score);
      }
      const float chunk_max = detail::block_max<kKvThreads>(local_max);
      const float m_new = fmaxf(m, chunk_max);
      if (m_new == -INFINITY) {  // nothing visible yet
        __syncthreads();
        continue;
      }
      const float correction = m == -INFINITY ? 0.0f : expf(m - m_new);
      float local_sum = 0.0f;
      for (int64_t t = threadIdx.x; t < n; t += blockDim.x) {
        const float e = probs[t] == -INFINITY ? 0.0f : expf(probs[t] - m_new);
        probs[t] = e;
        local_sum += e;
      }
      l = l * correction + detail::block_sum<kKvThreads>(local_sum);
      __syncthreads();  // every probability written before P V reads them
      for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
        float sum = acc[d] * correction;
        for (int64_t t = 0; t < n; ++t) sum = fmaf(probs[t], vb[(c0 + t) * D + d], sum);
        acc[d] = sum;
      }
      m = m_new;
      __syncthreads();  // the chunk's probabilities read before the next chunk overwrites them
    }
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) o[r * D + d] = acc[d] * inv;
    __syncthreads();  // q_row and acc are rewritten for the next row
  }
}
}  // namespace

void attention_kv_f32(const float* q, const float* k, const float* v, const float* key_mask, float* o,
                      const cpu::AttentionKvShape& shape, const cpu::AttentionKvParams& params, StreamHandle stream) {
  const int64_t rows = shape.batch * shape.q_heads * shape.q_len;
  if (rows == 0 || shape.head_dim == 0) return;
  const size_t smem = static_cast<size_t>(2 * shape.head_dim + kKvChunk) * sizeof(float);
  BENCHSUITE_CHECK_ARG(smem <= 48 * 1024, "attention_kv (CUDA v1): head_dim=", shape.head_dim,
                       " needs more than 48 KiB of shared memory (at most 5888)");
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows, 65535));
  attention_kv_kernel<<<grid, kKvThreads, smem, as_stream(stream)>>>(q, k, v, key_mask, o, shape, params);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

// ---- attention_kv_backward -------------------------------------------------------------------
namespace {
// Whether the query at `pos` sees key j by position (causal, window); kv_len and the key mask
// are checked per key by the caller.
__device__ inline bool seen_by_position(int64_t j, int64_t pos, const cpu::AttentionKvParams& p) {
  return !(p.causal && j > pos) && !(p.window > 0 && j <= pos - p.window);
}

// The two dot products of a (query row, key) pair the backward needs: the score q . k and
// dP = do . v (the same summation order in every kernel, so they agree on P).
__device__ inline void score_and_dp(const float* q, const float* k, const float* dout, const float* v, int64_t n,
                                    float& dot, float& dp) {
  dot = 0.0f;
  dp = 0.0f;
  for (int64_t d = 0; d < n; ++d) {
    dot = fmaf(q[d], k[d], dot);
    dp = fmaf(dout[d], v[d], dp);
  }
}

// Block per query row: pass 1 over the visible keys in chunks gives m, l = sum e^(s - m) and
// t = sum e^(s - m) dP online (both rescaled as m grows), so lse = m + log l and Dr = t / l;
// pass 2 recomputes P and dS = P (dP - Dr) per chunk into shared memory and adds dS k into dq.
__global__ void attention_kv_rows_backward_kernel(const float* __restrict__ dout, const float* __restrict__ q,
                                                  const float* __restrict__ k, const float* __restrict__ v,
                                                  const float* __restrict__ key_mask, float* __restrict__ dq,
                                                  float* __restrict__ stats, cpu::AttentionKvShape s,
                                                  cpu::AttentionKvParams p) {
  extern __shared__ float smem[];
  float* q_row = smem;                // [D]
  float* do_row = q_row + s.head_dim;  // [D]
  float* scores = do_row + s.head_dim;  // [kKvChunk]
  float* dprobs = scores + kKvChunk;    // [kKvChunk]
  const int64_t D = s.head_dim;
  const int64_t rows = s.batch * s.q_heads * s.q_len;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const KvRow row = kv_row(r, s, p);
    const int64_t b = row.b, begin = row.begin, end = row.end;
    const float *kb = k + row.kv_offset, *vb = v + row.kv_offset;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
      q_row[d] = q[r * D + d];
      do_row[d] = dout[r * D + d];
    }
    __syncthreads();
    float m = -INFINITY, l = 0.0f, t = 0.0f;
    for (int64_t c0 = begin; c0 < end; c0 += kKvChunk) {
      const int64_t n = min(kKvChunk, end - c0);
      float local_max = -INFINITY;
      for (int64_t u = threadIdx.x; u < n; u += blockDim.x) {
        const int64_t j = c0 + u;
        float score = -INFINITY, dp = 0.0f;
        if (key_mask == nullptr || key_mask[b * s.kv_cap + j] != 0.0f) {
          float dot;
          score_and_dp(q_row, kb + j * D, do_row, vb + j * D, D, dot, dp);
          score = dot * p.scale;
        }
        scores[u] = score;
        dprobs[u] = dp;
        local_max = fmaxf(local_max, score);
      }
      const float m_new = fmaxf(m, detail::block_max<kKvThreads>(local_max));
      if (m_new == -INFINITY) {
        __syncthreads();
        continue;
      }
      const float correction = m == -INFINITY ? 0.0f : expf(m - m_new);
      float local_l = 0.0f, local_t = 0.0f;
      for (int64_t u = threadIdx.x; u < n; u += blockDim.x) {
        const float e = scores[u] == -INFINITY ? 0.0f : expf(scores[u] - m_new);
        local_l += e;
        local_t += e * dprobs[u];
      }
      l = l * correction + detail::block_sum<kKvThreads>(local_l);
      t = t * correction + detail::block_sum<kKvThreads>(local_t);
      m = m_new;
      __syncthreads();  // the chunk read before the next one overwrites it
    }
    const float lse = l > 0.0f ? m + logf(l) : -INFINITY;
    const float dr = l > 0.0f ? t / l : 0.0f;
    if (threadIdx.x == 0) {
      stats[2 * r] = lse;
      stats[2 * r + 1] = dr;
    }
    float* dq_row = dq + r * D;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) dq_row[d] = 0.0f;
    for (int64_t c0 = begin; l > 0.0f && c0 < end; c0 += kKvChunk) {
      const int64_t n = min(kKvChunk, end - c0);
      for (int64_t u = threadIdx.x; u < n; u += blockDim.x) {
        const int64_t j = c0 + u;
        float ds = 0.0f;
        if (key_mask == nullptr || key_mask[b * s.kv_cap + j] != 0.0f) {
          float dot, dp;
          score_and_dp(q_row, kb + j * D, do_row, vb + j * D, D, dot, dp);
          ds = expf(dot * p.scale - lse) * (dp - dr) * p.scale;
        }
        scores[u] = ds;
      }
      __syncthreads();  // dS of the chunk written before the columns read it
      for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
        float sum = dq_row[d];
        for (int64_t u = 0; u < n; ++u) sum = fmaf(scores[u], kb[(c0 + u) * D + d], sum);
        dq_row[d] = sum;
      }
      __syncthreads();
    }
    __syncthreads();  // q_row and do_row are rewritten for the next row
  }
}

// Block per key row j of kv head (b, g): the query rows of the group's heads in chunks, a
// thread per row computing P_ij from the row's lse and dS_ij from its Dr (zero where j is not
// visible), then a thread per column adds P do into dv_j and dS q into dk_j.
__global__ void attention_kv_keys_backward_kernel(const float* __restrict__ dout, const float* __restrict__ q,
                                                  const float* __restrict__ k, const float* __restrict__ v,
                                                  const float* __restrict__ key_mask,
                                                  const float* __restrict__ stats, float* __restrict__ dk,
                                                  float* __restrict__ dv, cpu::AttentionKvShape s,
                                                  cpu::AttentionKvParams p) {
  extern __shared__ float smem[];
  float* k_row = smem;                  // [D]
  float* v_row = k_row + s.head_dim;     // [D]
  float* probs = v_row + s.head_dim;     // [kKvChunk]
  float* dscores = probs + kKvChunk;     // [kKvChunk]
  const int64_t D = s.head_dim, group = s.q_heads / s.kv_heads;
  const int64_t key_rows = s.batch * s.kv_heads * s.kv_cap, q_rows = group * s.q_len;
  for (int64_t kr = blockIdx.x; kr < key_rows; kr += gridDim.x) {
    const int64_t j = kr % s.kv_cap, bk = kr / s.kv_cap, b = bk / s.kv_heads, g = bk % s.kv_heads;
    float *dk_row = dk + kr * D, *dv_row = dv + kr * D;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
      k_row[d] = k[kr * D + d];
      v_row[d] = v[kr * D + d];
      dk_row[d] = 0.0f;
      dv_row[d] = 0.0f;
    }
    __syncthreads();
    // a key past kv_len or masked out is seen by no query: its gradients stay zero
    const bool live = j < p.kv_len && (key_mask == nullptr || key_mask[b * s.kv_cap + j] != 0.0f);
    // the group's query rows: head g * group + u / q_len, row u % q_len
    const int64_t first_row = (b * s.q_heads + g * group) * s.q_len;
    for (int64_t c0 = 0; live && c0 < q_rows; c0 += kKvChunk) {
      const int64_t n = min(kKvChunk, q_rows - c0);
      for (int64_t u = threadIdx.x; u < n; u += blockDim.x) {
        const int64_t r = first_row + c0 + u, i = (c0 + u) % s.q_len;
        float prob = 0.0f, ds = 0.0f;
        if (seen_by_position(j, p.q_offset + i, p)) {
          float dot, dp;
          score_and_dp(q + r * D, k_row, dout + r * D, v_row, D, dot, dp);
          prob = expf(dot * p.scale - stats[2 * r]);
          ds = prob * (dp - stats[2 * r + 1]) * p.scale;
        }
        probs[u] = prob;
        dscores[u] = ds;
      }
      __syncthreads();
      for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
        float sum_k = dk_row[d], sum_v = dv_row[d];
        for (int64_t u = 0; u < n; ++u) {
          const int64_t r = first_row + c0 + u;
          sum_k = fmaf(dscores[u], q[r * D + d], sum_k);
          sum_v = fmaf(probs[u], dout[r * D + d], sum_v);
        }
        dk_row[d] = sum_k;
        dv_row[d] = sum_v;
      }
      __syncthreads();
    }
    __syncthreads();  // k_row and v_row are rewritten for the next key
  }
}
}  // namespace

void attention_kv_backward_f32(const float* dout, const float* q, const float* k, const float* v,
                               const float* key_mask, float* dq, float* dk, float* dv, float* stats,
                               const cpu::AttentionKvShape& shape, const cpu::AttentionKvParams& params,
                               StreamHandle stream) {
  const int64_t rows = shape.batch * shape.q_heads * shape.q_len;
  const int64_t key_rows = shape.batch * shape.kv_heads * shape.kv_cap;
  if (shape.head_dim == 0) return;
  const size_t smem = static_cast<size_t>(2 * shape.head_dim + 2 * kKvChunk) * sizeof(float);
  BENCHSUITE_CHECK_ARG(smem <= 48 * 1024, "attention_kv_backward (CUDA v1): head_dim=", shape.head_dim,
                       " needs more than 48 KiB of shared memory (at most 5632)");
  // the rows' lse and Dr (stats) first: the key pass reads them
  if (rows > 0) {
    attention_kv_rows_backward_kernel<<<static_cast<unsigned>(std::min<int64_t>(rows, 65535)), kKvThreads, smem,
                                        as_stream(stream)>>>(dout, q, k, v, key_mask, dq, stats, shape, params);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  if (key_rows > 0) {
    attention_kv_keys_backward_kernel<<<static_cast<unsigned>(std::min<int64_t>(key_rows, 65535)), kKvThreads, smem,
                                        as_stream(stream)>>>(dout, q, k, v, key_mask, stats, dk, dv, shape, params);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace benchsuite::cuda
