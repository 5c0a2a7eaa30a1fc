// Clocks and throttling: GPU clocks sampled on a thread during the timing, and the policy
// that counts throttled samples, drops the timing samples they overlap and invalidates a
// result past a limit.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/cuda_runtime.h"
#include "harness/measure.h"
#include "harness/probes/device_monitor.h"

namespace benchsuite {

struct ThrottlePolicy {
  double clock_fraction = 0.8;          // a sample below this x max SM clock is throttled
  double max_throttled_fraction = 0.1;  // more throttled samples than this: invalid
  bool discard = true;                  // drop timing samples that overlap a throttled one
};

struct ClockSummary {
  bool available = false;
  std::string reason;  // why not available
  std::optional<double> mean_sm_clock_mhz, max_sm_clock_mhz, mean_mem_clock_mhz, mean_temperature_c, mean_power_w;
  int64_t samples = 0, throttled_samples = 0, idle_samples = 0, discarded_timing_samples = 0;
  std::vector<std::string> throttle_reasons;
};
ClockSummary clocks_unavailable(const std::string& reason);

// Counts throttled clock samples (idle-only samples aside), discards the timing samples
// they overlap when the policy says so (recomputing stats), and adds an invalid reason
// past the limit. m.sample_start_times / sample_end_times give each timing sample's span.
ClockSummary apply_throttle_policy(Measurement& m, const std::vector<ClockSample>& clocks,
                                   std::optional<double> max_sm_clock_mhz, const ThrottlePolicy& policy);

// Samples a monitor's clocks on a background thread (NVML is thread-safe).
class ClockSampler {
 public:
  ClockSampler(DeviceMonitor& monitor, double interval_s);
  ~ClockSampler();
  void start();
  std::vector<ClockSample> stop();
 private:
  DeviceMonitor& monitor_;
  double interval_;
  std::atomic<bool> running_{false};
  std::thread thread_;
  std::vector<ClockSample> samples_;
};

// measure_cuda with the GPU's clocks sampled on a thread and the throttle policy applied.
Measurement measure_cuda_with_clocks(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings,
                                     int device, StreamHandle stream, ClockSummary* clocks);

}  // namespace benchsuite
