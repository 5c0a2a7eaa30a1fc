// attention_backward cuda v2: a FlashAttention-2-style backward without an S x S buffer.
// Dr = rowsum(do * o) first; then a block per (bh, 32 keys) walks 32-query tiles,
// recomputes P = exp(q k^T * scale - lse) and dS = P (do v^T - Dr) in shared memory, keeps
// dK and dV of its keys in registers and adds dQ into an fp32 accumulator with atomicAdd;
// a last pass rounds dQ to the element type. SIMT fp32 math for float/__half/__nv_bfloat16.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "common/error.h"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
using attn::from_float;
using attn::to_float;
using detail::as_stream;
using detail::grid_for;

constexpr int kThreads = 256;
constexpr int kTile = 32;  // keys per block, queries per step

// dr[row] = sum_d do[row, d] * o[row, d]: a warp per row.
template <class T>
__global__ void __launch_bounds__(kThreads) dot_rows_kernel(const T* __restrict__ dout, const T* __restrict__ o,
                                                            float* __restrict__ dr, int64_t rows, int64_t D) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (kThreads / 32);
  for (int64_t r = blockIdx.x * static_cast<int64_t>(kThreads / 32) + threadIdx.x / 32; r < rows; r += warps) {
    float s = 0.0f;
    for (int64_t d = lane; d < D; d += 32) s = fmaf(to_float(dout[r * D + d]), to_float(o[r * D + d]), s);
    for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
    if (lane == 0) dr[r] = s;
  }
}

template <class T>
__global__ void round_kernel(const float* __restrict__ in, T* __restrict__ out, int64_t n) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[e] = from_float<T>(in[e]);
}

