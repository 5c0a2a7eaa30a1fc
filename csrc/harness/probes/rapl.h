// The CPU's package energy through RAPL (Linux powercap) as a DeviceMonitor.
#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/probes/device_monitor.h"

namespace benchsuite {

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

}  // namespace benchsuite
