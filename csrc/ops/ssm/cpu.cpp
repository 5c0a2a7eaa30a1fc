// CPU reference of the Mamba SSM core and its backward (formulas in ssm.h), in double on
// float32 or float64 storage.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/ssm/ssm.h"

namespace benchsuite::cpu {

namespace {
double softplus(double v) { return v > 20.0 ? v : std::log1p(std::exp(v)); }
double softplus_grad(double v) { return v > 20.0 ? 1.0 : 1.0 / (1.0 + std::exp(-v)); }
}  // namespace

template <class T>
void mamba_ssm_reference(const T* x, const T* dt, const T* a_log, const T* bm, const T* cm, const T* dv, T* y,
                         int64_t batch, int64_t len, int64_t dim, int64_t state) {
  std::vector<double> h(static_cast<size_t>(state));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t d = 0; d < dim; ++d) {
      std::fill(h.begin(), h.end(), 0.0);
      for (int64_t t = 0; t < len; ++t) {
        const int64_t i = (b * len + t) * dim + d, row = (b * len + t) * state;
        const double delta = softplus(dt[i]), xi = x[i];
        double out = static_cast<double>(dv[d]) * xi;
        for (int64_t n = 0; n < state; ++n) {
          const double a = std::exp(-delta * std::exp(static_cast<double>(a_log[d * state + n])));
          h[n] = a * h[n] + delta * bm[row + n] * xi;
          out += h[n] * cm[row + n];
        }
        y[i] = static_cast<T>(out);
      }
    }
}

template <class T>
void mamba_ssm_backward_reference(const T* dy, const T* x, const T* dt, const T* a_log, const T* bm, const T* cm,
                                  const T* dv, T* dx, T* ddt, T* da_log, T* dbm, T* dcm, T* ddv, int64_t batch,
                                  int64_t len, int64_t dim, int64_t state) {
  std::vector<double> g_a(static_cast<size_t>(dim * state), 0.0), g_d(static_cast<size_t>(dim), 0.0);
  std::vector<double> g_b(static_cast<size_t>(batch * len * state), 0.0), g_c(g_b.size(), 0.0);
  std::vector<double> h(static_cast<size_t>((len + 1) * state)), g(static_cast<size_t>(state));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t d = 0; d < dim; ++d) {
      // The states h_0 .. h_T of this (batch, channel), h_0 = 0.
      std::fill(h.begin(), h.begin() + state, 0.0);
      for (int64_t t = 0; t < len; ++t) {
        const int64_t i = (b * len + t) * dim + d, row = (b * len + t) * state;
        const double delta = softplus(dt[i]);
        for (int64_t n = 0; n < state; ++n) {
          const double a = std::exp(-delta * std::exp(static_cast<double>(a_log[d * state + n])));
          h[(t + 1) * state + n] = a * h[t * state + n] + delta * bm[row + n] * x[i];
        }
      }
      std::fill(g.begin(), g.end(), 0.0);  // d loss / d h_t, carried from the future
      for (int64_t t = len - 1; t >= 0; --t) {
        const int64_t i = (b * len + t) * dim + d, row = (b * len + t) * state;
        const double gy = dy[i], xi = x[i], delta = softplus(dt[i]);
        double g_delta = 0, g_x = gy * dv[d];
        g_d[d] += gy * xi;
        for (int64_t n = 0; n < state; ++n) {
          const double A = -std::exp(static_cast<double>(a_log[d * state + n]));
          const double a = std::exp(delta * A);
          g_c[row + n] += gy * h[(t + 1) * state + n];
          g[n] += gy * cm[row + n];
          const double g_a_t = g[n] * h[t * state + n];  // through a_t = exp(delta A)
          g_delta += g_a_t * a * A + g[n] * bm[row + n] * xi;
          g_a[d * state + n] += g_a_t * a * delta * A;   // d a / d A_log = a delta A
          g_b[row + n] += g[n] * delta * xi;
          g_x += g[n] * delta * bm[row + n];
          g[n] *= a;
        }
        dx[i] = static_cast<T>(g_x);
        ddt[i] = static_cast<T>(g_delta * softplus_grad(dt[i]));
      }
    }
  for (size_t k = 0; k < g_a.size(); ++k) da_log[k] = static_cast<T>(g_a[k]);
  for (int64_t d = 0; d < dim; ++d) ddv[d] = static_cast<T>(g_d[d]);
  for (size_t k = 0; k < g_b.size(); ++k) dbm[k] = static_cast<T>(g_b[k]), dcm[k] = static_cast<T>(g_c[k]);
}

template void mamba_ssm_reference(const float*, const float*, const float*, const float*, const float*, const float*,
                                  float*, int64_t, int64_t, int64_t, int64_t);
template void mamba_ssm_reference(const double*, const double*, const double*, const double*, const double*,
                                  const double*, double*, int64_t, int64_t, int64_t, int64_t);
template void mamba_ssm_backward_reference(const float*, const float*, const float*, const float*, const float*,
                                           const float*, const float*, float*, float*, float*, float*, float*, float*,
                                           int64_t, int64_t, int64_t, int64_t);
template void mamba_ssm_backward_reference(const double*, const double*, const double*, const double*, const double*,
                                           const double*, const double*, double*, double*, double*, double*, double*,
                                           double*, int64_t, int64_t, int64_t, int64_t);

}  // namespace benchsuite::cpu
