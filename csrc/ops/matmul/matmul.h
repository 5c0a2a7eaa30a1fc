// The matmul family: C[..., m, n] = A[..., m, k] @ B[..., k, n], row-major: 2-D, or batched
// over equal leading dimensions, or batched A with one shared 2-D B (a weight). fp32
// accumulation (the CPU reference: double), the output in the inputs' dtype.
#pragma once
#include <cstdint>
#include <string>

#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

namespace cpu {  // C[M,N] = A[M,K] @ B[K,N], row-major, contiguous float32
void matmul_f32_reference(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);
void matmul_f32_blocked(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);
// C[M,N] = A[M,K] @ B[K,N] on 16-bit floats (dtype float16 or bfloat16, raw bits), C in the
// same dtype: fp32 sums rounded once. bfloat16 products through vdpbf16ps where the CPU has
// AVX512_BF16 (cpu::has_avx512_bf16); otherwise, and for float16, A and B are widened to fp32
// while they are packed and multiplied by a 6x16 fp32 micro-kernel. Up to 8 rows stream B in
// column blocks, widening it in registers.
void matmul_16bit_blocked(DType dtype, const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t m, int64_t n,
                          int64_t k);
// One row i of the reference product in double (spot checks of large products).
void matmul_row_f64(const float* a, const float* b, double* row, int64_t i, int64_t n, int64_t k);
}  // namespace cpu

// Row-major C[batch, m, n] = A[batch, m, k] @ B[batch, k, n] on device pointers; with
// b_shared one B [k, n] serves every batch entry.
namespace cuda {
// fp32 SIMT GEMM: 64x64 block tile, BK = 16, 16x16 threads each computing a 4x4 register
// tile; any m, n, k (bounds-checked, zero-filled edge tiles); k == 0 writes zeros.
void gemm_f32_tiled(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, int64_t batch,
                    bool b_shared, StreamHandle stream);

// Tensor-core GEMM through WMMA for float16 / bfloat16 inputs (dtype), fp32 accumulation,
// output rounded (to nearest even) to the input dtype. 64x64 block tile of 4 warps, each
// 32x32 from 16x16x16 fragments; any m, n, k (zero padding in shared memory). bfloat16
// needs sm_80+ (the kernel traps on older architectures).
void gemm_wmma(DType dtype, const void* a, const void* b, void* c, int64_t m, int64_t n, int64_t k, int64_t batch,
               bool b_shared, StreamHandle stream);

// The vendor GEMM through cuBLAS (float32/float16/bfloat16): fp32 accumulation, TF32
// products when tf32.
void gemm_cublas(DType dtype, const void* a, const void* b, void* c, int64_t m, int64_t n, int64_t k, int64_t batch,
                 bool b_shared, bool tf32, int device, StreamHandle stream);
}  // namespace cuda

namespace ops {
BENCHSUITE_OP(MatmulOp, "matmul", BinarySignature);  // (a, b, c)

Tensor matmul(const Tensor& a, const Tensor& b, const std::string& impl = "");

// Validation shared by the op and the benchmark case (which calls versions directly).
void check_matmul_args(const Tensor& a, const Tensor& b);
Shape matmul_output_shape(const Tensor& a, const Tensor& b);
}  // namespace ops

}  // namespace benchsuite
