// attention cuda v3: a FlashAttention-2-style forward on tensor cores for float16/bfloat16
// (sm_80+): mma.sync m16n8k16 with fp32 accumulators for S = Q K^T and O += P V, the online
// softmax in fp32 registers, K/V tiles in padded shared memory, no S x S buffer.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "core/error.h"
#include "ops/attention/cuda.cuh"
#include "ops/attention/attention.h"
#include "core/cuda/ptx.cuh"
#include "core/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
using namespace attn;
using detail::as_stream;

// Block: kWarps warps; warp w owns query rows [w R, w R + R) of the block's kWarps * R-row tile,
// R = 16 kMt (kMt m16 tiles per warp: every K/V fragment loaded from shared memory then feeds
// kMt mma's, which is what keeps ldmatrix off the critical path).
// Fragment layouts (PTX ISA, mma.m16n8k16, g = lane / 4, t = lane % 4):
//   A 16x16 (row): a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..)
//   B 16x8 (col):  b0 (k 2t..2t+1, n g), b1 (k 2t+8.., n g)
//   C 16x8 fp32:   c0 c1 (g, 2t..2t+1), c2 c3 (g+8, 2t..2t+1)
// The C fragments of two adjacent 8-key tiles of S are exactly the A fragment of P for those
// 16 keys, so P never leaves registers.
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

// Tile shape per head_dim bucket kD: m16 tiles per warp (2 up to kD = 64: 128 queries per
// block; 1 above, where the O accumulators and Q fragments need the registers) and keys per
// K/V tile (64, or 32 at kD = 256 to bound registers and shared memory).
template <int kD>
constexpr int m_tiles() {
  return kD <= 64 ? 2 : 1;
}
template <int kD>
constexpr int query_tile() {
  return 16 * m_tiles<kD>() * kWarps;
}
template <int kD>
constexpr int key_tile() {
  return kD <= 128 ? 64 : 32;
}
// Shared-memory row stride in 16-bit elements: kD + 8 makes consecutive rows start 16 bytes
// apart modulo 128, so the 8 row addresses of an ldmatrix phase hit 8 distinct 16-byte bank
// groups (no conflicts), and every row start stays 16-byte aligned for cp.async / ldmatrix.
template <int kD>
constexpr int row_stride() {
  return kD + 8;
}
template <int kD>
constexpr size_t smem_bytes() {
  return static_cast<size_t>(query_tile<kD>() + 2 * key_tile<kD>()) * row_stride<kD>() * sizeof(uint16_t);
}

// Whether key tile [j0, j0 + kBk) needs masking for a warp whose first row is wrow: it
// reaches past S, or (causal) past that row.
__device__ __forceinline__ bool need_mask_tile(int64_t j0, int kBk, int64_t S, bool causal, int64_t wrow) {
  return j0 + kBk > S || (causal && j0 + kBk - 1 > wrow);
}


