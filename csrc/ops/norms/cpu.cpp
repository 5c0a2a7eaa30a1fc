// CPU layernorm and rmsnorm, forward and backward, x [rows, cols].
// *_reference versions accumulate in double one row at a time; the others spread rows
// over OpenMP threads and accumulate in float (parameter gradients in per-thread
// double partials, so the column sums over many rows stay accurate).
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "ops/norms/norms.h"

namespace benchsuite::cpu {

namespace {
using parallel::thread_id;
int thread_count() { return parallel::max_threads(); }
bool parallel(int64_t rows, int64_t cols) { return rows > 1 && rows * cols > (1 << 15); }
}  // namespace

// ---- layernorm -------------------------------------------------------------------------------
template <class T>
void layernorm_reference(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows, int64_t cols,
                         double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double m = 0, v = 0;
    for (int64_t c = 0; c < cols; ++c) m += xr[c];
    m /= static_cast<double>(cols);
    for (int64_t c = 0; c < cols; ++c) v += (xr[c] - m) * (xr[c] - m);
    const double s = 1.0 / std::sqrt(v / static_cast<double>(cols) + eps);
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = static_cast<T>((xr[c] - m) * s * gamma[c] + beta[c]);
    mean[r] = static_cast<T>(m);
    rstd[r] = static_cast<T>(s);
  }
}
template void layernorm_reference(const float*, const float*, const float*, float*, float*, float*, int64_t, int64_t,
                                  double);
template void layernorm_reference(const double*, const double*, const double*, double*, double*, double*, int64_t,
                                  int64_t, double);

void layernorm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                   int64_t rows, int64_t cols, float eps) {
#pragma omp parallel for schedule(static) if (parallel(rows, cols))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) sum += xr[c];
    const float m = sum / static_cast<float>(cols);
    float sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t c = 0; c < cols; ++c) sq += (xr[c] - m) * (xr[c] - m);
    const float s = 1.0f / std::sqrt(sq / static_cast<float>(cols) + eps);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = (xr[c] - m) * s * gamma[c] + beta[c];
    mean[r] = m;
    rstd[r] = s;
  }
}

template <class T>
void layernorm_backward_reference(const T* dy, const T* x, const T* gamma, const T* mean, const T* rstd, T* dx,
                                  T* dgamma, T* dbeta, int64_t rows, int64_t cols) {
  std::vector<double> dg(static_cast<size_t>(cols), 0.0), db(static_cast<size_t>(cols), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * cols, *gr = dy + r * cols;
    double mean_g = 0, mean_gx = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const double xhat = (xr[c] - mean[r]) * static_cast<double>(rstd[r]);
      const double g = static_cast<double>(gr[c]) * gamma[c];
      mean_g += g;
      mean_gx += g * xhat;
      dg[c] += gr[c] * xhat;
      db[c] += gr[c];
    }
    mean_g /= static_cast<double>(cols);
    mean_gx /= static_cast<double>(cols);
    for (int64_t c = 0; c < cols; ++c) {
      const double xhat = (xr[c] - mean[r]) * static_cast<double>(rstd[r]);
      dx[r * cols + c] = static_cast<T>(rstd[r] * (gr[c] * static_cast<double>(gamma[c]) - mean_g - xhat * mean_gx));
    }
  }
  for (int64_t c = 0; c < cols; ++c) {
    dgamma[c] = static_cast<T>(dg[c]);
    dbeta[c] = static_cast<T>(db[c]);
  }
}
template void layernorm_backward_reference(const float*, const float*, const float*, const float*, const float*, float*,
                                           float*, float*, int64_t, int64_t);
template void layernorm_backward_reference(const double*, const double*, const double*, const double*, const double*,
                                           double*, double*, double*, int64_t, int64_t);

namespace {
// One row of the layernorm backward: dx, and this row's dgamma/dbeta terms added to dg/db.
inline void layernorm_backward_row(const float* gr, const float* xr, const float* gamma, float m, float s, float* dxr,
                                   double* dg, double* db, int64_t cols) {
  float sum_g = 0, sum_gx = 0;
#pragma omp simd reduction(+ : sum_g, sum_gx)
  for (int64_t c = 0; c < cols; ++c) {
    const float g = gr[c] * gamma[c];
    sum_g += g;
    sum_gx += g * (xr[c] - m) * s;
  }
  const float mean_g = sum_g / static_cast<float>(cols), mean_gx = sum_gx / static_cast<float>(cols);
  for (int64_t c = 0; c < cols; ++c) {
    const float xhat = (xr[c] - m) * s;
    dxr[c] = s * (gr[c] * gamma[c] - mean_g - xhat * mean_gx);
    dg[c] += gr[c] * xhat;
    db[c] += gr[c];
  }
}
}  // namespace

void layernorm_backward_rows(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                             float* dx, double* dg, double* db, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    layernorm_backward_row(dy + r * cols, x + r * cols, gamma, mean[r], rstd[r], dx + r * cols, dg, db, cols);
}

void layernorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                            float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  const int threads = thread_count();
  std::vector<double> dg(static_cast<size_t>(threads * cols), 0.0), db(static_cast<size_t>(threads * cols), 0.0);
#pragma omp parallel num_threads(threads) if (parallel(rows, cols))
  {
    double* my_dg = dg.data() + thread_id() * cols;
    double* my_db = db.data() + thread_id() * cols;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r)
      layernorm_backward_row(dy + r * cols, x + r * cols, gamma, mean[r], rstd[r], dx + r * cols, my_dg, my_db, cols);
  }
  for (int64_t c = 0; c < cols; ++c) {
    double g = 0, b = 0;
    for (int t = 0; t < threads; ++t) {
      g += dg[t * cols + c];
      b += db[t * cols + c];
    }
    dgamma[c] = static_cast<float>(g);
    dbeta[c] = static_cast<float>(b);
  }
}

// ---- rmsnorm: y = x * rstd * gamma, rstd = 1 / sqrt(mean(x^2) + eps) -------------------------
template <class T>
void rmsnorm_reference(const T* x, const T* gamma, T* y, T* rstd, int64_t rows, int64_t cols, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double sq = 0;
    for (int64_t c = 0; c < cols; ++c) sq += static_cast<double>(xr[c]) * xr[c];
    const double s = 1.0 / std::sqrt(sq / static_cast<double>(cols) + eps);
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = static_cast<T>(xr[c] * s * gamma[c]);
    rstd[r] = static_cast<T>(s);
  }
}
template void rmsnorm_reference(const float*, const float*, float*, float*, int64_t, int64_t, double);
template void rmsnorm_reference(const double*, const double*, double*, double*, int64_t, int64_t, double);

void rmsnorm_f32(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t cols, float eps) {
#pragma omp parallel for schedule(static) if (parallel(rows, cols))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t c = 0; c < cols; ++c) sq += xr[c] * xr[c];
    const float s = 1.0f / std::sqrt(sq / static_cast<float>(cols) + eps);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = xr[c] * s * gamma[c];
    rstd[r] = s;
  }
}

template <class T>
void rmsnorm_backward_reference(const T* dy, const T* x, const T* gamma, const T* rstd, T* dx, T* dgamma, int64_t rows,
                                int64_t cols) {
  std::vector<double> dg(static_cast<size_t>(cols), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * cols, *gr = dy + r * cols;
    const double s = rstd[r];
    double mean_gx = 0;
    for (int64_t c = 0; c < cols; ++c) {
      mean_gx += static_cast<double>(gr[c]) * gamma[c] * xr[c];
      dg[c] += gr[c] * xr[c] * s;
    }
    mean_gx /= static_cast<double>(cols);
    for (int64_t c = 0; c < cols; ++c)
      dx[r * cols + c] = static_cast<T>(s * (static_cast<double>(gr[c]) * gamma[c] - xr[c] * s * s * mean_gx));
  }
  for (int64_t c = 0; c < cols; ++c) dgamma[c] = static_cast<T>(dg[c]);
}
template void rmsnorm_backward_reference(const float*, const float*, const float*, const float*, float*, float*,
                                         int64_t, int64_t);
template void rmsnorm_backward_reference(const double*, const double*, const double*, const double*, double*, double*,
                                         int64_t, int64_t);

namespace {
inline void rmsnorm_backward_row(const float* gr, const float* xr, const float* gamma, float s, float* dxr, double* dg,
                                 int64_t cols) {
  float sum_gx = 0;
#pragma omp simd reduction(+ : sum_gx)
  for (int64_t c = 0; c < cols; ++c) sum_gx += gr[c] * gamma[c] * xr[c];
  const float k = s * s * sum_gx / static_cast<float>(cols);
  for (int64_t c = 0; c < cols; ++c) {
    dxr[c] = s * (gr[c] * gamma[c] - xr[c] * k);
    dg[c] += gr[c] * xr[c] * s;
  }
}
}  // namespace

void rmsnorm_backward_rows(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                           double* dg, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    rmsnorm_backward_row(dy + r * cols, x + r * cols, gamma, rstd[r], dx + r * cols, dg, cols);
}

void rmsnorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                          float* dgamma, int64_t rows, int64_t cols) {
  const int threads = thread_count();
  std::vector<double> dg(static_cast<size_t>(threads * cols), 0.0);
#pragma omp parallel num_threads(threads) if (parallel(rows, cols))
  {
    double* my_dg = dg.data() + thread_id() * cols;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r)
      rmsnorm_backward_row(dy + r * cols, x + r * cols, gamma, rstd[r], dx + r * cols, my_dg, cols);
  }
  for (int64_t c = 0; c < cols; ++c) {
    double g = 0;
    for (int t = 0; t < threads; ++t) g += dg[t * cols + c];
    dgamma[c] = static_cast<float>(g);
  }
}

}  // namespace benchsuite::cpu
