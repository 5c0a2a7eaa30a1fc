// NVML, loaded at run time with dlopen: no header, no link-time dependency, so the module
// imports where libnvidia-ml is missing. Every query returns nullopt (and the library a
// reason) when the library, the driver, the device or the query is unavailable.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace benchsuite::nvml {

// nvmlClocksEventReasons bits (nvml.h), named as results report them.
constexpr uint64_t kReasonGpuIdle = 0x1;
const char* reason_name(uint64_t bit);

// Whether NVML loaded and initialised; `reason` says why not. The library named by
// $BENCHSUITE_NVML_LIBRARY (default libnvidia-ml.so.1) is tried once per process.
bool available();
std::string unavailable_reason();
std::optional<std::string> driver_version();

// A device handle for a CUDA device index (matched through its PCI bus id, since CUDA
// and NVML may order devices differently), or nullptr with `why` filled.
void* device_handle(int cuda_index, std::string* why);

struct DeviceState {
  std::optional<double> power_limit_w, power_w, temperature_c;
  std::optional<double> sm_clock_mhz, mem_clock_mhz, max_sm_clock_mhz, default_sm_clock_mhz;
  std::optional<uint64_t> clock_event_reasons;
  std::optional<bool> ecc_enabled, persistence_mode, mig_enabled;
  std::optional<int64_t> other_compute_processes;  // compute processes on the GPU besides this one
  std::optional<bool> has_energy_counter;
};
DeviceState device_state(void* handle);

// Total energy since the driver loaded, joules (nvmlDeviceGetTotalEnergyConsumption, mJ).
std::optional<double> total_energy_joules(void* handle, std::string* why = nullptr);
std::optional<double> power_watts(void* handle);
// One clock sample: SM and memory clocks, temperature, power and event reasons.
struct Clocks {
  std::optional<double> sm_mhz, mem_mhz, temperature_c, power_w;
  std::optional<uint64_t> reasons;
};
Clocks clocks(void* handle);
std::optional<double> max_sm_clock_mhz(void* handle);

}  // namespace benchsuite::nvml