// Grid: x = query tiles (reversed when causal: the longest rows start first), y = bh
// (grid-stride beyond 65535). Shared memory: Qs [kBq][kLd], Ks [kBk][kLd], Vs [kBk][kLd] of T.
// K is staged against V: V_j is fetched while S_j is computed, K_{j+1} while P_j V_j is.
template <class T, int kD>
__global__ void __launch_bounds__(kThreads)
    flash_mma_forward_kernel(const uint16_t* __restrict__ q,  // [bh, S, D]
                             const uint16_t* __restrict__ k,  // [bh, S, D]
                             const uint16_t* __restrict__ v,  // [bh, S, D]
                             uint16_t* __restrict__ o,        // [bh, S, D]
                             float* __restrict__ lse,         // [bh, S]
                             int64_t bh, int64_t S, int D, float scale_log2, bool causal, bool vec) {
#if defined(__CUDA_ARCH__)
#if __CUDA_ARCH__ < 800
  __trap();  // no bf16 mma / cp.async / ldmatrix.trans path here: never silently wrong
#else
  constexpr int kLd = row_stride<kD>();
  constexpr int kMt = m_tiles<kD>();
  constexpr int kRows = 16 * kMt;  // query rows per warp
  constexpr int kBq = query_tile<kD>();
  constexpr int kBk = key_tile<kD>();
  constexpr int kDT = kD / 8;   // 8-column tiles of O
  constexpr int kKT = kBk / 8;  // 8-key tiles of S
  extern __shared__ __align__(16) uint16_t smem[];
  uint16_t* Qs = smem;
  uint16_t* Ks = Qs + kBq * kLd;
  uint16_t* Vs = Ks + kBk * kLd;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  // ldmatrix x4: lane l addresses row (l % 8) of matrix l / 8.
  const int lrow = lane % 8, lmat = lane / 8;
  const int64_t qtiles = gridDim.x;
  const int64_t qt = causal ? qtiles - 1 - blockIdx.x : blockIdx.x;
  const int64_t i0 = qt * kBq;
  const int64_t wrow = i0 + warp * kRows;              // this warp's first query row
  const int64_t kend = causal ? min(S, i0 + kBq) : S;  // causal: later keys are all masked
  const int ntiles = static_cast<int>((kend + kBk - 1) / kBk);

  for (int64_t b = blockIdx.y; b < bh; b += gridDim.y) {
    const uint16_t* qb = q + b * S * D;
    const uint16_t* kb = k + b * S * D;
    const uint16_t* vb = v + b * S * D;
    __syncthreads();  // the previous slice's readers of Qs/Ks/Vs are done
    load_tile<kBq, kD, kLd, kThreads>(Qs, qb, i0, S, D, vec);
    load_tile<kBk, kD, kLd, kThreads>(Ks, kb, 0, S, D, vec);
    ptx::cp_async_commit();

    // Per m-tile mt, this thread's rows are wrow + 16 mt + g (r = 0) and + 8 (r = 1).
    float m[kMt][2], l[kMt][2];  // running max of the raw scores; this thread's part of the sum
    float acc[kMt][kDT][4];
    uint32_t qf[kMt][kD / 16][4];
#pragma unroll
    for (int mt = 0; mt < kMt; ++mt) {
      m[mt][0] = m[mt][1] = -INFINITY;
      l[mt][0] = l[mt][1] = 0.0f;
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt) acc[mt][dt][0] = acc[mt][dt][1] = acc[mt][dt][2] = acc[mt][dt][3] = 0.0f;
    }

    for (int jt = 0; jt < ntiles; ++jt) {
      const int64_t j0 = static_cast<int64_t>(jt) * kBk;
      load_tile<kBk, kD, kLd, kThreads>(Vs, vb, j0, S, D, vec);  // Vs is free: the loop's last barrier
      ptx::cp_async_commit();
      ptx::cp_async_wait<1>();  // Q and K_j have landed (V_j may still be in flight)
      __syncthreads();
      if (jt == 0) {
#pragma unroll
        for (int mt = 0; mt < kMt; ++mt)
#pragma unroll
          for (int kk = 0; kk < kD / 16; ++kk)
            ptx::ldmatrix_x4(qf[mt][kk],
                             Qs + (warp * kRows + mt * 16 + lrow + (lmat & 1) * 8) * kLd + kk * 16 + (lmat >> 1) * 8);
      }
      // Causal: a tile whose first key is past this warp's last row is masked for all of it.
      const bool skip = causal && j0 > wrow + kRows - 1;

      float s[kMt][kKT][4];
      if (!skip) {
        // S = Q K^T for this warp's rows x kBk keys.
#pragma unroll
        for (int mt = 0; mt < kMt; ++mt)
#pragma unroll
          for (int nt = 0; nt < kKT; ++nt) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < kD / 16; ++kk) {
#pragma unroll
          for (int np = 0; np < kKT / 2; ++np) {
            // Matrices: (keys +0..7, d +0..7), (keys +0..7, d +8..15), (keys +8..15, d +0..7), (keys +8.., d +8..).
            uint32_t bf[4];
            ptx::ldmatrix_x4(bf, Ks + (np * 16 + lrow + (lmat >> 1) * 8) * kLd + kk * 16 + (lmat & 1) * 8);
#pragma unroll
            for (int mt = 0; mt < kMt; ++mt) {
              ptx::mma_m16n8k16<T>(s[mt][2 * np], qf[mt][kk], bf[0], bf[1]);
              ptx::mma_m16n8k16<T>(s[mt][2 * np + 1], qf[mt][kk], bf[2], bf[3]);
            }
          }
        }

        // Mask keys >= S and, causal, keys after the row. Only the tiles that reach past S or
        // past this warp's first row need it (warp-uniform). Scores stay unscaled: the scale
        // (> 0, so the max is the same key) folds into the exponent's FFMA below.
        if (need_mask_tile(j0, kBk, S, causal, wrow)) {
#pragma unroll
          for (int mt = 0; mt < kMt; ++mt) {
            const int64_t row0 = wrow + mt * 16 + g, row1 = row0 + 8;
#pragma unroll
            for (int nt = 0; nt < kKT; ++nt) {
#pragma unroll
              for (int e = 0; e < 4; ++e) {
                const int64_t j = j0 + nt * 8 + 2 * t + (e & 1), i = e < 2 ? row0 : row1;
                if (j >= S || (causal && j > i)) s[mt][nt][e] = -INFINITY;
              }
            }
          }
        }

        // Online softmax: the row max over the quad that shares the row, rescale, exponentiate.
#pragma unroll
        for (int mt = 0; mt < kMt; ++mt) {
          float mx[2] = {m[mt][0], m[mt][1]};
#pragma unroll
          for (int nt = 0; nt < kKT; ++nt) {
            mx[0] = fmaxf(mx[0], fmaxf(s[mt][nt][0], s[mt][nt][1]));
            mx[1] = fmaxf(mx[1], fmaxf(s[mt][nt][2], s[mt][nt][3]));
          }
          float alpha[2], base[2];  // base: the row max times scale * log2(e)
#pragma unroll
          for (int r = 0; r < 2; ++r) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            // Key 0 is visible to every row, so m is finite from the first tile on; a later
            // tile masked for the whole row leaves mx = m and alpha = 1. The guard keeps a row
            // with nothing visible yet at 0 instead of NaN (inf - inf).
            base[r] = mx[r] == -INFINITY ? 0.0f : mx[r] * scale_log2;
            alpha[r] = ptx::ex2_approx(fmaf(m[mt][r], scale_log2, -base[r]));  // 0 on the first tile (m = -inf)
            m[mt][r] = mx[r];
            l[mt][r] *= alpha[r];
          }
#pragma unroll
          for (int nt = 0; nt < kKT; ++nt) {
            s[mt][nt][0] = ptx::ex2_approx(fmaf(s[mt][nt][0], scale_log2, -base[0]));
            s[mt][nt][1] = ptx::ex2_approx(fmaf(s[mt][nt][1], scale_log2, -base[0]));
            s[mt][nt][2] = ptx::ex2_approx(fmaf(s[mt][nt][2], scale_log2, -base[1]));
            s[mt][nt][3] = ptx::ex2_approx(fmaf(s[mt][nt][3], scale_log2, -base[1]));
            l[mt][0] += s[mt][nt][0] + s[mt][nt][1];
            l[mt][1] += s[mt][nt][2] + s[mt][nt][3];
          }
#pragma unroll
          for (int dt = 0; dt < kDT; ++dt) {
            acc[mt][dt][0] *= alpha[0];
            acc[mt][dt][1] *= alpha[0];
            acc[mt][dt][2] *= alpha[1];
            acc[mt][dt][3] *= alpha[1];
          }
        }
      }

      __syncthreads();  // every warp is done with K_j
      if (jt + 1 < ntiles) load_tile<kBk, kD, kLd, kThreads>(Ks, kb, j0 + kBk, S, D, vec);
      ptx::cp_async_commit();   // (an empty group on the last tile keeps the count uniform)
      ptx::cp_async_wait<1>();  // V_j has landed
      __syncthreads();

      if (!skip) {
        // O += P V: P in T from the S accumulators, V fragments through ldmatrix.trans.
#pragma unroll
        for (int kc = 0; kc < kBk / 16; ++kc) {
          uint32_t pa[kMt][4];
#pragma unroll
          for (int mt = 0; mt < kMt; ++mt) {
            pa[mt][0] = pack2<T>(s[mt][2 * kc][0], s[mt][2 * kc][1]);
            pa[mt][1] = pack2<T>(s[mt][2 * kc][2], s[mt][2 * kc][3]);
            pa[mt][2] = pack2<T>(s[mt][2 * kc + 1][0], s[mt][2 * kc + 1][1]);
            pa[mt][3] = pack2<T>(s[mt][2 * kc + 1][2], s[mt][2 * kc + 1][3]);
          }
#pragma unroll
          for (int dp = 0; dp < kDT / 2; ++dp) {
            // Matrices: (keys +0..7, d +0..7), (keys +8..15, d +0..7), (keys +0..7, d +8..), (keys +8.., d +8..).
            uint32_t bf[4];
            ptx::ldmatrix_x4_trans(bf, Vs + (kc * 16 + lrow + (lmat & 1) * 8) * kLd + dp * 16 + (lmat >> 1) * 8);
#pragma unroll
            for (int mt = 0; mt < kMt; ++mt) {
              ptx::mma_m16n8k16<T>(acc[mt][2 * dp], pa[mt], bf[0], bf[1]);
              ptx::mma_m16n8k16<T>(acc[mt][2 * dp + 1], pa[mt], bf[2], bf[3]);
            }
          }
        }
      }
      __syncthreads();  // every warp is done with V_j before the next tile overwrites it
    }
    ptx::cp_async_wait<0>();  // nothing may land after the block moves on

    // Finish: the row sums over the quad, lse, and O / l staged through this warp's own rows
    // of Qs (no other warp reads them) for 16-byte coalesced stores.
    uint16_t* Ow = Qs + warp * kRows * kLd;
