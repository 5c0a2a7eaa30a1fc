// attention_backward cuda v2: a FlashAttention-2-style backward without an S x S buffer.
// Dr = rowsum(do * o) first; then a block per (bh, 32 keys) walks 32-query tiles,
// recomputes P = exp(q k^T * scale - lse) and dS = P (do v^T - Dr) in shared memory, keeps
// dK and dV of its keys in registers and adds dQ into an fp32 accumulator with atomicAdd;
// a last pass rounds dQ to the element type. v2: SIMT fp32 math for float/__half/
// __nv_bfloat16; v3: the same walk on tensor cores (mma.sync m16n8k16) for __half/
// __nv_bfloat16 on sm_80+, head_dim <= 128.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <type_traits>

#include "core/error.h"
#include "ops/attention/cuda.cuh"
#include "ops/attention/attention.h"
#include "core/cuda/convert.cuh"
#include "core/cuda/dispatch.cuh"
#include "core/cuda/ptx.cuh"
#include "core/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
using namespace attn;
using detail::from_float;
using detail::to_float;
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
// ---- v3: tensor cores ------------------------------------------------------------------------
// A block of 4 warps per (bh, 64 keys), warp w owning keys [16 w, 16 w + 16) of the tile, walks
// 64-query tiles. Per tile, in registers (fragment layouts as in cuda_flash_mma.cu):
//   S^T = K_w Q^T and dP^T = V_w dO^T (16 keys x 64 queries, fp32),
//   P^T = exp2(S^T scale log2(e) - lse log2(e)), dS^T = P^T (dP^T - Dr), masked to 0,
//   dV_w += P^T dO and dK_w += dS^T Q (P^T, dS^T rounded to T as the A operands),
// then dS^T goes to shared memory and warp w adds dQ for queries [16 w, 16 w + 16) of the tile:
//   dQ += dS K * scale (atomicAdd into the fp32 accumulator).
// Shared memory (16-bit, rows padded by 8 elements: conflict-free ldmatrix): Ks, Vs [64][kD+8],
// Qs, Gs [64][kD+8] (q and do of the query tile), dSs [64 keys][72], then float Ls, Rs [64].
constexpr int kMmaWarps = 4;
constexpr int kMmaThreads = kMmaWarps * 32;
constexpr int kBn = 16 * kMmaWarps;  // keys per block
constexpr int kBm = 64;              // queries per step
constexpr int kLdS = kBm + 8;

template <int kD>
constexpr size_t mma_backward_smem() {
  return static_cast<size_t>(2 * kBn * (kD + 8) + 2 * kBm * (kD + 8) + kBn * kLdS) * sizeof(uint16_t) +
         2 * kBm * sizeof(float);
}

