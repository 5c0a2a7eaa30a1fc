// The measurement loop: warm-up, samples, stop rule and validity, for host code timed
// with steady_clock and device code timed with CUDA events in cold/hot/graph modes.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/cuda_runtime.h"
#include "harness/statistics.h"

namespace benchsuite {

struct MeasureSettings {
  std::string mode = "hot";            // GPU: cold | hot | graph (CPU always "cpu")
  int64_t warmup = 3;                  // warm-up runs before sampling
  int64_t min_samples = 10;
  int64_t max_samples = 1000;
  double min_time = 0.5;               // seconds of sampled time before the noise rule may stop
  std::optional<double> max_noise = 0.02;  // relative half-width of the median CI; nullopt = off
  double timeout = 30.0;               // seconds for the whole case, warm-up included
  int64_t launches_per_sample = 10;    // k in hot / graph mode
  double min_sample_time = 1e-4;       // CPU: loops per sample are calibrated to last this long
  bool keep_samples = true;
  bool smoke = false;                  // one short sample: exercises the case, measures nothing
  // Energy (a window of repeated runs after the timing; costs time, so off by default).
  bool energy = false;
  int64_t energy_min_updates = 10;     // counter updates the window must span
  double energy_min_window = 1.0;      // seconds
  double energy_max_window = 30.0;     // seconds
  double energy_warmup = 1.0;          // seconds of running before the window opens
  // Throttling (GPU clocks sampled through NVML during the timing).
  double throttle_clock_fraction = 0.8;  // below this x max SM clock a clock sample is throttled
  double max_throttled_fraction = 0.1;   // more throttled clock samples than this: invalid
  std::string throttle_policy = "discard";  // discard | keep the timing samples they overlap
  // Throws invalid_argument naming the field and its value (NaN, negative, ...).
  void validate() const;
};

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
