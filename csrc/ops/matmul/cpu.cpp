// CPU GEMM, row-major C[M,N] = A[M,K] @ B[K,N].
// v1 reference: i-k-j loops accumulating a row in double.
// v2 blocked: Goto-style packing and register-tiled micro-kernels, one build per instruction
//    set chosen at run time (gemm_f32_kernel.h, gemm_isa.h).
#include <algorithm>
#include <vector>

#include "ops/matmul/gemm_isa.h"
#include "ops/matmul/matmul.h"

namespace benchsuite::cpu {

void matmul_row_f64(const float* a, const float* b, double* row, int64_t i, int64_t n, int64_t k) {
  std::fill(row, row + n, 0.0);
  for (int64_t p = 0; p < k; ++p) {
    const double aip = a[i * k + p];
    const float* bp = b + p * n;
    for (int64_t j = 0; j < n; ++j) row[j] += aip * bp[j];
  }
}

void matmul_f32_reference(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  std::vector<double> row(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    matmul_row_f64(a, b, row.data(), i, n, k);
    for (int64_t j = 0; j < n; ++j) c[i * n + j] = static_cast<float>(row[j]);
  }
}

void matmul_f32_blocked(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  gemm_f32(a, b, c, m, n, k);
}

}  // namespace benchsuite::cpu