template <class T, int kD>
__global__ void __launch_bounds__(kMmaThreads)
    flash_backward_mma_kernel(const uint16_t* __restrict__ dout,  // [bh, S, D]
                              const uint16_t* __restrict__ q,     // [bh, S, D]
                              const uint16_t* __restrict__ k,     // [bh, S, D]
                              const uint16_t* __restrict__ v,     // [bh, S, D]
                              const float* __restrict__ lse,      // [bh, S]
                              const float* __restrict__ dr,       // [bh, S]
                              float* __restrict__ dq_acc,         // [bh, S, D], zeroed
                              uint16_t* __restrict__ dk,          // [bh, S, D]
                              uint16_t* __restrict__ dv,          // [bh, S, D]
                              int64_t bh, int64_t S, int D, float scale, bool causal, bool vec) {
#if defined(__CUDA_ARCH__)
#if __CUDA_ARCH__ < 800
  __trap();  // no mma.sync bf16 / cp.async / ldmatrix.trans here: never silently wrong
#else
  constexpr int kLd = kD + 8;
  constexpr int kDT = kD / 8;   // 8-column tiles of dK, dV, dQ
  constexpr int kQT = kBm / 8;  // 8-query tiles of S^T
  constexpr float kLog2e = 1.4426950408889634f;
  extern __shared__ __align__(16) uint16_t smem16[];  // (smem above is the float view)
  uint16_t* Ks = smem16;
  uint16_t* Vs = Ks + kBn * kLd;
  uint16_t* Qs = Vs + kBn * kLd;
  uint16_t* Gs = Qs + kBm * kLd;
  uint16_t* dSs = Gs + kBm * kLd;
  float* Ls = reinterpret_cast<float*>(dSs + kBn * kLdS);  // lse * log2(e) of the query tile
  float* Rs = Ls + kBm;                                    // Dr of the query tile
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int lrow = lane % 8, lmat = lane / 8;  // ldmatrix x4: lane l addresses row l % 8 of matrix l / 8
  const int kw = warp * 16;                    // this warp's first key row in Ks / Vs
  const int64_t j0 = static_cast<int64_t>(blockIdx.x) * kBn;
  const int64_t key0 = j0 + kw + g, key1 = key0 + 8;  // this thread's two keys
  const float scale_log2 = scale * kLog2e;

  for (int64_t b = blockIdx.y; b < bh; b += gridDim.y) {
    const int64_t off = b * S * D;
    __syncthreads();  // the previous slice's readers (and dK/dV staging) are done
    load_tile<kBn, kD, kLd, kMmaThreads>(Ks, k + off, j0, S, D, vec);
    load_tile<kBn, kD, kLd, kMmaThreads>(Vs, v + off, j0, S, D, vec);
    ptx::cp_async_commit();
    float acc_dk[kDT][4], acc_dv[kDT][4];
#pragma unroll
    for (int dt = 0; dt < kDT; ++dt)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc_dk[dt][e] = acc_dv[dt][e] = 0.0f;

    // Causal: queries before j0 see none of these keys (tiles aligned: kBm == kBn).
    for (int64_t i0 = causal ? j0 : 0; i0 < S; i0 += kBm) {
      __syncthreads();  // the previous query tile's readers of Qs/Gs/dSs/Ls/Rs are done
      load_tile<kBm, kD, kLd, kMmaThreads>(Qs, q + off, i0, S, D, vec);
      load_tile<kBm, kD, kLd, kMmaThreads>(Gs, dout + off, i0, S, D, vec);
      ptx::cp_async_commit();
      if (threadIdx.x < kBm) {
        const int64_t i = i0 + threadIdx.x;
        Ls[threadIdx.x] = i < S ? lse[b * S + i] * kLog2e : 0.0f;
        Rs[threadIdx.x] = i < S ? dr[b * S + i] : 0.0f;
      }
      ptx::cp_async_wait<0>();
      __syncthreads();

      // S^T = K_w Q^T and dP^T = V_w dO^T.
      float st[kQT][4], dpt[kQT][4];
#pragma unroll
      for (int nt = 0; nt < kQT; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) st[nt][e] = dpt[nt][e] = 0.0f;
#pragma unroll
      for (int kk = 0; kk < kD / 16; ++kk) {
        uint32_t ka[4], va[4];
        ptx::ldmatrix_x4(ka, Ks + (kw + lrow + (lmat & 1) * 8) * kLd + kk * 16 + (lmat >> 1) * 8);
        ptx::ldmatrix_x4(va, Vs + (kw + lrow + (lmat & 1) * 8) * kLd + kk * 16 + (lmat >> 1) * 8);
#pragma unroll
        for (int np = 0; np < kQT / 2; ++np) {
          uint32_t qb[4], gb[4];
          ptx::ldmatrix_x4(qb, Qs + (np * 16 + lrow + (lmat >> 1) * 8) * kLd + kk * 16 + (lmat & 1) * 8);
          ptx::ldmatrix_x4(gb, Gs + (np * 16 + lrow + (lmat >> 1) * 8) * kLd + kk * 16 + (lmat & 1) * 8);
          ptx::mma_m16n8k16<T>(st[2 * np], ka, qb[0], qb[1]);
          ptx::mma_m16n8k16<T>(st[2 * np + 1], ka, qb[2], qb[3]);
          ptx::mma_m16n8k16<T>(dpt[2 * np], va, gb[0], gb[1]);
          ptx::mma_m16n8k16<T>(dpt[2 * np + 1], va, gb[2], gb[3]);
        }
      }

      // P^T and dS^T in place; masked entries (query >= S, key >= S, causal key > query) are 0
      // (their exponent may overflow: it is replaced, never multiplied).
      const bool need_mask = i0 + kBm > S || j0 + kBn > S || (causal && j0 + kBn - 1 > i0);
#pragma unroll
      for (int nt = 0; nt < kQT; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int iq = nt * 8 + 2 * t + (e & 1);
          float p = ptx::ex2_approx(fmaf(st[nt][e], scale_log2, -Ls[iq]));
          if (need_mask) {
            const int64_t i = i0 + iq, j = e < 2 ? key0 : key1;
            if (i >= S || j >= S || (causal && j > i)) p = 0.0f;
          }
          st[nt][e] = p;
          dpt[nt][e] = p * (dpt[nt][e] - Rs[iq]);
        }
      }

      // dV_w += P^T dO, dK_w += dS^T Q: A from the accumulators, B through ldmatrix.trans.
#pragma unroll
      for (int kc = 0; kc < kBm / 16; ++kc) {
        uint32_t pa[4], da[4];
        pa[0] = pack2<T>(st[2 * kc][0], st[2 * kc][1]);
        pa[1] = pack2<T>(st[2 * kc][2], st[2 * kc][3]);
        pa[2] = pack2<T>(st[2 * kc + 1][0], st[2 * kc + 1][1]);
        pa[3] = pack2<T>(st[2 * kc + 1][2], st[2 * kc + 1][3]);
        da[0] = pack2<T>(dpt[2 * kc][0], dpt[2 * kc][1]);
        da[1] = pack2<T>(dpt[2 * kc][2], dpt[2 * kc][3]);
        da[2] = pack2<T>(dpt[2 * kc + 1][0], dpt[2 * kc + 1][1]);
        da[3] = pack2<T>(dpt[2 * kc + 1][2], dpt[2 * kc + 1][3]);
#pragma unroll
        for (int dp = 0; dp < kDT / 2; ++dp) {
          uint32_t gb[4], qb[4];
          ptx::ldmatrix_x4_trans(gb, Gs + (kc * 16 + lrow + (lmat & 1) * 8) * kLd + dp * 16 + (lmat >> 1) * 8);
          ptx::ldmatrix_x4_trans(qb, Qs + (kc * 16 + lrow + (lmat & 1) * 8) * kLd + dp * 16 + (lmat >> 1) * 8);
          ptx::mma_m16n8k16<T>(acc_dv[2 * dp], pa, gb[0], gb[1]);
          ptx::mma_m16n8k16<T>(acc_dv[2 * dp + 1], pa, gb[2], gb[3]);
          ptx::mma_m16n8k16<T>(acc_dk[2 * dp], da, qb[0], qb[1]);
          ptx::mma_m16n8k16<T>(acc_dk[2 * dp + 1], da, qb[2], qb[3]);
        }
      }
      // dS^T (key-major, rounded as for dK) for the dQ product of every warp.
#pragma unroll
      for (int nt = 0; nt < kQT; ++nt) {
        *reinterpret_cast<uint32_t*>(dSs + (kw + g) * kLdS + nt * 8 + 2 * t) = pack2<T>(dpt[nt][0], dpt[nt][1]);
        *reinterpret_cast<uint32_t*>(dSs + (kw + g + 8) * kLdS + nt * 8 + 2 * t) = pack2<T>(dpt[nt][2], dpt[nt][3]);
      }
      __syncthreads();

      // dQ for queries [16 w, 16 w + 16) of the tile over the block's 64 keys: A = dS read
      // transposed from dSs, B = K through ldmatrix.trans.
      float acc_dq[kDT][4];
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt) acc_dq[dt][0] = acc_dq[dt][1] = acc_dq[dt][2] = acc_dq[dt][3] = 0.0f;
#pragma unroll
      for (int kc = 0; kc < kBn / 16; ++kc) {
        // Matrices: (keys +0..7, queries +0..7), (keys +0..7, queries +8..), (keys +8.., queries +0..7), (+8.., +8..).
        uint32_t sa[4];
        ptx::ldmatrix_x4_trans(sa, dSs + (kc * 16 + lrow + (lmat >> 1) * 8) * kLdS + kw + (lmat & 1) * 8);
#pragma unroll
        for (int dp = 0; dp < kDT / 2; ++dp) {
          uint32_t kb[4];
          ptx::ldmatrix_x4_trans(kb, Ks + (kc * 16 + lrow + (lmat & 1) * 8) * kLd + dp * 16 + (lmat >> 1) * 8);
          ptx::mma_m16n8k16<T>(acc_dq[2 * dp], sa, kb[0], kb[1]);
          ptx::mma_m16n8k16<T>(acc_dq[2 * dp + 1], sa, kb[2], kb[3]);
        }
      }
      const int64_t qi0 = i0 + kw + g, qi1 = qi0 + 8;
      float* dq0 = dq_acc + off + qi0 * D;
      float* dq1 = dq_acc + off + qi1 * D;
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt) {
        const int c = dt * 8 + 2 * t;
        if (qi0 < S) {
          if (c < D) atomicAdd(dq0 + c, acc_dq[dt][0] * scale);
          if (c + 1 < D) atomicAdd(dq0 + c + 1, acc_dq[dt][1] * scale);
        }
        if (qi1 < S) {
          if (c < D) atomicAdd(dq1 + c, acc_dq[dt][2] * scale);
          if (c + 1 < D) atomicAdd(dq1 + c + 1, acc_dq[dt][3] * scale);
        }
      }
    }

    // dK (times scale) and dV, staged through this warp's own rows of Ks / Vs once every warp
    // is done reading K in the last dQ pass, then stored as whole rows.
    __syncthreads();