// Shared memory (floats, rows padded to D + 1 so a warp reading 32 different rows at one
// column hits 32 banks): Ks, Vs [32][D+1] (this block's keys), Qs, Gs [32][D+1] (the query
// tile's q and do), Ps, dSs [32][33], Ls, Rs [32] (lse, Dr of the query tile).
// Thread ownership of the [32, D] accumulators dK/dV (and of the dQ tile): element
// e = threadIdx.x + 256 u, (row, col) = (e / D, e % D), u < kPer = ceil(32 D / 256).
template <int kPer, class T>
__global__ void __launch_bounds__(kThreads)
    flash_backward_kernel(const T* __restrict__ dout,              // [bh, S, D]
                          const T* __restrict__ q,                 // [bh, S, D]
                          const T* __restrict__ k,                 // [bh, S, D]
                          const T* __restrict__ v,                 // [bh, S, D]
                          const float* __restrict__ lse,           // [bh, S]
                          const float* __restrict__ dr,            // [bh, S]
                          float* __restrict__ dq_acc,              // [bh, S, D], zeroed
                          T* __restrict__ dk, T* __restrict__ dv,  // [bh, S, D]
                          int64_t bh, int64_t S, int D, float scale, bool causal) {
  extern __shared__ float smem[];
  const int ld = D + 1;
  float* Ks = smem;
  float* Vs = Ks + kTile * ld;
  float* Qs = Vs + kTile * ld;
  float* Gs = Qs + kTile * ld;
  float* Ps = Gs + kTile * ld;
  float* dSs = Ps + kTile * (kTile + 1);
  float* Ls = dSs + kTile * (kTile + 1);
  float* Rs = Ls + kTile;
  const int tid = threadIdx.x;
  const int n_elems = kTile * D;  // <= 32 * 256 = kPer * kThreads
  const int64_t j0 = static_cast<int64_t>(blockIdx.x) * kTile;

  for (int64_t b = blockIdx.y; b < bh; b += gridDim.y) {
    const int64_t off = b * S * D;
    __syncthreads();  // the previous slice's readers of the tiles are done
    for (int e = tid; e < n_elems; e += kThreads) {
      const int r = e / D, c = e % D;
      const bool ok = j0 + r < S;
      Ks[r * ld + c] = ok ? to_float(k[off + (j0 + r) * D + c]) : 0.0f;
      Vs[r * ld + c] = ok ? to_float(v[off + (j0 + r) * D + c]) : 0.0f;
    }
    float acc_dk[kPer], acc_dv[kPer];
#pragma unroll
    for (int u = 0; u < kPer; ++u) acc_dk[u] = acc_dv[u] = 0.0f;

    // Causal: queries before j0 see none of these keys (tiles are aligned: kTile rows each).
    for (int64_t i0 = causal ? j0 : 0; i0 < S; i0 += kTile) {
      __syncthreads();  // the previous query tile's readers are done (and K/V are loaded)
      for (int e = tid; e < n_elems; e += kThreads) {
        const int r = e / D, c = e % D;
        const bool ok = i0 + r < S;
        Qs[r * ld + c] = ok ? to_float(q[off + (i0 + r) * D + c]) : 0.0f;
        Gs[r * ld + c] = ok ? to_float(dout[off + (i0 + r) * D + c]) : 0.0f;
      }
      if (tid < kTile) {
        const bool ok = i0 + tid < S;
        Ls[tid] = ok ? lse[b * S + i0 + tid] : 0.0f;
        Rs[tid] = ok ? dr[b * S + i0 + tid] : 0.0f;
      }
      __syncthreads();
      // P and dS for the 32 x 32 tile: lane = key column (conflict-free padded K/V rows), the
      // query row is warp-uniform (broadcast reads of Qs/Gs).
      for (int e = tid; e < kTile * kTile; e += kThreads) {
        const int ii = e / kTile, jj = e % kTile;
        const int64_t i = i0 + ii, j = j0 + jj;
        float p = 0.0f, ds = 0.0f;
        if (i < S && j < S && (!causal || j <= i)) {
          const float* qr = Qs + ii * ld;
          const float* gr = Gs + ii * ld;
          const float* kr = Ks + jj * ld;
          const float* vr = Vs + jj * ld;
          float s = 0.0f, dp = 0.0f;
          for (int d = 0; d < D; ++d) {
            s = fmaf(qr[d], kr[d], s);
            dp = fmaf(gr[d], vr[d], dp);
          }
          p = expf(s * scale - Ls[ii]);
          ds = p * (dp - Rs[ii]);
        }
        Ps[ii * (kTile + 1) + jj] = p;
        dSs[ii * (kTile + 1) + jj] = ds;
      }
      __syncthreads();
      // dV[jj, c] += sum_ii P[ii, jj] do[ii, c];  dK[jj, c] += sum_ii dS[ii, jj] q[ii, c].
#pragma unroll
      for (int u = 0; u < kPer; ++u) {
        const int e = tid + u * kThreads;
        if (e < n_elems) {
          const int jj = e / D, c = e % D;
          float av = acc_dv[u], ak = acc_dk[u];
          for (int ii = 0; ii < kTile; ++ii) {
            av = fmaf(Ps[ii * (kTile + 1) + jj], Gs[ii * ld + c], av);
            ak = fmaf(dSs[ii * (kTile + 1) + jj], Qs[ii * ld + c], ak);
          }
          acc_dv[u] = av;
          acc_dk[u] = ak;
        }
      }
      // dQ[ii, c] += scale * sum_jj dS[ii, jj] k[jj, c], added atomically: other key blocks
      // add to the same rows.
#pragma unroll
      for (int u = 0; u < kPer; ++u) {
        const int e = tid + u * kThreads;
        if (e < n_elems) {
          const int ii = e / D, c = e % D;
          if (i0 + ii < S) {
            float a = 0.0f;
            for (int jj = 0; jj < kTile; ++jj) a = fmaf(dSs[ii * (kTile + 1) + jj], Ks[jj * ld + c], a);
            atomicAdd(dq_acc + off + (i0 + ii) * D + c, a * scale);
          }
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kPer; ++u) {
      const int e = tid + u * kThreads;
      if (e < n_elems) {
        const int jj = e / D, c = e % D;
        if (j0 + jj < S) {
          dk[off + (j0 + jj) * D + c] = from_float<T>(acc_dk[u] * scale);
          dv[off + (j0 + jj) * D + c] = from_float<T>(acc_dv[u]);
        }
      }
    }
  }
}

size_t backward_smem(int64_t D) {
  return static_cast<size_t>(4 * kTile * (D + 1) + 2 * kTile * (kTile + 1) + 2 * kTile) * sizeof(float);
}

template <int kPer, class T>
void launch_backward(const T* dout, const T* q, const T* k, const T* v, const float* lse, const float* dr,
                     float* dq_acc, T* dk, T* dv, int64_t bh, int64_t S, int64_t D, float scale, bool causal,
                     cudaStream_t stream) {
  const size_t smem = backward_smem(D);
  if (smem > 48 * 1024)
    BENCHSUITE_CUDA_CHECK(cudaFuncSetAttribute(flash_backward_kernel<kPer, T>,
                                               cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const int64_t ktiles = (S + kTile - 1) / kTile;
  BENCHSUITE_CHECK(ktiles <= INT_MAX, "attention_backward v2: seq_len=", S, " needs more than 2^31 - 1 key tiles");
  const dim3 grid(static_cast<unsigned>(ktiles), static_cast<unsigned>(std::min<int64_t>(bh, 65535)));
  flash_backward_kernel<kPer, T><<<grid, kThreads, smem, stream>>>(dout, q, k, v, lse, dr, dq_acc, dk, dv, bh, S,
                                                                   static_cast<int>(D), scale, causal);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}
}  // namespace

void attention_backward_flash(DType dtype, const void* dout, const void* q, const void* k, const void* v, const void* o,
                              const float* lse, void* dq, void* dk, void* dv, float* workspace, int64_t bh,
                              int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream) {
  BENCHSUITE_CHECK_ARG(head_dim >= 1 && head_dim <= 256, "attention_backward_flash: head_dim=", head_dim,
                       " must be in [1, 256]");
  if (bh == 0 || seq_len == 0) return;
  attn::dispatch_float(dtype, "attention_backward_flash", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *gt = static_cast<const T*>(dout), *qt = static_cast<const T*>(q), *kt = static_cast<const T*>(k),
            *vt = static_cast<const T*>(v), *ot = static_cast<const T*>(o);
    T *dqt = static_cast<T*>(dq), *dkt = static_cast<T*>(dk), *dvt = static_cast<T*>(dv);
    const cudaStream_t s = as_stream(stream);
    const int64_t S = seq_len, D = head_dim, rows = bh * S;
    float* dr = workspace;             // [bh, S]
    float* dq_acc = workspace + rows;  // [bh, S, D]
    BENCHSUITE_CUDA_CHECK(cudaMemsetAsync(dq_acc, 0, static_cast<size_t>(rows * D) * sizeof(float), s));
    dot_rows_kernel<T><<<grid_for(rows, kThreads / 32), kThreads, 0, s>>>(gt, ot, dr, rows, D);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    if (D <= 64)
      launch_backward<8, T>(gt, qt, kt, vt, lse, dr, dq_acc, dkt, dvt, bh, S, D, scale, causal, s);
    else if (D <= 128)
      launch_backward<16, T>(gt, qt, kt, vt, lse, dr, dq_acc, dkt, dvt, bh, S, D, scale, causal, s);
    else
      launch_backward<32, T>(gt, qt, kt, vt, lse, dr, dq_acc, dkt, dvt, bh, S, D, scale, causal, s);
    round_kernel<T><<<grid_for(rows * D, kThreads), kThreads, 0, s>>>(dq_acc, dqt, rows * D);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace benchsuite::cuda
