// EnergyMeter: the Profiler's energy of a block, polled on a thread.
#include "harness/probes/profiler_meter.h"

#include <chrono>

#include "core/error.h"
#include "harness/measure.h"
#include "harness/probes/nvml_monitor.h"
#include "harness/probes/rapl.h"

namespace benchsuite {

EnergyMeter::EnergyMeter(std::unique_ptr<DeviceMonitor> monitor, std::string unavailable_reason)
    : monitor_(std::move(monitor)), unavailable_(std::move(unavailable_reason)) {}
EnergyMeter::~EnergyMeter() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}
void EnergyMeter::start() {
  BENCHSUITE_CHECK_ARG(!running_, "EnergyMeter.start(): already running");
  changes_.clear();
  power_.clear();
  t0_ = steady_seconds();
  if (!monitor_) return;
  e0_ = monitor_->energy_joules();
  running_ = true;
  thread_ = std::thread([this] {
    std::optional<double> last = e0_;
    double next_power = 0;
    while (running_) {
      const double t = steady_seconds();
      if (last) {
        const std::optional<double> e = monitor_->energy_joules();
        if (e && *e != *last) changes_.emplace_back(t, *e), last = e;
      }
      if (t >= next_power) {
        next_power = t + 0.01;
        if (const std::optional<double> p = monitor_->power_watts()) power_.emplace_back(t, *p);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
}
EnergyWindowResult EnergyMeter::stop() {
  const double t1 = steady_seconds();
  running_ = false;
  if (thread_.joinable()) thread_.join();
  EnergyWindowResult r;
  if (!monitor_) {
    r.reason = unavailable_;
    return r;
  }
  const std::optional<double> e1 = monitor_->energy_joules();
  const bool has_counter = e0_.has_value() && e1.has_value();
  // One "iteration": the block. The window is the block itself, so with fewer than ten
  // counter updates the figure is coarse (said in the reason).
  detail::fill_energy(r, changes_, power_, e0_, e1, t0_, t1, 1, has_counter,
                      monitor_->kind() == "rapl" ? "rapl" : "nvml_counter", 10, monitor_->counter_reason());
  if (has_counter) {  // a block is not repeated: its counter difference is the energy
    r.joules_per_iter = *e1 - *e0_;
    r.mean_power_w = (t1 > t0_) ? std::optional<double>(*r.joules_per_iter / (t1 - t0_)) : std::nullopt;
  }
  return r;
}

std::unique_ptr<EnergyMeter> make_energy_meter(Device device) {
  if (device.is_cuda()) {
    auto monitor = std::make_unique<NvmlMonitor>(device.index);
    if (!monitor->ok()) return std::make_unique<EnergyMeter>(nullptr, monitor->reason());
    if (!monitor->energy_joules() && !monitor->power_watts())
      return std::make_unique<EnergyMeter>(nullptr, monitor->counter_reason());
    return std::make_unique<EnergyMeter>(std::move(monitor));
  }
  auto monitor = std::make_unique<RaplMonitor>();
  if (!monitor->ok()) return std::make_unique<EnergyMeter>(nullptr, monitor->reason());
  return std::make_unique<EnergyMeter>(std::move(monitor));
}

}  // namespace benchsuite
