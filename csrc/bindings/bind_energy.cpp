// Energy, clocks and memory as Python sees them: the window with injectable runner,
// monitor and clock (tests pass fakes), the throttle policy, RAPL and NVML probes, the
// Profiler's meter, host peak RSS and the caching pool switch.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "bindings/py_dict.h"
#include "core/allocator.h"
#include "core/error.h"
#include "harness/energy.h"
#include "harness/probes/nvml.h"

namespace benchsuite::bindings {

namespace {

// DeviceMonitor::kind is pure; Python fakes that leave it out are "fake".
class MonitorBase : public DeviceMonitor {
 public:
  std::string kind() const override { return "fake"; }
  std::optional<double> energy_joules() override { return std::nullopt; }
  std::optional<double> power_watts() override { return std::nullopt; }
};
class PyMonitorBase : public MonitorBase {
 public:
  std::string kind() const override { PYBIND11_OVERRIDE(std::string, MonitorBase, kind, ); }
  std::optional<double> energy_joules() override {
    PYBIND11_OVERRIDE(std::optional<double>, MonitorBase, energy_joules, );
  }
  std::optional<double> power_watts() override { PYBIND11_OVERRIDE(std::optional<double>, MonitorBase, power_watts, ); }
  ClockSample sample_clocks() override { PYBIND11_OVERRIDE(ClockSample, MonitorBase, sample_clocks, ); }
  std::optional<double> max_sm_clock_mhz() override {
    PYBIND11_OVERRIDE(std::optional<double>, MonitorBase, max_sm_clock_mhz, );
  }
  std::string counter_reason() override { PYBIND11_OVERRIDE(std::string, MonitorBase, counter_reason, ); }
};

class PyWorkRunner : public WorkRunner {
 public:
  void launch(int64_t iterations) override { PYBIND11_OVERRIDE_PURE(void, WorkRunner, launch, iterations); }
  int64_t completed() override { PYBIND11_OVERRIDE_PURE(int64_t, WorkRunner, completed, ); }
  void wait(double seconds) override { PYBIND11_OVERRIDE_PURE(void, WorkRunner, wait, seconds); }
};

EnergyWindowSettings window_settings_from_dict(const py::dict& d) {
  EnergyWindowSettings s;
  for (auto item : d) {
    const std::string key = py::str(item.first);
    py::handle v = item.second;
    if (key == "min_counter_updates") s.min_counter_updates = v.cast<int64_t>();
    else if (key == "min_window_s") s.min_window_s = v.cast<double>();
    else if (key == "max_window_s") s.max_window_s = v.cast<double>();
    else if (key == "warmup_s") s.warmup_s = v.cast<double>();
    else if (key == "batch_s") s.batch_s = v.cast<double>();
    else if (key == "poll_s") s.poll_s = v.cast<double>();
    else if (key == "sample_s") s.sample_s = v.cast<double>();
    else BENCHSUITE_THROW_ARG("energy window settings.", key, ": unknown key (min_counter_updates, min_window_s, "
                              "max_window_s, warmup_s, batch_s, poll_s, sample_s)");
  }
  s.validate();
  return s;
}

py::dict clock_sample_dict(const ClockSample& c) {
  return make_dict("t", c.t, "sm_mhz", c.sm_mhz, "mem_mhz", c.mem_mhz, "temperature_c", c.temperature_c,
                   "power_w", c.power_w, "reasons", c.reasons);
}

}  // namespace

py::dict energy_dict(const EnergyWindowResult& r) {
  return make_dict("source", r.source, "reason", none_if_empty(r.reason), "joules_per_iter", r.joules_per_iter,
                   "mean_power_w", r.mean_power_w, "repetitions", r.repetitions, "window_s", r.window_s,
                   "counter_updates", r.counter_updates, "counter_joules", r.counter_joules,
                   "sampled_power_joules_per_iter", r.sampled_joules_per_iter,
                   "sampled_power_mean_w", r.sampled_mean_power_w, "power_samples", r.power_samples);
}

py::dict clocks_dict(const ClockSummary& c) {
  return make_dict("source", c.available ? "nvml" : "unavailable", "reason", none_if_empty(c.reason),
                   "mean_sm_clock_mhz", c.mean_sm_clock_mhz, "max_sm_clock_mhz", c.max_sm_clock_mhz,
                   "mean_mem_clock_mhz", c.mean_mem_clock_mhz, "mean_temperature_c", c.mean_temperature_c,
                   "mean_power_w", c.mean_power_w, "throttled_samples", c.throttled_samples, "samples", c.samples,
                   "idle_samples", c.idle_samples, "discarded_timing_samples", c.discarded_timing_samples,
                   "throttle_reasons", c.throttle_reasons);
}

BENCHSUITE_REGISTER_BINDINGS(energy, kBindHarness) {
  py::class_<ClockSample>(m, "ClockSample", "One sample of a GPU's clocks (MHz), temperature, power and reasons.")
      .def(py::init([](double t, std::optional<double> sm_mhz, std::optional<double> mem_mhz,
                       std::optional<double> temperature_c, std::optional<double> power_w,
                       std::optional<uint64_t> reasons) {
             return ClockSample{t, sm_mhz, mem_mhz, temperature_c, power_w, reasons};
           }),
           py::arg("t") = 0.0, py::arg("sm_mhz") = py::none(), py::arg("mem_mhz") = py::none(),
           py::arg("temperature_c") = py::none(), py::arg("power_w") = py::none(), py::arg("reasons") = py::none())
      .def_readwrite("t", &ClockSample::t)
      .def_readwrite("sm_mhz", &ClockSample::sm_mhz)
      .def_readwrite("mem_mhz", &ClockSample::mem_mhz)
      .def_readwrite("temperature_c", &ClockSample::temperature_c)
      .def_readwrite("power_w", &ClockSample::power_w)
      .def_readwrite("reasons", &ClockSample::reasons);

  py::class_<MonitorBase, PyMonitorBase>(
      m, "DeviceMonitor",
      "Base class for a monitor injected into measure_energy_window: override energy_joules() "
      "(monotonic total J or None), power_watts(), and optionally kind(), sample_clocks(), "
      "max_sm_clock_mhz(), counter_reason().")
      .def(py::init<>())
      .def("kind", &MonitorBase::kind)
      .def("energy_joules", &MonitorBase::energy_joules)
      .def("power_watts", &MonitorBase::power_watts)
      .def("sample_clocks", &MonitorBase::sample_clocks)
      .def("max_sm_clock_mhz", &MonitorBase::max_sm_clock_mhz)
      .def("counter_reason", &MonitorBase::counter_reason);

  py::class_<WorkRunner, PyWorkRunner>(
      m, "WorkRunner",
      "Base class for a runner injected into measure_energy_window: launch(n), completed(), wait(seconds).")
      .def(py::init<>())
      .def("launch", &WorkRunner::launch)
      .def("completed", &WorkRunner::completed)
      .def("wait", &WorkRunner::wait);

  m.def(
      "measure_energy_window",
      [](WorkRunner& runner, MonitorBase& monitor, const std::function<double()>& clock, const py::dict& settings,
         double seconds_per_iter) {
        const EnergyWindowSettings s = window_settings_from_dict(settings);
        const EnergyWindowResult r = measure_energy_window(runner, monitor, clock, s, seconds_per_iter);
        py::dict d = energy_dict(r);
        py::list clocks;
        for (const ClockSample& c : r.clock_samples) clocks.append(clock_sample_dict(c));
        d["clock_samples"] = clocks;
        return d;
      },
      py::arg("runner"), py::arg("monitor"), py::arg("clock"), py::arg("settings") = py::dict(),
      py::arg("seconds_per_iter") = 1e-3,
      "The energy window over an injected runner, monitor and clock (tests and custom sources).");

  m.def(
      "integrate_power",
      [](const std::vector<std::pair<double, double>>& samples, double t0, double t1) {
        return integrate_power(samples, t0, t1);
      },
      py::arg("samples"), py::arg("t0"), py::arg("t1"), "Trapezoid integral (J) of (t, W) samples over [t0, t1].");

  m.def(
      "apply_throttle_policy",
      [](std::vector<double> samples, std::vector<double> start_times, std::vector<double> end_times,
         const std::vector<ClockSample>& clocks, std::optional<double> max_sm_clock_mhz, double clock_fraction,
         double max_throttled_fraction, bool discard) {
        BENCHSUITE_CHECK_ARG(start_times.size() == samples.size() && end_times.size() == samples.size(),
                             "apply_throttle_policy: samples, start_times and end_times must have one length");
        Measurement mm;
        mm.samples = std::move(samples);
        mm.sample_start_times = std::move(start_times);
        mm.sample_end_times = std::move(end_times);
        ThrottlePolicy p;
        p.clock_fraction = clock_fraction;
        p.max_throttled_fraction = max_throttled_fraction;
        p.discard = discard;
        const ClockSummary c = apply_throttle_policy(mm, clocks, max_sm_clock_mhz, p);
        return make_dict("clocks", clocks_dict(c), "samples", mm.samples, "invalid_reasons", mm.invalid_reasons);
      },
      py::arg("samples"), py::arg("start_times"), py::arg("end_times"), py::arg("clock_samples"),
      py::arg("max_sm_clock_mhz") = py::none(), py::arg("clock_fraction") = 0.8,
      py::arg("max_throttled_fraction") = 0.1, py::arg("discard") = true,
      "The throttle policy on given timing samples (with their host spans) and clock samples.");

  py::class_<RaplMonitor>(m, "RaplMonitor",
                          "RAPL package energy through powercap (root: $BENCHSUITE_POWERCAP_ROOT or "
                          "/sys/class/powercap), wraparound handled between reads.")
      .def(py::init<std::string>(), py::arg("root") = "")
      .def_property_readonly("ok", &RaplMonitor::ok)
      .def_property_readonly("reason", &RaplMonitor::reason)
      .def_property_readonly("zones", &RaplMonitor::zones)
      .def("energy_joules", &RaplMonitor::energy_joules, "Joules since construction (None when unreadable).");

  m.def(
      "nvml_status",
      [] {
        return make_dict("available", nvml::available(), "reason", none_if_empty(nvml::unavailable_reason()),
                         "driver_version", nvml::driver_version());
      },
      "Whether NVML (libnvidia-ml, loaded at run time) is usable, and why not.");
  m.def(
      "nvml_device_state",
      [](int index) {
        std::string why;
        void* handle = nvml::device_handle(index, &why);
        const nvml::DeviceState s = nvml::device_state(handle);
        const py::object reason = handle ? py::object(py::none()) : py::object(py::str(why));
        return make_dict("available", handle != nullptr, "reason", reason,
                         "power_limit_w", s.power_limit_w, "power_w", s.power_w, "temperature_c", s.temperature_c,
                         "sm_clock_mhz", s.sm_clock_mhz, "mem_clock_mhz", s.mem_clock_mhz,
                         "max_sm_clock_mhz", s.max_sm_clock_mhz, "default_sm_clock_mhz", s.default_sm_clock_mhz,
                         "clock_event_reasons", s.clock_event_reasons, "ecc_enabled", s.ecc_enabled,
                         "persistence_mode", s.persistence_mode, "mig_enabled", s.mig_enabled,
                         "other_compute_processes", s.other_compute_processes, "energy_counter", s.has_energy_counter);
      },
      py::arg("index") = 0, "NVML's view of a CUDA device: power limit, ECC, MIG, persistence, clocks, processes.");

  py::class_<EnergyMeter>(m, "EnergyMeter", "Energy of what runs between start() and stop() (Profiler).")
      .def(py::init([](const std::string& device) { return make_energy_meter(parse_device(device)); }),
           py::arg("device") = "cpu")
      .def("start", &EnergyMeter::start)
      .def("stop", [](EnergyMeter& meter) { return energy_dict(meter.stop()); });

  m.def("host_peak_rss_bytes", &host_peak_rss_bytes, "Peak resident set of this process (VmHWM), bytes.");
  m.def("reset_host_peak_rss", &reset_host_peak_rss,
        "Restart the peak RSS from the current RSS (/proc/self/clear_refs); False where not allowed.");

  m.def("set_caching_pool", &set_caching_pool, py::arg("enabled"),
        "Switch the caching memory pool on or off; returns the previous setting. Off releases cached blocks.");
  m.def("caching_pool_enabled", &caching_pool_enabled);
  m.def(
      "pool_stats",
      [] {
        const PoolStats s = pool_stats();
        return make_dict("enabled", s.enabled, "hits", s.hits, "misses", s.misses, "returned", s.returned,
                         "cached_blocks", s.cached_blocks, "cached_bytes", s.cached_bytes);
      },
      "The caching pool's counters: hits, misses, returned, cached blocks and bytes.");
  m.def("empty_pool", &empty_pool, "Release every cached block and zero the pool's counters.");
  m.def("pool_block_size", &pool_block_size, py::arg("bytes"), "The block size a request of `bytes` rounds to.");
}

}  // namespace benchsuite::bindings
