// Summary statistics of timing samples, computed the way NumPy does (linear-interpolated
// percentiles, sample standard deviation) plus a distribution-free confidence interval
// of the median and Tukey outlier counts.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace benchsuite {

struct Stats {
  int64_t n = 0;
  double mean = 0, stddev = 0, cv = 0, min = 0, max = 0, median = 0;
  double p5 = 0, p95 = 0, p99 = 0, q1 = 0, q3 = 0, iqr = 0;
  double ci_low = 0, ci_high = 0, ci_level = 0.95;
  double noise = 0;  // (ci_high - ci_low) / 2 / median: relative half-width of the median's CI
  int64_t outliers_low = 0, outliers_high = 0;  // beyond q1 - 1.5 iqr / q3 + 1.5 iqr
};

// Throws invalid_argument for an empty sample set or a non-finite sample.
Stats compute_stats(const std::vector<double>& samples, double ci_level = 0.95);
// numpy.percentile(sorted, q) with the default 'linear' method; q in [0, 100].
double percentile_sorted(const std::vector<double>& sorted, double q);
// Order-statistic CI of the median: ranks n/2 -+ z*sqrt(n)/2 (normal approximation of
// Binomial(n, 1/2)), 1-based, clamped to [1, n]; returns the two sample values.
std::pair<double, double> median_ci_sorted(const std::vector<double>& sorted, double ci_level);
// Relative half-width of the median CI, for the stop rule.
double median_noise(std::vector<double> samples, double ci_level = 0.95);

}  // namespace benchsuite
