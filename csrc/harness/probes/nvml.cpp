// The dlopen'ed NVML: the few entry points the harness needs, declared here with the
// types of nvml.h (stable C ABI), resolved once and never unloaded.
#include "harness/probes/nvml.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/cuda_runtime.h"

namespace benchsuite::nvml {

namespace {

using Return = int;  // nvmlReturn_t
using Device = void*;  // nvmlDevice_t
constexpr Return kSuccess = 0, kInsufficientSize = 7;
constexpr unsigned kClockSm = 1, kClockMem = 2, kTemperatureGpu = 0;

struct ProcessInfo {  // nvmlProcessInfo_t (v2/v3 layout)
  unsigned int pid;
  unsigned long long used_gpu_memory;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

struct Api {
  bool ok = false;
  std::string reason;
  void* library = nullptr;
  Return (*init)() = nullptr;
  const char* (*error_string)(Return) = nullptr;
  Return (*get_handle_by_index)(unsigned, Device*) = nullptr;
  Return (*get_handle_by_pci)(const char*, Device*) = nullptr;
  Return (*total_energy)(Device, unsigned long long*) = nullptr;
  Return (*power_usage)(Device, unsigned*) = nullptr;
  Return (*clock_info)(Device, unsigned, unsigned*) = nullptr;
  Return (*max_clock_info)(Device, unsigned, unsigned*) = nullptr;
  Return (*default_app_clock)(Device, unsigned, unsigned*) = nullptr;
  Return (*temperature)(Device, unsigned, unsigned*) = nullptr;
  Return (*event_reasons)(Device, unsigned long long*) = nullptr;
  Return (*power_limit)(Device, unsigned*) = nullptr;
  Return (*ecc_mode)(Device, int*, int*) = nullptr;
  Return (*mig_mode)(Device, unsigned*, unsigned*) = nullptr;
  Return (*persistence_mode)(Device, int*) = nullptr;
  Return (*compute_processes)(Device, unsigned*, ProcessInfo*) = nullptr;
  Return (*driver_version)(char*, unsigned) = nullptr;

