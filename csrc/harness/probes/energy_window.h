// The energy window: measure_energy_window() runs the code over a window spanning enough
// counter updates and turns the readings into joules per iteration.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/probes/device_monitor.h"

namespace benchsuite {

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

namespace detail {
// The result of a trace over [t0, t1] holding `reps` iterations: energy from the counter's
// (t, joules) changes when the device has one (source counter_source, a reason when it
// changed fewer than min_updates times), else from the (t, watts) power samples. Shared by
// the window and the Profiler's meter.
void fill_energy(EnergyWindowResult& r, const std::vector<std::pair<double, double>>& changes,
                 const std::vector<std::pair<double, double>>& power, std::optional<double> e0,
                 std::optional<double> e1, double t0, double t1, int64_t reps, bool has_counter,
                 const std::string& counter_source, int64_t min_updates, const std::string& counter_reason);
}  // namespace detail

}  // namespace benchsuite
