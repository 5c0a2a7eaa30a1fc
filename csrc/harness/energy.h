// Energy, clocks and throttling. A DeviceMonitor reads a device's energy counter, power and
// clocks (NVML for a GPU, RAPL through powercap for the CPU, or a fake in tests); a
// WorkRunner keeps the measured code running; measure_energy_window() runs the code over a
// window spanning enough counter updates and turns the readings into joules per iteration.
// Time, source and runner are all injectable, so the window logic is tested without hardware.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/cuda_runtime.h"
#include "common/dtype.h"
#include "harness/measure.h"

namespace benchsuite {

// Seconds on steady_clock (the time base of every timestamp here).
double steady_seconds();

struct ClockSample {
  double t = 0;  // seconds, same base as the window's clock
  std::optional<double> sm_mhz, mem_mhz, temperature_c, power_w;
  std::optional<uint64_t> reasons;  // NVML clock event reason bits
};

class DeviceMonitor {
 public:
  virtual ~DeviceMonitor() = default;
  virtual std::string kind() const = 0;  // nvml | rapl | fake ...
  // Monotonic total energy in joules; nullopt when the device has no counter.
  virtual std::optional<double> energy_joules() = 0;
  // Power draw now (W); nullopt when not readable.
  virtual std::optional<double> power_watts() = 0;
  // SM/memory clocks, temperature, power and reasons (t is filled by the caller).
  virtual ClockSample sample_clocks() { return {}; }
  virtual std::optional<double> max_sm_clock_mhz() { return std::nullopt; }
  // Why the counter is missing (empty when it is there).
  virtual std::string counter_reason() { return {}; }
};

class WorkRunner {
 public:
  virtual ~WorkRunner() = default;
  // Starts `iterations` runs: a GPU runner queues them, a CPU runner runs them.
  virtual void launch(int64_t iterations) = 0;
  // Iterations finished so far.
  virtual int64_t completed() = 0;
  // Idles about `seconds` while queued work runs (a fake advances its clock).
  virtual void wait(double seconds) = 0;
};

struct EnergyWindowSettings {
  int64_t min_counter_updates = 10;  // the window spans at least this many counter changes
  double min_window_s = 1.0;
  double max_window_s = 30.0;        // stop here even with too few updates (reported)
  double warmup_s = 1.0;             // run before the window: clocks, power and averages settle
  double batch_s = 0.01;             // iterations per launch ~ this long
  double poll_s = 0.0005;            // counter polling interval
  double sample_s = 0.01;            // power / clock sampling interval
  void validate() const;
};

struct EnergyWindowResult {
  std::string source = "unavailable";  // nvml_counter | sampled_power | rapl | unavailable
  std::string reason;                  // why unavailable, or a caveat; empty when none
  std::optional<double> joules_per_iter, mean_power_w, window_s;
  std::optional<int64_t> repetitions, counter_updates;
  std::optional<double> counter_joules;          // counter difference over the window
  std::optional<double> sampled_joules_per_iter;  // trapezoid of sampled power over the window
  std::optional<double> sampled_mean_power_w;
  int64_t power_samples = 0;
  std::vector<ClockSample> clock_samples;
};

// The window: warm-up, then launches kept two batches deep while polling; the window runs
// from one observed batch completion to another once min_counter_updates and min_window_s
// are reached. Energy from the counter is (last - first change) / (their time gap) as mean
// power, times the window; this cancels the counter's update quantisation at both ends.
EnergyWindowResult measure_energy_window(WorkRunner& runner, DeviceMonitor& monitor,
                                         const std::function<double()>& now, const EnergyWindowSettings& settings,
                                         double seconds_per_iter);

// Trapezoid integral of (t, watts) over [t0, t1], holding the first/last value flat outside.
double integrate_power(const std::vector<std::pair<double, double>>& samples, double t0, double t1);

// ---- clocks and throttling -----------------------------------------------------------
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

// ---- monitors ----------------------------------------------------------------------------
class NvmlMonitor : public DeviceMonitor {
 public:
  explicit NvmlMonitor(int cuda_index);
  std::string kind() const override { return "nvml"; }
  bool ok() const { return handle_ != nullptr; }
  const std::string& reason() const { return reason_; }
  std::optional<double> energy_joules() override;
  std::optional<double> power_watts() override;
  ClockSample sample_clocks() override;
  std::optional<double> max_sm_clock_mhz() override;
  std::string counter_reason() override;
 private:
  void* handle_ = nullptr;
  std::string reason_;
};

// RAPL package zones under the powercap root ($BENCHSUITE_POWERCAP_ROOT, default
// /sys/class/powercap): the sum of top-level intel-rapl:N zones' energy_uj, with each
// zone's wraparound at max_energy_range_uj handled between reads.
class RaplMonitor : public DeviceMonitor {
 public:
  explicit RaplMonitor(std::string root = "");
  std::string kind() const override { return "rapl"; }
  bool ok() const { return reason_.empty(); }
  const std::string& reason() const { return reason_; }
  const std::vector<std::string>& zones() const { return zone_names_; }
  std::optional<double> energy_joules() override;
  std::optional<double> power_watts() override { return std::nullopt; }
  std::string counter_reason() override { return reason_; }
 private:
  struct Zone {
    std::string path, name;
    uint64_t max_range_uj = 0, last_uj = 0;
    double total_j = 0;
  };
  std::vector<Zone> zones_;
  std::vector<std::string> zone_names_;
  std::string reason_;
  std::mutex mutex_;
};

// ---- energy of a case / of a block of code ------------------------------------------------
EnergyWindowSettings energy_window_settings(const MeasureSettings& s);
EnergyWindowResult measure_energy_cpu(const std::function<void()>& fn, const MeasureSettings& settings,
                                      double seconds_per_iter);
EnergyWindowResult measure_energy_cuda(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings,
                                       int device, StreamHandle stream, double seconds_per_iter);
// measure_cuda with the GPU's clocks sampled on a thread and the throttle policy applied.
Measurement measure_cuda_with_clocks(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings,
                                     int device, StreamHandle stream, ClockSummary* clocks);
ClockSummary clocks_unavailable(const std::string& reason);

// Energy of whatever runs between start() and stop() (benchsuite.Profiler): the counter
// (or power, or RAPL) polled on a thread.
class EnergyMeter {
 public:
  explicit EnergyMeter(std::unique_ptr<DeviceMonitor> monitor, std::string unavailable_reason = "");
  ~EnergyMeter();
  void start();
  EnergyWindowResult stop();
 private:
  std::unique_ptr<DeviceMonitor> monitor_;
  std::string unavailable_;
  std::atomic<bool> running_{false};
  std::thread thread_;
  double t0_ = 0;
  std::optional<double> e0_;
  std::vector<std::pair<double, double>> changes_, power_;
};
std::unique_ptr<EnergyMeter> make_energy_meter(Device device);

// ---- host memory -------------------------------------------------------------------------
// Peak resident set (VmHWM) of this process in bytes; reset_host_peak_rss() restarts it
// from the current RSS where the kernel allows (/proc/self/clear_refs), returning whether it did.
int64_t host_peak_rss_bytes();
bool reset_host_peak_rss();

}  // namespace benchsuite
