// Our own CUDA GEMM kernels: an fp32 shared-memory tiled SIMT kernel with 4x4 register
// tiles (matmul cuda v1) and a WMMA tensor-core kernel for fp16 / bf16 with fp32
// accumulation (matmul cuda v2). Both handle any m, n, k and batches; indexing is int64.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include <algorithm>
#include <cstdint>

#include "core/cuda/convert.cuh"
#include "core/cuda/launch.cuh"
#include "core/error.h"
#include "ops/matmul/matmul.h"

namespace benchsuite::cuda {

namespace {
// Grid y and z are limited to 65535: the kernels loop over row tiles and batch entries.
constexpr unsigned kMaxGridYZ = 65535;

unsigned clamp_grid(int64_t blocks, unsigned limit) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, limit)));
}

// ---- v1: fp32 SIMT ------------------------------------------------------------------------
constexpr int kBM = 64, kBN = 64, kBK = 16;
constexpr int kTX = 16, kTY = 16;  // threads per block: kTX * kTY = 256
constexpr int kThreadsF32 = kTX * kTY;
constexpr int kRM = kBM / kTY, kRN = kBN / kTX;  // 4x4 register tile per thread

// Thread (ty, tx) owns rows ty + 16 i and columns tx + 16 j of the block tile: B reads and C
// writes are consecutive across tx, A reads are broadcasts. A is staged transposed
// (k-major) with one float of padding so its column-wise stores are conflict-free.
__global__ void __launch_bounds__(kThreadsF32)
    gemm_f32_tiled_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, int64_t m,
                          int64_t n, int64_t k, int64_t batch, bool b_shared) {
  __shared__ float as[kBK][kBM + 1];  // as[kk][r] = A[row0 + r, k0 + kk]
  __shared__ float bs[kBK][kBN];      // bs[kk][col] = B[k0 + kk, col0 + col]
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kTX + tx;
  const int64_t tiles_m = (m + kBM - 1) / kBM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kBN;
  for (int64_t z = blockIdx.z; z < batch; z += gridDim.z) {
    const float* az = a + z * m * k;
    const float* bz = b + (b_shared ? 0 : z * k * n);
    float* cz = c + z * m * n;
    for (int64_t tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {
      const int64_t row0 = tm * kBM;
      float acc[kRM][kRN] = {};
      for (int64_t k0 = 0; k0 < k; k0 += kBK) {
        // A tile 64 x 16 and B tile 16 x 64: 1024 elements each, 4 per thread.
#pragma unroll
        for (int l = 0; l < (kBM * kBK) / kThreadsF32; ++l) {
          const int idx = tid + l * kThreadsF32;
          const int r = idx / kBK, kk = idx % kBK;
          const int64_t gr = row0 + r, gk = k0 + kk;
          as[kk][r] = (gr < m && gk < k) ? az[gr * k + gk] : 0.0f;
        }
#pragma unroll
        for (int l = 0; l < (kBK * kBN) / kThreadsF32; ++l) {
          const int idx = tid + l * kThreadsF32;
          const int kk = idx / kBN, col = idx % kBN;
          const int64_t gk = k0 + kk, gc = col0 + col;
          bs[kk][col] = (gk < k && gc < n) ? bz[gk * n + gc] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kBK; ++kk) {
          float ra[kRM], rb[kRN];
#pragma unroll
          for (int i = 0; i < kRM; ++i) ra[i] = as[kk][ty + kTY * i];
#pragma unroll
          for (int j = 0; j < kRN; ++j) rb[j] = bs[kk][tx + kTX * j];
#pragma unroll
          for (int i = 0; i < kRM; ++i)
#pragma unroll
            for (int j = 0; j < kRN; ++j) acc[i][j] = fmaf(ra[i], rb[j], acc[i][j]);
        }
        __syncthreads();  // before the next tiles overwrite as / bs
      }
#pragma unroll
      for (int i = 0; i < kRM; ++i) {
        const int64_t gr = row0 + ty + kTY * i;
        if (gr >= m) continue;
#pragma unroll
        for (int j = 0; j < kRN; ++j) {
          const int64_t gc = col0 + tx + kTX * j;
          if (gc < n) cz[gr * n + gc] = acc[i][j];
        }
      }
    }
  }
}

// ---- v2: WMMA tensor cores (fp16 / bf16 in, fp32 accumulate) ------------------------------
constexpr int kWM = 64, kWN = 64, kWK = 32;  // block tile
constexpr int kWarpsW = 4, kThreadsW = kWarpsW * 32;  // 2x2 warps, each 32x32
constexpr int kFrag = 16;
// Row strides in elements: multiples of 8 (16-bit) / 4 (fp32) as WMMA requires, padded off
// a multiple of 32 banks so fragment loads from consecutive rows spread across banks.
constexpr int kLdA = kWK + 8;   // as[kWM][kLdA]
constexpr int kLdB = kWN + 8;   // bs[kWK][kLdB]
constexpr int kLdC = kWN + 4;   // cs[kWM][kLdC] (fp32)
constexpr int kSmemAB = (kWM * kLdA + kWK * kLdB) * 2;
constexpr int kSmemC = kWM * kLdC * 4;
constexpr int kSmemW = kSmemAB > kSmemC ? kSmemAB : kSmemC;

using detail::from_float;

template <typename T>
struct WmmaMinArch;
template <>
struct WmmaMinArch<__half> {
  static constexpr int value = 700;
};
template <>
struct WmmaMinArch<__nv_bfloat16> {
  static constexpr int value = 800;
};

// Inputs are copied as raw 16-bit patterns (exact, and zero bits are +0 in both formats).
// The A/B staging area is reused for the fp32 output tile after the k loop, which then
// leaves through coalesced, bounds-checked stores converted to T.
template <typename T>
__global__ void __launch_bounds__(kThreadsW)
    gemm_wmma_kernel(const uint16_t* __restrict__ a, const uint16_t* __restrict__ b, T* __restrict__ c, int64_t m,
                     int64_t n, int64_t k, int64_t batch, bool b_shared) {
#if defined(__CUDA_ARCH__)
  if constexpr (__CUDA_ARCH__ < WmmaMinArch<T>::value) {
    __trap();  // no WMMA for this type on this architecture: fail loudly, never silently
  } else {
    namespace wmma = nvcuda::wmma;
    __shared__ __align__(128) unsigned char smem[kSmemW];
    uint16_t* as = reinterpret_cast<uint16_t*>(smem);  // [kWM][kLdA]
    uint16_t* bs = as + kWM * kLdA;                    // [kWK][kLdB]
    float* cs = reinterpret_cast<float*>(smem);        // [kWM][kLdC], after the k loop
    const int tid = threadIdx.x, warp = tid / 32;
    const int wr = (warp / 2) * 32, wc = (warp % 2) * 32;  // this warp's 32x32 in the block tile
    const int64_t tiles_m = (m + kWM - 1) / kWM;
    const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kWN;
    for (int64_t z = blockIdx.z; z < batch; z += gridDim.z) {
      const uint16_t* az = a + z * m * k;
      const uint16_t* bz = b + (b_shared ? 0 : z * k * n);
      T* cz = c + z * m * n;
      for (int64_t tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {
        const int64_t row0 = tm * kWM;
        wmma::fragment<wmma::accumulator, kFrag, kFrag, kFrag, float> acc[2][2];
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
          for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
        for (int64_t k0 = 0; k0 < k; k0 += kWK) {
          // A tile 64 x 32 and B tile 32 x 64: 2048 elements each, 16 per thread.
#pragma unroll 4
          for (int l = 0; l < (kWM * kWK) / kThreadsW; ++l) {
            const int idx = tid + l * kThreadsW;
            const int r = idx / kWK, kk = idx % kWK;
            const int64_t gr = row0 + r, gk = k0 + kk;
            as[r * kLdA + kk] = (gr < m && gk < k) ? az[gr * k + gk] : uint16_t{0};
          }
#pragma unroll 4
          for (int l = 0; l < (kWK * kWN) / kThreadsW; ++l) {
            const int idx = tid + l * kThreadsW;
            const int kk = idx / kWN, col = idx % kWN;
            const int64_t gk = k0 + kk, gc = col0 + col;
            bs[kk * kLdB + col] = (gk < k && gc < n) ? bz[gk * n + gc] : uint16_t{0};
          }
          __syncthreads();
          const T* at = reinterpret_cast<const T*>(as);
          const T* bt = reinterpret_cast<const T*>(bs);
#pragma unroll
          for (int kk = 0; kk < kWK; kk += kFrag) {
            wmma::fragment<wmma::matrix_a, kFrag, kFrag, kFrag, T, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, kFrag, kFrag, kFrag, T, wmma::row_major> fb[2];
#pragma unroll
            for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(fa[i], at + (wr + kFrag * i) * kLdA + kk, kLdA);
#pragma unroll
            for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(fb[j], bt + kk * kLdB + wc + kFrag * j, kLdB);
#pragma unroll
            for (int i = 0; i < 2; ++i)
#pragma unroll
              for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
          }
          __syncthreads();  // before the next tiles (or the output tile) overwrite smem
        }
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
          for (int j = 0; j < 2; ++j)
            wmma::store_matrix_sync(cs + (wr + kFrag * i) * kLdC + wc + kFrag * j, acc[i][j], kLdC,
                                    wmma::mem_row_major);
        __syncthreads();
        for (int idx = tid; idx < kWM * kWN; idx += kThreadsW) {
          const int r = idx / kWN, col = idx % kWN;
          const int64_t gr = row0 + r, gc = col0 + col;
          if (gr < m && gc < n) cz[gr * n + gc] = from_float<T>(cs[r * kLdC + col]);
        }
        __syncthreads();  // the next row tile's A/B staging overwrites cs
      }
    }
  }
#endif
}
}  // namespace

void gemm_f32_tiled(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, int64_t batch,
                    bool b_shared, StreamHandle stream) {
  if (m == 0 || n == 0 || batch == 0) return;
  const dim3 grid(static_cast<unsigned>((n + kBN - 1) / kBN), clamp_grid((m + kBM - 1) / kBM, kMaxGridYZ),
                  clamp_grid(batch, kMaxGridYZ));
  gemm_f32_tiled_kernel<<<grid, dim3(kTX, kTY), 0, detail::as_stream(stream)>>>(a, b, c, m, n, k, batch, b_shared);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void gemm_wmma(DType dtype, const void* a, const void* b, void* c, int64_t m, int64_t n, int64_t k, int64_t batch,
               bool b_shared, StreamHandle stream) {
  BENCHSUITE_CHECK_ARG(dtype == DType::float16 || dtype == DType::bfloat16,
                       "gemm_wmma: dtype must be float16 or bfloat16, got ", dtype_name(dtype));
  if (m == 0 || n == 0 || batch == 0) return;
  const dim3 grid(static_cast<unsigned>((n + kWN - 1) / kWN), clamp_grid((m + kWM - 1) / kWM, kMaxGridYZ),
                  clamp_grid(batch, kMaxGridYZ));
  const auto* a16 = static_cast<const uint16_t*>(a);
  const auto* b16 = static_cast<const uint16_t*>(b);
  if (dtype == DType::float16)
    gemm_wmma_kernel<__half><<<grid, kThreadsW, 0, detail::as_stream(stream)>>>(a16, b16, static_cast<__half*>(c), m,
                                                                                 n, k, batch, b_shared);
  else
    gemm_wmma_kernel<__nv_bfloat16><<<grid, kThreadsW, 0, detail::as_stream(stream)>>>(
        a16, b16, static_cast<__nv_bfloat16*>(c), m, n, k, batch, b_shared);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
