// NvmlMonitor: the DeviceMonitor calls answered by the dlopen'ed NVML.
#include "harness/probes/nvml_monitor.h"

#include "harness/probes/nvml.h"

namespace benchsuite {

NvmlMonitor::NvmlMonitor(int cuda_index) { handle_ = nvml::device_handle(cuda_index, &reason_); }
std::optional<double> NvmlMonitor::energy_joules() { return nvml::total_energy_joules(handle_); }
std::optional<double> NvmlMonitor::power_watts() { return nvml::power_watts(handle_); }
std::optional<double> NvmlMonitor::max_sm_clock_mhz() { return nvml::max_sm_clock_mhz(handle_); }
std::string NvmlMonitor::counter_reason() {
  if (!handle_) return reason_;
  std::string why;
  return nvml::total_energy_joules(handle_, &why) ? std::string() : why;
}
ClockSample NvmlMonitor::sample_clocks() {
  const nvml::Clocks c = nvml::clocks(handle_);
  ClockSample s;
  s.sm_mhz = c.sm_mhz;
  s.mem_mhz = c.mem_mhz;
  s.temperature_c = c.temperature_c;
  s.power_w = c.power_w;
  s.reasons = c.reasons;
  return s;
}

}  // namespace benchsuite