#pragma unroll
    for (int dt = 0; dt < kDT; ++dt) {
      uint16_t* k0 = Ks + (kw + g) * kLd + dt * 8 + 2 * t;
      uint16_t* v0 = Vs + (kw + g) * kLd + dt * 8 + 2 * t;
      *reinterpret_cast<uint32_t*>(k0) = pack2<T>(acc_dk[dt][0] * scale, acc_dk[dt][1] * scale);
      *reinterpret_cast<uint32_t*>(k0 + 8 * kLd) = pack2<T>(acc_dk[dt][2] * scale, acc_dk[dt][3] * scale);
      *reinterpret_cast<uint32_t*>(v0) = pack2<T>(acc_dv[dt][0], acc_dv[dt][1]);
      *reinterpret_cast<uint32_t*>(v0 + 8 * kLd) = pack2<T>(acc_dv[dt][2], acc_dv[dt][3]);
    }
    __syncwarp();
    const int64_t krow = j0 + kw;
    if (vec) {
      for (int c = lane; c < 16 * (kD / 8); c += 32) {
        const int r = c / (kD / 8), col = (c % (kD / 8)) * 8;
        if (krow + r < S && col < D) {
          *reinterpret_cast<uint4*>(dk + off + (krow + r) * D + col) =
              *reinterpret_cast<const uint4*>(Ks + (kw + r) * kLd + col);
          *reinterpret_cast<uint4*>(dv + off + (krow + r) * D + col) =
              *reinterpret_cast<const uint4*>(Vs + (kw + r) * kLd + col);
        }
      }
    } else {
      for (int e = lane; e < 16 * kD; e += 32) {
        const int r = e / kD, col = e % kD;
        if (krow + r < S && col < D) {
          dk[off + (krow + r) * D + col] = Ks[(kw + r) * kLd + col];
          dv[off + (krow + r) * D + col] = Vs[(kw + r) * kLd + col];
        }
      }
    }
  }
