// CPU softmax over the last axis. v1 is the reference (double sums, three passes); v2
// splits rows across OpenMP threads and keeps each row in cache between its passes; v3
// also vectorises the exponentials (fast_math::exp instead of a libm call per element).
// log_softmax (same three versions) and the backward passes: *_reference accumulate in
// double one row at a time; the others spread rows over OpenMP threads and accumulate in
// float.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/fast_math.h"
#include "ops/softmax/softmax.h"

namespace benchsuite::cpu {

namespace {
// The log_softmax and backward kernels go parallel only for several rows of enough work.
bool parallel(int64_t rows, int64_t cols) { return rows > 1 && rows * cols > (1 << 15); }
}  // namespace

template <class T>
void softmax_reference(const T* x, T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    double row_max = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < cols; ++c) row_max = std::max(row_max, static_cast<double>(xr[c]));
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(xr[c]) - row_max);
    for (int64_t c = 0; c < cols; ++c) yr[c] = static_cast<T>(std::exp(static_cast<double>(xr[c]) - row_max) / sum);
  }
}
template void softmax_reference(const float*, float*, int64_t, int64_t);
template void softmax_reference(const double*, double*, int64_t, int64_t);

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

// ---- softmax backward: dx = y * (dy - sum(dy * y)) ---------------------------------------
template <class T>
void softmax_backward_reference(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T *yr = y + r * cols, *gr = dy + r * cols;
    double dot = 0;
    for (int64_t c = 0; c < cols; ++c) dot += static_cast<double>(yr[c]) * gr[c];
    for (int64_t c = 0; c < cols; ++c) dx[r * cols + c] = static_cast<T>(yr[c] * (gr[c] - dot));
  }
}
template void softmax_backward_reference(const float*, const float*, float*, int64_t, int64_t);
template void softmax_backward_reference(const double*, const double*, double*, int64_t, int64_t);

void softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (parallel(rows, cols))
  for (int64_t r = 0; r < rows; ++r) {
    const float *yr = y + r * cols, *gr = dy + r * cols;
    // The row sum in double: a float sum's error grows with the row when the compiler does
    // not split it into vector lanes (as in the sanitizer build), and it is one pass either way.
    double dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t c = 0; c < cols; ++c) dot += static_cast<double>(yr[c]) * gr[c];
    const float dot_f = static_cast<float>(dot);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) dx[r * cols + c] = yr[c] * (gr[c] - dot_f);
  }
}

// ---- log_softmax: y = x - max - log(sum(exp(x - max))); dx = dy - exp(y) * sum(dy) --------
template <class T>
void log_softmax_reference(const T* x, T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double m = -std::numeric_limits<double>::infinity(), s = 0;
    for (int64_t c = 0; c < cols; ++c) m = std::max(m, static_cast<double>(xr[c]));
    for (int64_t c = 0; c < cols; ++c) s += std::exp(xr[c] - m);
    const double shift = m + std::log(s);
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = static_cast<T>(xr[c] - shift);
  }
}
template void log_softmax_reference(const float*, float*, int64_t, int64_t);
template void log_softmax_reference(const double*, double*, int64_t, int64_t);

void log_softmax_f32(const float* x, float* y, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (parallel(rows, cols))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float m = -std::numeric_limits<float>::infinity(), s = 0;
#pragma omp simd reduction(max : m)
    for (int64_t c = 0; c < cols; ++c) m = std::max(m, xr[c]);
    for (int64_t c = 0; c < cols; ++c) s += std::exp(xr[c] - m);
    const float shift = m + std::log(s);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = xr[c] - shift;
  }
}

void log_softmax_f32_vectorized(const float* x, float* y, int64_t rows, int64_t cols) {
  using namespace fast_math;
#pragma omp parallel for schedule(static) if (parallel(rows, cols))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t c = 0; c < cols; ++c) m = xr[c] > m ? xr[c] : m;
    v8f lanes{};
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) lanes += exp8(load8(xr + c) - m);
    float s = sum8(lanes);
    for (; c < cols; ++c) s += fast_math::exp(xr[c] - m);
    const float shift = m + std::log(s);
#pragma omp simd
    for (int64_t k = 0; k < cols; ++k) y[r * cols + k] = xr[k] - shift;
  }
}

template <class T>
void log_softmax_backward_reference(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0;
    for (int64_t c = 0; c < cols; ++c) total += dy[r * cols + c];
    for (int64_t c = 0; c < cols; ++c)
      dx[r * cols + c] = static_cast<T>(dy[r * cols + c] - std::exp(static_cast<double>(y[r * cols + c])) * total);
  }
}
template void log_softmax_backward_reference(const float*, const float*, float*, int64_t, int64_t);
template void log_softmax_backward_reference(const double*, const double*, double*, int64_t, int64_t);

void log_softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (parallel(rows, cols))
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0;  // in double, as softmax_backward_f32's
#pragma omp simd reduction(+ : total)
    for (int64_t c = 0; c < cols; ++c) total += dy[r * cols + c];
    const float total_f = static_cast<float>(total);
    for (int64_t c = 0; c < cols; ++c) dx[r * cols + c] = dy[r * cols + c] - std::exp(y[r * cols + c]) * total_f;
  }
}

}  // namespace benchsuite::cpu
