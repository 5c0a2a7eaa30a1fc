// Device helpers shared by the attention .cu files: float32/float16/bfloat16 element loads
// widened to float and stores rounded from float, a host-side dispatch on DType, and the
// sm_80+ PTX wrappers of the tensor-core versions (cp.async, ldmatrix, mma.sync m16n8k16).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "common/dtype.h"
#include "common/error.h"

namespace benchsuite::cuda::attn {

template <class T>
__device__ __forceinline__ float to_float(T x);
template <>
__device__ __forceinline__ float to_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ float to_float<__half>(__half x) {
  return __half2float(x);
}
template <>
__device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

template <class T>
struct TypeTag {
  using type = T;
};

// Calls fn(TypeTag<T>{}) with T the CUDA element type of `dtype` (float32/float16/bfloat16);
// `what` names the launcher in the error for any other dtype (the op layer rejects those first).
template <class Fn>
void dispatch_float(DType dtype, const char* what, Fn&& fn) {
  switch (dtype) {
    case DType::float32:
      fn(TypeTag<float>{});
      return;
    case DType::float16:
      fn(TypeTag<__half>{});
      return;
    case DType::bfloat16:
      fn(TypeTag<__nv_bfloat16>{});
      return;
    default:
      BENCHSUITE_THROW_ARG(what, ": dtype=", dtype_name(dtype), " must be float32, float16 or bfloat16");
  }
}

// ---- tensor-core helpers (sm_80+) -------------------------------------------------------
__device__ __forceinline__ unsigned smem_addr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#if defined(BENCHSUITE_CUDA_EMU)  // the CPU emulator's versions of the PTX below (csrc/emu/)
__device__ __forceinline__ void cp_async16(void* dst, const void* src) { ::emu::cp_async16(dst, src); }
__device__ __forceinline__ void cp_async_commit() { ::emu::cp_async_commit(); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  ::emu::cp_async_wait(N);
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) { ::emu::ldmatrix_x4(r, p, false); }
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) { ::emu::ldmatrix_x4(r, p, true); }
template <class T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  ::emu::mma_16816<T>(d, a, b0, b1);
}
#else
__device__ __forceinline__ void cp_async16(void* dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_addr(dst)), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// d += a b for one 16x8x16 step.
template <class T>
__device__ __forceinline__ void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1);
template <>
__device__ __forceinline__ void mma_16816<__half>(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma_16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                                         uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

#endif  // BENCHSUITE_CUDA_EMU

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

__device__ __forceinline__ float fast_exp2(float x) {  // 2^x; -inf -> +0
#if defined(BENCHSUITE_CUDA_EMU)
  return exp2f(x);
#else
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
#endif
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
        cp_async16(dst, g + (r0 + r) * D + col);
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
