// CPU softmax over the last axis. v1 is the reference (double sums, three passes); v2
// splits rows across OpenMP threads and keeps each row in cache between its passes; v3
// also vectorises the exponentials (fast_math::exp instead of a libm call per element).
#include <algorithm>
#include <cmath>
#include <limits>

#include "common/fast_math.h"
#include "kernels/cpu/cpu_kernels.h"

namespace benchsuite::cpu {

void softmax_f32_reference(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    double row_max = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < cols; ++c) row_max = std::max(row_max, static_cast<double>(xr[c]));
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(xr[c]) - row_max);
    for (int64_t c = 0; c < cols; ++c) yr[c] = static_cast<float>(std::exp(static_cast<double>(xr[c]) - row_max) / sum);
  }
}

void softmax_f32_rows_omp(const float* x, float* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float row_max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : row_max)
    for (int64_t c = 0; c < cols; ++c) row_max = std::max(row_max, xr[c]);
    double sum = 0.0;  // one float running sum drifts past 1e-5 over ~10^4 terms
    for (int64_t c = 0; c < cols; ++c) {
      const float e = std::exp(xr[c] - row_max);
      yr[c] = e;
      sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
  }
}

}  // namespace benchsuite::cpu

namespace benchsuite::cpu {

void softmax_f32_vectorized(const float* x, float* y, int64_t rows, int64_t cols) {
  using namespace fast_math;
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float row_max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : row_max)
    for (int64_t c = 0; c < cols; ++c) row_max = xr[c] > row_max ? xr[c] : row_max;
    const v8f shift = splat(row_max);
    v8f lanes{};
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      const v8f e = exp8(load8(xr + c) - shift);
      store8(yr + c, e);
      lanes += e;
    }
    float sum = sum8(lanes);
    for (; c < cols; ++c) sum += (yr[c] = fast_math::exp(xr[c] - row_max));
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t k = 0; k < cols; ++k) yr[k] *= inv;
  }
}

}  // namespace benchsuite::cpu
