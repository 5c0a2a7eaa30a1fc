// CPU references of the channel normalisations: one generic pass over x [n, c, s] with the
// statistics set of each (sample, channel) given by a function, sums in double; storage T is
// float, or double (float64 tensors, statistics included).
#include <cmath>
#include <vector>

#include "ops/channel_norms/channel_norms.h"

namespace benchsuite::cpu {
namespace {

// mean_k and rstd_k over the elements whose (sample, channel) maps to k.
template <class T, class SetOf>
void statistics(const T* x, T* mean, T* rstd, int64_t n, int64_t c, int64_t s, int64_t sets, float eps, SetOf set_of) {
  std::vector<double> sum(sets, 0.0), count(sets, 0.0), sq(sets, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t k = set_of(i, j);
      const T* row = x + (i * c + j) * s;
      for (int64_t p = 0; p < s; ++p) sum[k] += row[p];
      count[k] += static_cast<double>(s);
    }
  for (int64_t k = 0; k < sets; ++k) sum[k] = count[k] > 0 ? sum[k] / count[k] : 0.0;
  // Two passes: the variance from the centred values (no cancellation).
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t k = set_of(i, j);
      const T* row = x + (i * c + j) * s;
      for (int64_t p = 0; p < s; ++p) sq[k] += (row[p] - sum[k]) * (row[p] - sum[k]);
    }
  for (int64_t k = 0; k < sets; ++k) {
    mean[k] = static_cast<T>(sum[k]);
    rstd[k] = static_cast<T>(1.0 / std::sqrt((count[k] > 0 ? sq[k] / count[k] : 0.0) + eps));
  }
}

template <class T, class SetOf>
void normalise(const T* x, const T* gamma, const T* beta, const T* mean, const T* rstd, T* y, int64_t n, int64_t c,
               int64_t s, SetOf set_of) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t k = set_of(i, j);
      const double m = mean[k], r = rstd[k], g = gamma[j], b = beta[j];
      const T* in = x + (i * c + j) * s;
      T* out = y + (i * c + j) * s;
      for (int64_t p = 0; p < s; ++p) out[p] = static_cast<T>((in[p] - m) * r * g + b);
    }
}

// dx, dgamma, dbeta (formulas in channel_norms.h); stats_of_x: the statistics depend on x.
template <class T, class SetOf>
void backward(const T* dy, const T* x, const T* gamma, const T* mean, const T* rstd, bool stats_of_x, T* dx, T* dgamma,
              T* dbeta, int64_t n, int64_t c, int64_t s, int64_t sets, SetOf set_of) {
  std::vector<double> mean_g(sets, 0.0), mean_gx(sets, 0.0), count(sets, 0.0), dg(c, 0.0), db(c, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t k = set_of(i, j);
      const double m = mean[k], r = rstd[k], gm = gamma[j];
      const T *d = dy + (i * c + j) * s, *in = x + (i * c + j) * s;
      for (int64_t p = 0; p < s; ++p) {
        const double xhat = (in[p] - m) * r;
        mean_g[k] += d[p] * gm;
        mean_gx[k] += d[p] * gm * xhat;
        dg[j] += d[p] * xhat;
        db[j] += d[p];
      }
      count[k] += static_cast<double>(s);
    }
  for (int64_t k = 0; k < sets; ++k)
    if (count[k] > 0) mean_g[k] /= count[k], mean_gx[k] /= count[k];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t k = set_of(i, j);
      const double m = mean[k], r = rstd[k], gm = gamma[j];
      const T *d = dy + (i * c + j) * s, *in = x + (i * c + j) * s;
      T* out = dx + (i * c + j) * s;
      for (int64_t p = 0; p < s; ++p) {
        const double g = d[p] * gm;
        out[p] = static_cast<T>(stats_of_x ? r * (g - mean_g[k] - (in[p] - m) * r * mean_gx[k]) : r * g);
      }
    }
  for (int64_t j = 0; j < c; ++j) dgamma[j] = static_cast<T>(dg[j]), dbeta[j] = static_cast<T>(db[j]);
}

}  // namespace

template <class T>
void group_norm_reference(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t n, int64_t c,
                          int64_t s, int64_t groups, float eps) {
  const int64_t per_group = c / groups;
  const auto set_of = [&](int64_t i, int64_t j) { return i * groups + j / per_group; };
  statistics(x, mean, rstd, n, c, s, n * groups, eps, set_of);
  normalise(x, gamma, beta, mean, rstd, y, n, c, s, set_of);
}

template <class T>
void group_norm_backward_reference(const T* dy, const T* x, const T* gamma, const T* mean, const T* rstd, T* dx,
                                   T* dgamma, T* dbeta, int64_t n, int64_t c, int64_t s, int64_t groups) {
  const int64_t per_group = c / groups;
  backward(dy, x, gamma, mean, rstd, true, dx, dgamma, dbeta, n, c, s, n * groups,
           [&](int64_t i, int64_t j) { return i * groups + j / per_group; });
}

template <class T>
void batch_norm_reference(const T* x, const T* gamma, const T* beta, const T* running_mean, const T* running_var,
                          bool training, T* y, T* mean, T* rstd, int64_t n, int64_t c, int64_t s, float eps) {
  const auto set_of = [](int64_t, int64_t j) { return j; };
  if (training) {
    statistics(x, mean, rstd, n, c, s, c, eps, set_of);
  } else {
    for (int64_t j = 0; j < c; ++j) {
      mean[j] = running_mean[j];
      rstd[j] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[j]) + eps));
    }
  }
  normalise(x, gamma, beta, mean, rstd, y, n, c, s, set_of);
}

template <class T>
void batch_norm_backward_reference(const T* dy, const T* x, const T* gamma, const T* mean, const T* rstd, bool training,
                                   T* dx, T* dgamma, T* dbeta, int64_t n, int64_t c, int64_t s) {
  backward(dy, x, gamma, mean, rstd, training, dx, dgamma, dbeta, n, c, s, c, [](int64_t, int64_t j) { return j; });
}

template void group_norm_reference(const float*, const float*, const float*, float*, float*, float*, int64_t, int64_t,
                                   int64_t, int64_t, float);
template void group_norm_reference(const double*, const double*, const double*, double*, double*, double*, int64_t,
                                   int64_t, int64_t, int64_t, float);
template void group_norm_backward_reference(const float*, const float*, const float*, const float*, const float*,
                                            float*, float*, float*, int64_t, int64_t, int64_t, int64_t);
template void group_norm_backward_reference(const double*, const double*, const double*, const double*, const double*,
                                            double*, double*, double*, int64_t, int64_t, int64_t, int64_t);
template void batch_norm_reference(const float*, const float*, const float*, const float*, const float*, bool, float*,
                                   float*, float*, int64_t, int64_t, int64_t, float);
template void batch_norm_reference(const double*, const double*, const double*, const double*, const double*, bool,
                                   double*, double*, double*, int64_t, int64_t, int64_t, float);
template void batch_norm_backward_reference(const float*, const float*, const float*, const float*, const float*, bool,
                                            float*, float*, float*, int64_t, int64_t, int64_t);
template void batch_norm_backward_reference(const double*, const double*, const double*, const double*, const double*,
                                            bool, double*, double*, double*, int64_t, int64_t, int64_t);

}  // namespace benchsuite::cpu