#endif
#endif
}

template <class T, int kD>
void launch_backward_mma(const void* dout, const void* q, const void* k, const void* v, const float* lse,
                         const float* dr, float* dq_acc, void* dk, void* dv, int64_t bh, int64_t S, int64_t D,
                         float scale, bool causal, bool vec, cudaStream_t stream) {
  constexpr size_t smem = mma_backward_smem<kD>();
  auto kernel = flash_backward_mma_kernel<T, kD>;
  if (smem > 48 * 1024)
    BENCHSUITE_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const int64_t ktiles = (S + kBn - 1) / kBn;
  BENCHSUITE_CHECK(ktiles <= INT_MAX, "attention_backward v3: seq_len=", S, " needs more than 2^31 - 1 key tiles");
  const dim3 grid(static_cast<unsigned>(ktiles), static_cast<unsigned>(std::min<int64_t>(bh, 65535)));
  kernel<<<grid, kMmaThreads, smem, stream>>>(static_cast<const uint16_t*>(dout), static_cast<const uint16_t*>(q),
                                              static_cast<const uint16_t*>(k), static_cast<const uint16_t*>(v), lse, dr,
                                              dq_acc, static_cast<uint16_t*>(dk), static_cast<uint16_t*>(dv), bh, S,
                                              static_cast<int>(D), scale, causal, vec);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

using attn::aligned16;
}  // namespace

