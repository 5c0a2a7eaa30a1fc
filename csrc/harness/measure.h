// The measurement loop: warm-up, samples, stop rule and validity, for host code timed
// with steady_clock and device code timed with CUDA events in cold/hot/graph modes.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "harness/settings.h"
#include "harness/statistics.h"

namespace benchsuite {

struct Measurement {
  std::vector<double> samples;  // seconds per iteration (one call of the measured function)
  Stats stats;
  bool has_stats = false;
  std::string mode;             // cpu | cold | hot | graph
  std::string timer;            // steady_clock | cuda_event
  double timer_resolution = 0;  // seconds
  int64_t warmup_runs = 0;
  int64_t loops_per_sample = 1;     // CPU calls per timed sample
  int64_t launches_per_sample = 1;  // GPU launches per timed sample
  std::string stop_reason;      // noise_converged | min_samples_and_time | max_samples | timeout | smoke
  double sampled_time = 0;      // seconds covered by the samples
  double total_time = 0;        // wall seconds for the whole measurement
  std::vector<std::string> invalid_reasons;  // empty when valid
  double l2_flush_bytes = 0;    // cold mode: bytes written to evict L2 before each sample
  // steady_seconds() at the start and end of each sample (throttle policy); cleared with
  // the samples when keep_samples is off.
  std::vector<double> sample_start_times, sample_end_times;
};

// Seconds on steady_clock: the time base of every timestamp in the harness (sample spans,
// clock samples, energy traces).
double steady_seconds();
double steady_clock_resolution();

// Times fn() on the host; samples are per call (a sample runs fn loops_per_sample times).
Measurement measure_cpu(const std::function<void()>& fn, const MeasureSettings& settings);

// Times fn(stream) on `device` with CUDA events recorded on `stream` (null = a stream the
// harness creates). Graph mode captures launches_per_sample calls into a CUDA graph.
Measurement measure_cuda(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings, int device,
                         StreamHandle stream = nullptr);

namespace detail {
// Shared by the CPU and CUDA loops: when to stop, and whether the result is valid.
class StopRule {
 public:
  explicit StopRule(const MeasureSettings& settings);
  // Call after each sample with the wall seconds elapsed since the case began.
  bool should_stop(const std::vector<double>& samples, double sampled_time, double elapsed);
  const std::string& reason() const { return reason_; }
 private:
  const MeasureSettings& settings_;
  std::string reason_;
  size_t next_noise_check_ = 0;
};
void finish_measurement(Measurement& m, const MeasureSettings& settings);
}  // namespace detail

}  // namespace benchsuite