#pragma unroll
    for (int mt = 0; mt < kMt; ++mt) {
      float inv[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        l[mt][r] += __shfl_xor_sync(0xffffffffu, l[mt][r], 1);
        l[mt][r] += __shfl_xor_sync(0xffffffffu, l[mt][r], 2);
        inv[r] = l[mt][r] > 0.0f ? 1.0f / l[mt][r] : 0.0f;
      }
      const int64_t row0 = wrow + mt * 16 + g, row1 = row0 + 8;
      if (t == 0) {
        constexpr float kLn2 = 0.6931471805599453f;
        if (row0 < S) lse[b * S + row0] = (m[mt][0] * scale_log2 + log2f(l[mt][0])) * kLn2;
        if (row1 < S) lse[b * S + row1] = (m[mt][1] * scale_log2 + log2f(l[mt][1])) * kLn2;
      }
      uint16_t* O0 = Ow + (mt * 16 + g) * kLd + 2 * t;
#pragma unroll
      for (int dt = 0; dt < kDT; ++dt) {
        *reinterpret_cast<uint32_t*>(O0 + dt * 8) = pack2<T>(acc[mt][dt][0] * inv[0], acc[mt][dt][1] * inv[0]);
        *reinterpret_cast<uint32_t*>(O0 + 8 * kLd + dt * 8) =
            pack2<T>(acc[mt][dt][2] * inv[1], acc[mt][dt][3] * inv[1]);
      }
    }
    __syncwarp();
    uint16_t* ob = o + b * S * D;
    if (vec) {
      for (int c = lane; c < kRows * (kD / 8); c += 32) {
        const int r = c / (kD / 8), col = (c % (kD / 8)) * 8;
        if (wrow + r < S && col < D)
          *reinterpret_cast<uint4*>(ob + (wrow + r) * D + col) = *reinterpret_cast<const uint4*>(Ow + r * kLd + col);
      }
    } else {
      for (int e = lane; e < kRows * kD; e += 32) {
        const int r = e / kD, col = e % kD;
        if (wrow + r < S && col < D) ob[(wrow + r) * D + col] = Ow[r * kLd + col];
      }
    }
  }
