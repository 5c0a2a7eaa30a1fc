// Helpers shared by the attention .cu files: the flash launchers' argument checks, and for
// the tensor-core versions (sm_80+) two floats packed into 16-bit pairs and the tile loader
// (cp.async through core/cuda/ptx.cuh).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "core/cuda/ptx.cuh"
#include "core/dtype.h"
#include "core/error.h"

namespace benchsuite::cuda::attn {

// ---- host side of the flash launchers -----------------------------------------------------
// Whether p is 16-byte aligned (rows copied by cp.async of 16 bytes need it).
inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }
// invalid_argument naming `launcher` unless head_dim is in [1, max_head_dim] (the tiles are
// sized for it).
inline void check_head_dim(const char* launcher, int64_t head_dim, int64_t max_head_dim) {
  BENCHSUITE_CHECK_ARG(head_dim >= 1 && head_dim <= max_head_dim, launcher, ": head_dim=", head_dim,
                       " must be in [1, ", max_head_dim, "]");
}
// invalid_argument naming `launcher` unless dtype is float16 or bfloat16 (the mma operands).
inline void check_half_dtype(const char* launcher, DType dtype) {
  BENCHSUITE_CHECK_ARG(dtype == DType::float16 || dtype == DType::bfloat16, launcher, ": dtype=", dtype_name(dtype),
                       " must be float16 or bfloat16");
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
// Two floats rounded to T and packed, the first in the low half (the lower column index).
template <class T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <>
__device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
  __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&h);
}
template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
  __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&h);
}

// Copies rows [r0, r0 + kRows) of a [S, D] slice (16-bit elements) into a [kRows][kLd] tile
// of kCols >= D columns, zero-filling rows >= S and columns >= D (zeros add nothing to the
// products, and 0 times a zero row stays 0 where garbage could be NaN). vec: D % 8 == 0 and
// 16-byte aligned rows, so each 8-element chunk is either wholly inside the row or wholly
// padding -> cp.async of 16 bytes (the caller commits and waits); otherwise element by
// element (plain stores). All kNumThreads threads of the block take part.
template <int kRows, int kCols, int kLd, int kNumThreads>
__device__ __forceinline__ void load_tile(uint16_t* __restrict__ tile, const uint16_t* __restrict__ g, int64_t r0,
                                          int64_t S, int D, bool vec) {
  if (vec) {
    constexpr int kChunks = kCols / 8;
    for (int c = threadIdx.x; c < kRows * kChunks; c += kNumThreads) {
      const int r = c / kChunks, col = (c % kChunks) * 8;
      uint16_t* dst = tile + r * kLd + col;
      if (r0 + r < S && col < D)
        ptx::cp_async16(dst, g + (r0 + r) * D + col);
      else
        *reinterpret_cast<uint4*>(dst) = make_uint4(0, 0, 0, 0);
    }
  } else {
    for (int e = threadIdx.x; e < kRows * kCols; e += kNumThreads) {
      const int r = e / kCols, col = e % kCols;
      tile[r * kLd + col] = (r0 + r < S && col < D) ? g[(r0 + r) * D + col] : uint16_t{0};
    }
  }
}
#endif

}  // namespace benchsuite::cuda::attn
