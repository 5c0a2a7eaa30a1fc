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

// The memory-bound ops below take float32, float16 or bfloat16 storage (`dtype`; any
// other is unsupported) and compute in fp32: reductions accumulate in fp32 and
// statistics (mean, rstd) are float32 for every dtype. They move 16-byte packs (4 floats,
// 8 halves) when their pointers (row pointers for row ops) are 16-byte aligned, and
// elements otherwise. Pointers are device pointers of `dtype` unless typed float*.

// ---- elementwise ---------------------------------------------------------------------
// out[r, c] = a[r, c] (op) b[r, c], or b[c] when b_is_row. a, out: [rows, cols]
void binary(BinaryOp op, DType dtype, const void* a, const void* b, void* out, int64_t rows, int64_t cols,
            bool b_is_row, StreamHandle stream);
void axpy(float alpha, DType dtype, const void* x, const void* y, void* out, int64_t n, StreamHandle stream);
void activation(Activation kind, DType dtype, const void* x, void* y, int64_t n, StreamHandle stream);
void activation_backward(Activation kind, DType dtype, const void* x, const void* dy, void* dx, int64_t n,
                         StreamHandle stream);

// ---- reductions (the result in `dtype`) -------------------------------------------------
// x [rows, cols] -> out [rows]: one block per row, tree reduction (pairwise-accurate).
void reduce_rows(Reduction kind, DType dtype, const void* x, void* out, int64_t rows, int64_t cols,
                 StreamHandle stream);
// x [n] -> out [1]: blocks write fp32 partials to `workspace` (kReduceWorkspaceFloats
// floats), one block reduces them: deterministic, no atomics.
constexpr int64_t kReduceWorkspaceFloats = 1024;
void reduce_all(Reduction kind, DType dtype, const void* x, void* out, int64_t n, float* workspace,
                StreamHandle stream);
// reduce_all on float32 (device code of other ops reduces its own fp32 buffers with it).
void reduce_all_f32(Reduction kind, const float* x, float* out, int64_t n, float* workspace, StreamHandle stream);

// ---- softmax / log_softmax over the last axis: x, y [rows, cols] -----------------------
void softmax_three_pass(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);  // v1
void softmax_online(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);      // v2
// v3: the row in registers (cols <= 8192 floats / 16384 halves), else softmax_online.
void softmax_registers(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);
void log_softmax(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);  // 3 reads
void log_softmax_registers(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);

// ---- row-wise normalisations (one block per row), shapes as in kernels/cpu ------------
void softmax_backward(DType dtype, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols,
                      StreamHandle stream);
void log_softmax_backward(DType dtype, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols,
                          StreamHandle stream);
// registers: the row held in registers when it fits (as softmax_registers), else streamed.
void layernorm(DType dtype, const void* x, const void* gamma, const void* beta, void* y, float* mean, float* rstd,
               int64_t rows, int64_t cols, float eps, bool registers, StreamHandle stream);
void layernorm_backward(DType dtype, const void* dy, const void* x, const void* gamma, const float* mean,
                        const float* rstd, void* dx, void* dgamma, void* dbeta, int64_t rows, int64_t cols,
                        StreamHandle stream);
void rmsnorm(DType dtype, const void* x, const void* gamma, void* y, float* rstd, int64_t rows, int64_t cols,
             float eps, bool registers, StreamHandle stream);
void rmsnorm_backward(DType dtype, const void* dy, const void* x, const void* gamma, const float* rstd, void* dx,
                      void* dgamma, int64_t rows, int64_t cols, StreamHandle stream);

// ---- GEMM through cuBLAS: row-major C[batch,M,N] = A[batch,M,K] @ B[batch,K,N] (B[K,N]
//      for every batch when b_shared); fp32 accumulation, TF32 products when tf32 -------
void gemm_cublas(DType dtype, const void* a, const void* b, void* c, int64_t m, int64_t n, int64_t k, int64_t batch,
                 bool b_shared, bool tf32, int device, StreamHandle stream);

// ---- harness helpers -----------------------------------------------------------------
// One thread busy-waits `cycles` SM clock cycles (clock64); when elapsed_ns is non-null
// (device memory) it receives the %globaltimer nanoseconds the wait took.
void spin_cycles(int64_t cycles, unsigned long long* elapsed_ns, StreamHandle stream);

}  // namespace benchsuite::cuda
