// Host-callable launchers for the CUDA kernels. No CUDA headers here: ops code compiled
// by the host compiler calls these through opaque stream handles. Every launcher checks
// its launch and throws benchsuite::Error on failure.
#pragma once
#include <cstdint>

#include "common/activations.h"
#include "common/cuda_runtime.h"
#include "common/dtype.h"

namespace benchsuite::cuda {

// ---- creation (same numbers as the CPU kernels for the same seed) ----------------------
void fill(void* out, DType dtype, int64_t n, double value, StreamHandle stream);                          // out: [n]
void randn(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev, StreamHandle stream); // out: [n]
void uniform(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high, StreamHandle stream);  // out: [n]
void cast(const void* in, DType from, void* out, DType to, int64_t n, StreamHandle stream);  // [n]

// ---- elementwise ---------------------------------------------------------------------
void add_f32(const float* a, const float* b, float* out, int64_t n, StreamHandle stream);  // [n]
// out[r, c] = a[r, c] (op) b[r, c], or b[c] when b_is_row. a, out: [rows, cols]
void binary_f32(BinaryOp op, const float* a, const float* b, float* out, int64_t rows, int64_t cols, bool b_is_row,
                StreamHandle stream);
void axpy_f32(float alpha, const float* x, const float* y, float* out, int64_t n, StreamHandle stream);
void activation_f32(Activation kind, const float* x, float* y, int64_t n, StreamHandle stream);
void activation_backward_f32(Activation kind, const float* x, const float* dy, float* dx, int64_t n,
                             StreamHandle stream);

// ---- reductions -----------------------------------------------------------------------
// x [rows, cols] -> out [rows]: one block per row, tree reduction (pairwise-accurate).
void reduce_rows_f32(Reduction kind, const float* x, float* out, int64_t rows, int64_t cols, StreamHandle stream);
// x [n] -> out [1]: blocks write partials to `workspace` (kReduceWorkspaceFloats floats),
// one block reduces them: deterministic, no atomics.
constexpr int64_t kReduceWorkspaceFloats = 1024;
void reduce_all_f32(Reduction kind, const float* x, float* out, int64_t n, float* workspace, StreamHandle stream);

// ---- softmax over the last axis: x, y [rows, cols] ------------------------------------
void softmax_f32_three_pass(const float* x, float* y, int64_t rows, int64_t cols, StreamHandle stream);  // v1
void softmax_f32_online(const float* x, float* y, int64_t rows, int64_t cols, StreamHandle stream);      // v2

// ---- row-wise normalisations (one block per row), shapes as in kernels/cpu ------------
void softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, StreamHandle stream);
void log_softmax_f32(const float* x, float* y, int64_t rows, int64_t cols, StreamHandle stream);
void log_softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols,
                              StreamHandle stream);
void layernorm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                   int64_t rows, int64_t cols, float eps, StreamHandle stream);
void layernorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                            float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols, StreamHandle stream);
void rmsnorm_f32(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t cols, float eps,
                 StreamHandle stream);
void rmsnorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                          float* dgamma, int64_t rows, int64_t cols, StreamHandle stream);

// ---- GEMM through cuBLAS: row-major C[batch,M,N] = A[batch,M,K] @ B[batch,K,N] (B[K,N]
//      for every batch when b_shared); fp32 accumulation, TF32 products when tf32 -------
void gemm_cublas(DType dtype, const void* a, const void* b, void* c, int64_t m, int64_t n, int64_t k, int64_t batch,
                 bool b_shared, bool tf32, int device, StreamHandle stream);

// ---- harness helpers -----------------------------------------------------------------
// One thread busy-waits `cycles` SM clock cycles (clock64); when elapsed_ns is non-null
// (device memory) it receives the %globaltimer nanoseconds the wait took.
void spin_cycles(int64_t cycles, unsigned long long* elapsed_ns, StreamHandle stream);

}  // namespace benchsuite::cuda
