// What the probes read and drive. A DeviceMonitor reads a device's energy counter, power
// and clocks (NVML for a GPU, RAPL through powercap for the CPU, or a fake in tests); a
// WorkRunner keeps the measured code running. Both are injectable, so the energy window
// and the throttle policy are tested without hardware.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace benchsuite {

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

}  // namespace benchsuite
