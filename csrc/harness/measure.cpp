// Host timing loop, the shared stop rule and the validity rules.
#include "harness/measure.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "harness/interrupt.h"

namespace benchsuite {

using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double steady_seconds() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

double steady_clock_resolution() {
  static const double resolution = [] {
    double best = 1.0;
    for (int i = 0; i < 200; ++i) {
      const auto t0 = Clock::now();
      auto t1 = Clock::now();
      while (t1 == t0) t1 = Clock::now();
      best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    }
    return best;
  }();
  return resolution;
}

namespace detail {

StopRule::StopRule(const MeasureSettings& settings) : settings_(settings) {}

bool StopRule::should_stop(const std::vector<double>& samples, double sampled_time, double elapsed) {
  const int64_t n = static_cast<int64_t>(samples.size());
  if (interrupt_requested()) return reason_ = "interrupted", true;
  if (settings_.smoke && n >= 1) return reason_ = "smoke", true;
  if (n >= settings_.max_samples) return reason_ = "max_samples", true;
  if (n >= settings_.min_samples && sampled_time >= settings_.min_time) {
    if (!settings_.max_noise) return reason_ = "min_samples_and_time", true;
    // Sorting on every sample would cost O(n^2 log n) over a long run: check at ~5% steps.
    if (samples.size() >= next_noise_check_) {
      next_noise_check_ = samples.size() + std::max<size_t>(1, samples.size() / 20);
      if (median_noise(samples) <= *settings_.max_noise) return reason_ = "noise_converged", true;
    }
  }
  if (elapsed >= settings_.timeout) return reason_ = "timeout", true;
  return false;
}

void finish_measurement(Measurement& m, const MeasureSettings& settings) {
  const int64_t n = static_cast<int64_t>(m.samples.size());
  if (n > 0) {
    m.stats = compute_stats(m.samples);
    m.has_stats = true;
  }
  if (settings.smoke) return;  // a smoke sample exercises the case; it claims no precision
  if (n < settings.min_samples) {
    m.invalid_reasons.push_back("too_few_samples: " + std::to_string(n) + " < min_samples " +
                                std::to_string(settings.min_samples));
    if (m.stop_reason == "timeout")
      m.invalid_reasons.push_back("timeout_before_min_samples: timeout " + std::to_string(settings.timeout) +
                                  " s reached after " + std::to_string(n) + " samples");
  }
  if (settings.max_noise && m.has_stats && m.stats.noise > *settings.max_noise) {
    char text[128];
    std::snprintf(text, sizeof(text), "noise_above_limit: %.4g > %.4g", m.stats.noise, *settings.max_noise);
    m.invalid_reasons.push_back(text);
  }
  if (!settings.keep_samples) {
    m.samples.clear();
    m.sample_start_times.clear();
    m.sample_end_times.clear();
  }
}

}  // namespace detail

Measurement measure_cpu(const std::function<void()>& fn, const MeasureSettings& settings) {
  settings.validate();
  Measurement m;
  m.mode = "cpu";
  m.timer = "steady_clock";
  m.timer_resolution = steady_clock_resolution();
  const auto start = Clock::now();

  for (int64_t i = 0; i < settings.warmup && seconds_since(start) < settings.timeout && !interrupt_requested(); ++i) {
    fn();
    ++m.warmup_runs;
  }
  // Calibrate: double the loop count until one sample lasts min_sample_time and far
  // above the clock's resolution; the calibration runs double as extra warm-up.
  int64_t loops = 1;
  if (!settings.smoke) {
    const double target = std::max(settings.min_sample_time, 1000.0 * m.timer_resolution);
    while (loops < (int64_t{1} << 30) && seconds_since(start) < settings.timeout && !interrupt_requested()) {
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < loops; ++i) fn();
      const double elapsed = seconds_since(t0);
      if (elapsed >= target) break;
      const double per_call = std::max(elapsed / static_cast<double>(loops), 1e-9);
      loops = std::max(loops * 2, std::min<int64_t>(static_cast<int64_t>(std::ceil(target / per_call * 1.2)),
                                                    loops * 64));
    }
  }
  m.loops_per_sample = loops;

  detail::StopRule rule(settings);
  for (;;) {
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < loops; ++i) fn();
    const double elapsed = seconds_since(t0);
    m.samples.push_back(elapsed / static_cast<double>(loops));
    m.sampled_time += elapsed;
    if (rule.should_stop(m.samples, m.sampled_time, seconds_since(start))) break;
  }
  m.stop_reason = rule.reason();
  m.total_time = seconds_since(start);
  detail::finish_measurement(m, settings);
  return m;
}

}  // namespace benchsuite
