// Plain C++ kernels. The v1 of each op is its reference: simple, accumulating in double
// where it matters, and the yardstick every other version (CPU or CUDA) is tested against.
#pragma once
#include <cstdint>

#include "common/dtype.h"

namespace benchsuite::cpu {

// ---- creation ------------------------------------------------------------------------
void fill(void* out, DType dtype, int64_t n, double value);                                  // out: [n]
void randn(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev);       // out: [n]
void uniform(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high);        // out: [n]

// ---- elementwise ---------------------------------------------------------------------
void add_f32(const float* a, const float* b, float* out, int64_t n);  // out = a + b, [n]

// ---- matmul: C[M,N] = A[M,K] @ B[K,N], row-major, contiguous -------------------------
void matmul_f32_reference(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);
void matmul_f32_blocked(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);
// One row i of the reference product in double (spot checks of large products).
void matmul_row_f64(const float* a, const float* b, double* row, int64_t i, int64_t n, int64_t k);

// ---- softmax over the last axis: x, y [rows, cols] ------------------------------------
void softmax_f32_reference(const float* x, float* y, int64_t rows, int64_t cols);
void softmax_f32_rows_omp(const float* x, float* y, int64_t rows, int64_t cols);

// ---- memory --------------------------------------------------------------------------
void copy_bytes(void* dst, const void* src, size_t bytes);  // memcpy split over OpenMP threads

// ---- harness helpers -----------------------------------------------------------------
// Busy-waits for `nanoseconds` of steady_clock time: a CPU case of known length.
void spin_for(int64_t nanoseconds);

}  // namespace benchsuite::cpu
