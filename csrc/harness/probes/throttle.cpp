// The throttle policy, the clock sampler and the clock-sampled CUDA measurement.
#include "harness/probes/throttle.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "harness/probes/nvml.h"
#include "harness/probes/nvml_monitor.h"
#include "harness/statistics.h"

namespace benchsuite {

ClockSummary clocks_unavailable(const std::string& reason) {
  ClockSummary c;
  c.reason = reason;
  return c;
}

ClockSummary apply_throttle_policy(Measurement& m, const std::vector<ClockSample>& clocks,
                                   std::optional<double> max_sm_clock_mhz, const ThrottlePolicy& policy) {
  ClockSummary out;
  out.available = true;
  out.max_sm_clock_mhz = max_sm_clock_mhz;
  if (!max_sm_clock_mhz) {
    for (const ClockSample& c : clocks)
      if (c.sm_mhz) out.max_sm_clock_mhz = std::max(out.max_sm_clock_mhz.value_or(0.0), *c.sm_mhz);
  }
  const double threshold = out.max_sm_clock_mhz ? policy.clock_fraction * *out.max_sm_clock_mhz : 0.0;
  double sum_sm = 0, sum_mem = 0, sum_temp = 0, sum_power = 0;
  int64_t n_sm = 0, n_mem = 0, n_temp = 0, n_power = 0;
  uint64_t seen_reasons = 0;
  std::vector<double> throttled_times;
  for (const ClockSample& c : clocks) {
    if (!c.sm_mhz) continue;
    ++out.samples;
    // Idle-only samples fall between launches (clocks drop while nothing runs): they say
    // nothing about throttling and stay out of the means.
    if (c.reasons && *c.reasons == nvml::kReasonGpuIdle) {
      ++out.idle_samples;
      continue;
    }
    if (c.reasons) seen_reasons |= *c.reasons & ~nvml::kReasonGpuIdle;
    const bool throttled = out.max_sm_clock_mhz && *c.sm_mhz < threshold;
    if (throttled) {
      ++out.throttled_samples;
      throttled_times.push_back(c.t);
      if (policy.discard) continue;
    }
    sum_sm += *c.sm_mhz, ++n_sm;
    if (c.mem_mhz) sum_mem += *c.mem_mhz, ++n_mem;
    if (c.temperature_c) sum_temp += *c.temperature_c, ++n_temp;
    if (c.power_w) sum_power += *c.power_w, ++n_power;
  }
  if (n_sm) out.mean_sm_clock_mhz = sum_sm / n_sm;
  if (n_mem) out.mean_mem_clock_mhz = sum_mem / n_mem;
  if (n_temp) out.mean_temperature_c = sum_temp / n_temp;
  if (n_power) out.mean_power_w = sum_power / n_power;
  for (uint64_t bit = 1; bit <= 0x100; bit <<= 1)
    if (seen_reasons & bit) out.throttle_reasons.push_back(nvml::reason_name(bit));
  if (seen_reasons & ~uint64_t{0x1FF}) out.throttle_reasons.push_back("other");

  const bool spans = m.sample_start_times.size() == m.samples.size() && m.sample_end_times.size() == m.samples.size();
  if (policy.discard && !throttled_times.empty() && spans) {
    std::vector<double> kept, kept_start, kept_end;
    for (size_t i = 0; i < m.samples.size(); ++i) {
      const double a = m.sample_start_times[i], b = m.sample_end_times[i];
      const bool hit = std::any_of(throttled_times.begin(), throttled_times.end(),
                                   [&](double t) { return t >= a && t <= b; });
      if (hit) {
        ++out.discarded_timing_samples;
        continue;
      }
      kept.push_back(m.samples[i]);
      kept_start.push_back(a);
      kept_end.push_back(b);
    }
    if (out.discarded_timing_samples > 0 && !kept.empty()) {
      m.samples = std::move(kept);
      m.sample_start_times = std::move(kept_start);
      m.sample_end_times = std::move(kept_end);
      m.stats = compute_stats(m.samples);
      m.has_stats = true;
    }
  }
  const int64_t active = out.samples - out.idle_samples;
  if (active > 0 && static_cast<double>(out.throttled_samples) > policy.max_throttled_fraction * active) {
    char text[200];
    std::snprintf(text, sizeof(text),
                  "throttled: %lld of %lld clock samples below %.2g x max SM clock %.0f MHz (limit %.3g%%)",
                  static_cast<long long>(out.throttled_samples), static_cast<long long>(active), policy.clock_fraction,
                  out.max_sm_clock_mhz.value_or(0.0), policy.max_throttled_fraction * 100);
    m.invalid_reasons.push_back(text);
  }
  return out;
}

ClockSampler::ClockSampler(DeviceMonitor& monitor, double interval_s) : monitor_(monitor), interval_(interval_s) {}
ClockSampler::~ClockSampler() {
  if (running_) stop();
}
void ClockSampler::start() {
  running_ = true;
  thread_ = std::thread([this] {
    while (running_) {
      ClockSample c = monitor_.sample_clocks();
      c.t = steady_seconds();
      samples_.push_back(c);
      std::this_thread::sleep_for(std::chrono::duration<double>(interval_));
    }
  });
}
std::vector<ClockSample> ClockSampler::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  return std::move(samples_);
}

Measurement measure_cuda_with_clocks(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings,
                                     int device, StreamHandle stream, ClockSummary* clocks) {
  NvmlMonitor monitor(device);
  if (!monitor.ok()) {
    if (clocks) *clocks = clocks_unavailable(monitor.reason());
    return measure_cuda(fn, settings, device, stream);
  }
  ClockSampler sampler(monitor, 0.01);
  sampler.start();
  Measurement m;
  try {
    m = measure_cuda(fn, settings, device, stream);
  } catch (...) {
    sampler.stop();
    throw;
  }
  std::vector<ClockSample> samples = sampler.stop();
  ThrottlePolicy policy;
  policy.clock_fraction = settings.throttle_clock_fraction;
  policy.max_throttled_fraction = settings.max_throttled_fraction;
  policy.discard = settings.throttle_policy == "discard" && !settings.smoke;
  // Samples from before the first / after the last timing sample are warm-up and teardown.
  if (!m.sample_start_times.empty()) {
    const double a = m.sample_start_times.front(), b = m.sample_end_times.back();
    auto outside = [&](const ClockSample& c) { return c.t < a || c.t > b; };
    samples.erase(std::remove_if(samples.begin(), samples.end(), outside), samples.end());
  }
  ClockSummary summary = apply_throttle_policy(m, samples, monitor.max_sm_clock_mhz(), policy);
  if (settings.smoke) m.invalid_reasons.clear();  // a smoke sample claims nothing
  if (clocks) *clocks = summary;
  return m;
}

}  // namespace benchsuite
