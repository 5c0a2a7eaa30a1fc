// A GPU's energy counter, power and clocks through NVML (probes/nvml.h) as a DeviceMonitor.
#pragma once
#include <optional>
#include <string>

#include "harness/probes/device_monitor.h"

namespace benchsuite {

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

}  // namespace benchsuite
