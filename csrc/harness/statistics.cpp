// Timing statistics. The median's CI uses order statistics, so it needs no assumption
// about the shape of the timing distribution (which is skewed and often multimodal).
#include "harness/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace benchsuite {

namespace {
// Two-sided standard normal quantile for a confidence level (Acklam's rational
// approximation of the inverse CDF, |error| < 1.2e-9).
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double plow = 0.02425, phigh = 1 - plow;
  if (p < plow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p <= phigh) {
    const double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double q = std::sqrt(-2 * std::log(1 - p));
  return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
         ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
}
}  // namespace

double percentile_sorted(const std::vector<double>& sorted, double q) {
  const size_t n = sorted.size();
  if (n == 1) return sorted[0];
  const double position = q / 100.0 * static_cast<double>(n - 1);
  const size_t lower = static_cast<size_t>(std::floor(position));
  const size_t upper = std::min(lower + 1, n - 1);
  const double fraction = position - static_cast<double>(lower);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

std::pair<double, double> median_ci_sorted(const std::vector<double>& sorted, double ci_level) {
  const double n = static_cast<double>(sorted.size());
  const double z = normal_quantile(0.5 + ci_level / 2.0);
  const double half_width = z * std::sqrt(n) / 2.0;
  int64_t low_rank = static_cast<int64_t>(std::floor(n / 2.0 - half_width));
  int64_t high_rank = static_cast<int64_t>(std::ceil(n / 2.0 + half_width)) + 1;
  low_rank = std::clamp<int64_t>(low_rank, 1, static_cast<int64_t>(n));
  high_rank = std::clamp<int64_t>(high_rank, 1, static_cast<int64_t>(n));
  return {sorted[low_rank - 1], sorted[high_rank - 1]};
}

double median_noise(std::vector<double> samples, double ci_level) {
  if (samples.empty()) return INFINITY;
  std::sort(samples.begin(), samples.end());
  const double median = percentile_sorted(samples, 50.0);
  const auto ci = median_ci_sorted(samples, ci_level);
  return median > 0 ? (ci.second - ci.first) / 2.0 / median : INFINITY;
}

Stats compute_stats(const std::vector<double>& samples, double ci_level) {
  BENCHSUITE_CHECK_ARG(!samples.empty(), "samples is empty: statistics need at least one sample");
  BENCHSUITE_CHECK_ARG(ci_level > 0.0 && ci_level < 1.0, "ci_level=", ci_level, " must be in (0, 1)");
  for (size_t i = 0; i < samples.size(); ++i)
    BENCHSUITE_CHECK_ARG(std::isfinite(samples[i]), "samples[", i, "]=", samples[i], " is not finite");
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  Stats s;
  s.n = static_cast<int64_t>(sorted.size());
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(s.n);
  double squares = 0.0;
  for (double v : sorted) squares += (v - s.mean) * (v - s.mean);
  s.stddev = s.n > 1 ? std::sqrt(squares / static_cast<double>(s.n - 1)) : 0.0;
  s.cv = s.mean != 0.0 ? s.stddev / s.mean : 0.0;
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = percentile_sorted(sorted, 50.0);
  s.p5 = percentile_sorted(sorted, 5.0);
  s.p95 = percentile_sorted(sorted, 95.0);
  s.p99 = percentile_sorted(sorted, 99.0);
  s.q1 = percentile_sorted(sorted, 25.0);
  s.q3 = percentile_sorted(sorted, 75.0);
  s.iqr = s.q3 - s.q1;
  const auto ci = median_ci_sorted(sorted, ci_level);
  s.ci_low = ci.first;
  s.ci_high = ci.second;
  s.ci_level = ci_level;
  s.noise = s.median > 0 ? (s.ci_high - s.ci_low) / 2.0 / s.median : 0.0;
  const double low_fence = s.q1 - 1.5 * s.iqr, high_fence = s.q3 + 1.5 * s.iqr;
  for (double v : sorted) {
    if (v < low_fence) ++s.outliers_low;
    if (v > high_fence) ++s.outliers_high;
  }
  return s;
}

}  // namespace benchsuite