  std::string error(Return r) const {
    return error_string ? std::string(error_string(r)) : "NVML error " + std::to_string(r);
  }
};

template <class F>
void resolve(void* lib, F& fn, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (void* sym = dlsym(lib, name)) {
      fn = reinterpret_cast<F>(sym);
      return;
    }
  }
}

const Api& api() {
  static Api a;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("BENCHSUITE_NVML_LIBRARY");
    const std::string name = env && *env ? env : "libnvidia-ml.so.1";
    a.library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!a.library) {
      const char* err = dlerror();
      a.reason = "NVML library not found (" + (err ? std::string(err) : name) + ")";
      return;
    }
    void* lib = a.library;
    resolve(lib, a.init, {"nvmlInit_v2", "nvmlInit"});
    resolve(lib, a.error_string, {"nvmlErrorString"});
    resolve(lib, a.get_handle_by_index, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
    resolve(lib, a.get_handle_by_pci, {"nvmlDeviceGetHandleByPciBusId_v2", "nvmlDeviceGetHandleByPciBusId"});
    resolve(lib, a.total_energy, {"nvmlDeviceGetTotalEnergyConsumption"});
    resolve(lib, a.power_usage, {"nvmlDeviceGetPowerUsage"});
    resolve(lib, a.clock_info, {"nvmlDeviceGetClockInfo"});
    resolve(lib, a.max_clock_info, {"nvmlDeviceGetMaxClockInfo"});
    resolve(lib, a.default_app_clock, {"nvmlDeviceGetDefaultApplicationsClock"});
    resolve(lib, a.temperature, {"nvmlDeviceGetTemperature"});
    resolve(lib, a.event_reasons,
            {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"});
    resolve(lib, a.power_limit, {"nvmlDeviceGetEnforcedPowerLimit"});
    resolve(lib, a.ecc_mode, {"nvmlDeviceGetEccMode"});
    resolve(lib, a.mig_mode, {"nvmlDeviceGetMigMode"});
    resolve(lib, a.persistence_mode, {"nvmlDeviceGetPersistenceMode"});
    resolve(lib, a.compute_processes,
            {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"});
    resolve(lib, a.driver_version, {"nvmlSystemGetDriverVersion"});
    if (!a.init || !a.get_handle_by_index) {
      a.reason = "NVML library " + name + " lacks nvmlInit/nvmlDeviceGetHandleByIndex";
      return;
    }
    const Return r = a.init();
    if (r != kSuccess) {
      a.reason = "NVML initialisation failed (" + a.error(r) + "): no NVIDIA driver loaded?";
      return;
    }
    a.ok = true;
  });
  return a;
}

template <class T>
std::optional<double> query_uint(Return (*fn)(Device, T*), Device d, double scale) {
  if (!fn) return std::nullopt;
  T value{};
  if (fn(d, &value) != kSuccess) return std::nullopt;
  return static_cast<double>(value) * scale;
}

std::optional<double> clock_of(Return (*fn)(Device, unsigned, unsigned*), Device d, unsigned type) {
  if (!fn) return std::nullopt;
  unsigned value = 0;
  if (fn(d, type, &value) != kSuccess) return std::nullopt;
  return static_cast<double>(value);
}

}  // namespace

const char* reason_name(uint64_t bit) {
  switch (bit) {
    case 0x1: return "gpu_idle";
    case 0x2: return "applications_clocks_setting";
    case 0x4: return "sw_power_cap";
    case 0x8: return "hw_slowdown";
    case 0x10: return "sync_boost";
    case 0x20: return "sw_thermal_slowdown";
    case 0x40: return "hw_thermal_slowdown";
    case 0x80: return "hw_power_brake_slowdown";
    case 0x100: return "display_clock_setting";
    default: return "other";
  }
}

bool available() { return api().ok; }
std::string unavailable_reason() { return api().ok ? std::string() : api().reason; }

std::optional<std::string> driver_version() {
  const Api& a = api();
  if (!a.ok || !a.driver_version) return std::nullopt;
  char text[96] = {0};
  if (a.driver_version(text, sizeof(text)) != kSuccess) return std::nullopt;
  return std::string(text);
}

void* device_handle(int cuda_index, std::string* why) {
  const Api& a = api();
  if (!a.ok) {
    if (why) *why = a.reason;
    return nullptr;
  }
  Device d = nullptr;
  if (a.get_handle_by_pci && cuda_status().available) {
    try {
      const std::string bus = cuda_device_info(cuda_index).pci_bus_id;
      if (!bus.empty() && a.get_handle_by_pci(bus.c_str(), &d) == kSuccess) return d;
    } catch (...) {  // fall back to the index
    }
  }
  const Return r = a.get_handle_by_index(static_cast<unsigned>(cuda_index), &d);
  if (r != kSuccess) {
    if (why) *why = "NVML has no device " + std::to_string(cuda_index) + " (" + a.error(r) + ")";
    return nullptr;
  }
  return d;
}

std::optional<double> total_energy_joules(void* handle, std::string* why) {
  const Api& a = api();
  if (!a.ok || !handle) {
    if (why) *why = a.ok ? "no NVML device" : a.reason;
    return std::nullopt;
  }
  if (!a.total_energy) {
    if (why) *why = "this NVML has no nvmlDeviceGetTotalEnergyConsumption";
    return std::nullopt;
  }
  unsigned long long mj = 0;
  const Return r = a.total_energy(static_cast<Device>(handle), &mj);
  if (r != kSuccess) {
    if (why) *why = "the GPU has no total-energy counter (nvmlDeviceGetTotalEnergyConsumption: " + a.error(r) + ")";
    return std::nullopt;
  }
  return static_cast<double>(mj) * 1e-3;
}

std::optional<double> power_watts(void* handle) {
  const Api& a = api();
  if (!a.ok || !handle) return std::nullopt;
  return query_uint<unsigned>(a.power_usage, static_cast<Device>(handle), 1e-3);
}

std::optional<double> max_sm_clock_mhz(void* handle) {
  const Api& a = api();
  if (!a.ok || !handle) return std::nullopt;
  return clock_of(a.max_clock_info, static_cast<Device>(handle), kClockSm);
}

Clocks clocks(void* handle) {
  Clocks c;
  const Api& a = api();
  if (!a.ok || !handle) return c;
  Device d = static_cast<Device>(handle);
  c.sm_mhz = clock_of(a.clock_info, d, kClockSm);
  c.mem_mhz = clock_of(a.clock_info, d, kClockMem);
  if (a.temperature) {
    unsigned t = 0;
    if (a.temperature(d, kTemperatureGpu, &t) == kSuccess) c.temperature_c = t;
  }
  c.power_w = query_uint<unsigned>(a.power_usage, d, 1e-3);
  if (a.event_reasons) {
    unsigned long long reasons = 0;
    if (a.event_reasons(d, &reasons) == kSuccess) c.reasons = reasons;
  }
  return c;
}

DeviceState device_state(void* handle) {
  DeviceState s;
  const Api& a = api();
  if (!a.ok || !handle) return s;
  Device d = static_cast<Device>(handle);
  s.power_limit_w = query_uint<unsigned>(a.power_limit, d, 1e-3);
  const Clocks c = clocks(handle);
  s.power_w = c.power_w;
  s.temperature_c = c.temperature_c;
  s.sm_clock_mhz = c.sm_mhz;
  s.mem_clock_mhz = c.mem_mhz;
  s.clock_event_reasons = c.reasons;
  s.max_sm_clock_mhz = clock_of(a.max_clock_info, d, kClockSm);
  s.default_sm_clock_mhz = clock_of(a.default_app_clock, d, kClockSm);
  if (a.ecc_mode) {
    int current = 0, pending = 0;
    if (a.ecc_mode(d, &current, &pending) == kSuccess) s.ecc_enabled = current != 0;
  }
  if (a.persistence_mode) {
    int mode = 0;
    if (a.persistence_mode(d, &mode) == kSuccess) s.persistence_mode = mode != 0;
  }
  if (a.mig_mode) {
    unsigned current = 0, pending = 0;
    if (a.mig_mode(d, &current, &pending) == kSuccess) s.mig_enabled = current != 0;
  }
  if (a.compute_processes) {
    std::vector<ProcessInfo> infos(64);
    unsigned count = static_cast<unsigned>(infos.size());
    const Return r = a.compute_processes(d, &count, infos.data());
    if (r == kSuccess) {
      const unsigned self = static_cast<unsigned>(getpid());
      int64_t others = 0;
      for (unsigned i = 0; i < count && i < infos.size(); ++i) others += infos[i].pid != self;
      s.other_compute_processes = others;
    } else if (r == kInsufficientSize) {
      s.other_compute_processes = static_cast<int64_t>(count);  // more than 64: surely others
    }
  }
  unsigned long long mj = 0;
  if (a.total_energy) s.has_energy_counter = a.total_energy(d, &mj) == kSuccess;
  return s;
}

}  // namespace benchsuite::nvml
