// Energy of whatever runs between start() and stop() (benchsuite.Profiler): the counter
// (or power, or RAPL) polled on a thread.
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "harness/probes/energy_window.h"

namespace benchsuite {

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
// NVML for a CUDA device, RAPL for the CPU; a meter that reports why when neither reads.
std::unique_ptr<EnergyMeter> make_energy_meter(Device device);

}  // namespace benchsuite