#endif
#endif
}

template <class T, int kD>
void launch_flash_mma(const void* q, const void* k, const void* v, void* o, float* lse, int64_t bh, int64_t S,
                      int64_t D, float scale, bool causal, bool vec, cudaStream_t stream) {
  constexpr size_t smem = smem_bytes<kD>();
  auto kernel = flash_mma_forward_kernel<T, kD>;
  if (smem > 48 * 1024)
    BENCHSUITE_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const int64_t qtiles = (S + query_tile<kD>() - 1) / query_tile<kD>();
  BENCHSUITE_CHECK(qtiles <= INT_MAX, "attention v3: seq_len=", S, " needs more than 2^31 - 1 query tiles");
  const dim3 grid(static_cast<unsigned>(qtiles), static_cast<unsigned>(std::min<int64_t>(bh, 65535)));
  constexpr float kLog2e = 1.4426950408889634f;
  kernel<<<grid, kThreads, smem, stream>>>(static_cast<const uint16_t*>(q), static_cast<const uint16_t*>(k),
                                           static_cast<const uint16_t*>(v), static_cast<uint16_t*>(o), lse, bh, S,
                                           static_cast<int>(D), scale * kLog2e, causal, vec);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

template <class T>
void dispatch_head_dim(const void* q, const void* k, const void* v, void* o, float* lse, int64_t bh, int64_t S,
                       int64_t D, float scale, bool causal, bool vec, cudaStream_t s) {
  if (D <= 32)
    launch_flash_mma<T, 32>(q, k, v, o, lse, bh, S, D, scale, causal, vec, s);
  else if (D <= 64)
    launch_flash_mma<T, 64>(q, k, v, o, lse, bh, S, D, scale, causal, vec, s);
  else if (D <= 128)
    launch_flash_mma<T, 128>(q, k, v, o, lse, bh, S, D, scale, causal, vec, s);
  else
    launch_flash_mma<T, 256>(q, k, v, o, lse, bh, S, D, scale, causal, vec, s);
}

using attn::aligned16;
}  // namespace

bool attention_mma_supported(int device) {
  int major = 0;
  BENCHSUITE_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  return major >= 8;
}

void attention_forward_flash_mma(DType dtype, const void* q, const void* k, const void* v, void* o, float* lse,
                                 int64_t bh, int64_t seq_len, int64_t head_dim, float scale, bool causal,
                                 StreamHandle stream) {
  attn::check_half_dtype("attention_forward_flash_mma", dtype);
  attn::check_head_dim("attention_forward_flash_mma", head_dim, 256);
  if (bh == 0 || seq_len == 0) return;
  const bool vec = head_dim % 8 == 0 && aligned16(q) && aligned16(k) && aligned16(v) && aligned16(o);
  const cudaStream_t s = as_stream(stream);
  if (dtype == DType::float16)
    dispatch_head_dim<__half>(q, k, v, o, lse, bh, seq_len, head_dim, scale, causal, vec, s);
  else
    dispatch_head_dim<__nv_bfloat16>(q, k, v, o, lse, bh, seq_len, head_dim, scale, causal, vec, s);
}

}  // namespace benchsuite::cuda