void attention_backward_flash(DType dtype, const void* dout, const void* q, const void* k, const void* v, const void* o,
                              const float* lse, void* dq, void* dk, void* dv, float* workspace, int64_t bh,
                              int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream) {
  attn::check_head_dim("attention_backward_flash", head_dim, 256);
  if (bh == 0 || seq_len == 0) return;
  detail::dispatch_float(dtype, "attention_backward_flash", [&](auto tag) {
    using T = decltype(tag);
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

namespace benchsuite::cuda {

void attention_backward_flash_mma(DType dtype, const void* dout, const void* q, const void* k, const void* v,
                                  const void* o, const float* lse, void* dq, void* dk, void* dv, float* workspace,
                                  int64_t bh, int64_t seq_len, int64_t head_dim, float scale, bool causal,
                                  StreamHandle stream) {
  attn::check_half_dtype("attention_backward_flash_mma", dtype);
  attn::check_head_dim("attention_backward_flash_mma", head_dim, 128);
  if (bh == 0 || seq_len == 0) return;
  const bool vec = head_dim % 8 == 0 && aligned16(dout) && aligned16(q) && aligned16(k) && aligned16(v) &&
                   aligned16(dk) && aligned16(dv);
  detail::dispatch_float(dtype, "attention_backward_flash_mma", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, float>) {
      const cudaStream_t s = as_stream(stream);
      const int64_t S = seq_len, D = head_dim, rows = bh * S;
      float* dr = workspace;             // [bh, S]
      float* dq_acc = workspace + rows;  // [bh, S, D]
      BENCHSUITE_CUDA_CHECK(cudaMemsetAsync(dq_acc, 0, static_cast<size_t>(rows * D) * sizeof(float), s));
      dot_rows_kernel<T><<<grid_for(rows, kThreads / 32), kThreads, 0, s>>>(static_cast<const T*>(dout),
                                                                            static_cast<const T*>(o), dr, rows, D);
      BENCHSUITE_CUDA_CHECK_LAUNCH();
      if (D <= 32)
        launch_backward_mma<T, 32>(dout, q, k, v, lse, dr, dq_acc, dk, dv, bh, S, D, scale, causal, vec, s);
      else if (D <= 64)
        launch_backward_mma<T, 64>(dout, q, k, v, lse, dr, dq_acc, dk, dv, bh, S, D, scale, causal, vec, s);
      else
        launch_backward_mma<T, 128>(dout, q, k, v, lse, dr, dq_acc, dk, dv, bh, S, D, scale, causal, vec, s);
      round_kernel<T><<<grid_for(rows * D, kThreads), kThreads, 0, s>>>(dq_acc, static_cast<T*>(dq), rows * D);
      BENCHSUITE_CUDA_CHECK_LAUNCH();
    }
  });
}

}  // namespace benchsuite::cuda
