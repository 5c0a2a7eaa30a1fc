// Plain C++ kernels. The v1 of each op is its reference: simple, accumulating in double
// where it matters, and the yardstick every other version (CPU or CUDA) is tested against.
#pragma once
#include <cstdint>

#include "common/activations.h"
#include "common/dtype.h"

namespace benchsuite::cpu {

// ---- creation ------------------------------------------------------------------------
void fill(void* out, DType dtype, int64_t n, double value);                                  // out: [n]
void randn(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev);       // out: [n]
void uniform(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high);        // out: [n]
// Element-by-element conversion (round to nearest even into 16-bit floats, truncation to ints).
void cast(const void* in, DType from, void* out, DType to, int64_t n);                       // [n]

// ---- 16-bit storage around fp32 kernels ---------------------------------------------
// Widens n elements of a float32/float16/bfloat16 buffer to float (exact) and rounds
// floats back into one (round to nearest even, NaN stays NaN; float16 overflows to inf),
// the same values as store_as/load_as (NaN payloads aside). F16C instructions for float16 when the compiler
// targets them, a vectorisable bit loop for bfloat16; float32 is a plain copy.
void widen_to_f32(const void* in, DType dtype, float* out, int64_t n);
void narrow_from_f32(const float* in, void* out, DType dtype, int64_t n);

// ---- elementwise ---------------------------------------------------------------------
void add_f32(const float* a, const float* b, float* out, int64_t n);  // out = a + b, [n]
// out[r, c] = a[r, c] (op) b[r, c], or b[c] when b_is_row. a, out: [rows, cols]
void binary_f32(BinaryOp op, const float* a, const float* b, float* out, int64_t rows, int64_t cols,
                bool b_is_row);
void axpy_f32(float alpha, const float* x, const float* y, float* out, int64_t n);  // out = alpha*x + y
void activation_reference(Activation kind, const float* x, float* y, int64_t n);  // double math
void activation_f32(Activation kind, const float* x, float* y, int64_t n);
// gelu and silu through fast_math::exp/tanh so the loop vectorises (relu as activation_f32).
void activation_f32_vectorized(Activation kind, const float* x, float* y, int64_t n);
void activation_backward_f32(Activation kind, const float* x, const float* dy, float* dx, int64_t n);

// ---- reductions over the last axis (x [rows, cols] -> out [rows]) or everything ------
// v1 reference: double accumulation. rows = 1, cols = n reduces everything.
void reduce_reference(Reduction kind, const float* x, float* out, int64_t rows, int64_t cols);
// v2: float accumulation in 8 independent lanes per 256-element block, blocks summed in
// double; rows (or, for a single row, column blocks) spread over OpenMP threads.
void reduce_f32(Reduction kind, const float* x, float* out, int64_t rows, int64_t cols);

// ---- matmul: C[M,N] = A[M,K] @ B[K,N], row-major, contiguous -------------------------
void matmul_f32_reference(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);
void matmul_f32_blocked(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);
// One row i of the reference product in double (spot checks of large products).
void matmul_row_f64(const float* a, const float* b, double* row, int64_t i, int64_t n, int64_t k);

// ---- softmax over the last axis: x, y [rows, cols] ------------------------------------
void softmax_f32_reference(const float* x, float* y, int64_t rows, int64_t cols);
void softmax_f32_rows_omp(const float* x, float* y, int64_t rows, int64_t cols);
void softmax_f32_vectorized(const float* x, float* y, int64_t rows, int64_t cols);  // v3: vector exp

// ---- memory --------------------------------------------------------------------------
void copy_bytes(void* dst, const void* src, size_t bytes);  // memcpy split over OpenMP threads

// ---- row-wise normalisations, x / y / dy / dx [rows, cols], gamma / beta [cols],
//      mean / rstd [rows] (saved by the forward for the backward) -------------------------
void softmax_backward_reference(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
void softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
void log_softmax_reference(const float* x, float* y, int64_t rows, int64_t cols);
void log_softmax_f32(const float* x, float* y, int64_t rows, int64_t cols);
void log_softmax_f32_vectorized(const float* x, float* y, int64_t rows, int64_t cols);
void log_softmax_backward_reference(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
void log_softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
void layernorm_reference(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                         int64_t rows, int64_t cols, float eps);
void layernorm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                   int64_t rows, int64_t cols, float eps);
void layernorm_backward_reference(const float* dy, const float* x, const float* gamma, const float* mean,
                                  const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t rows,
                                  int64_t cols);
void layernorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                            float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols);
// Serial: rows [0, rows) of the v2 backward; each row's parameter-gradient terms are added
// to dg / db (double [cols], the caller's, e.g. per thread). dx as layernorm_backward_f32.
void layernorm_backward_rows(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                             float* dx, double* dg, double* db, int64_t rows, int64_t cols);
void rmsnorm_reference(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t cols,
                       float eps);
void rmsnorm_f32(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t cols, float eps);
void rmsnorm_backward_reference(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                                float* dgamma, int64_t rows, int64_t cols);
void rmsnorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                          float* dgamma, int64_t rows, int64_t cols);
void rmsnorm_backward_rows(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                           double* dg, int64_t rows, int64_t cols);

// ---- harness helpers -----------------------------------------------------------------
// Busy-waits for `nanoseconds` of steady_clock time: a CPU case of known length.
void spin_for(int64_t nanoseconds);

}  // namespace benchsuite::cpu
