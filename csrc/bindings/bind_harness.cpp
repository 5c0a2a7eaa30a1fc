// The harness as Python sees it: case families, measure_case, measure_callable and the
// statistics. Settings arrive as a dict (benchsuite.config.HarnessSettings.to_dict()).
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "common/error.h"
#include "harness/cases.h"
#include "harness/interrupt.h"
#include "harness/measure.h"
#include "harness/statistics.h"

namespace benchsuite::bindings {

namespace {

MeasureSettings settings_from_dict(const py::dict& d) {
  MeasureSettings s;
  auto as_int = [](const std::string& key, py::handle v) -> int64_t {
    BENCHSUITE_CHECK_ARG(py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v), "settings.", key, "=",
                         std::string(py::repr(v)), " must be an integer");
    return v.cast<int64_t>();
  };
  auto as_float = [](const std::string& key, py::handle v) -> double {
    BENCHSUITE_CHECK_ARG((py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v)) && !py::isinstance<py::bool_>(v),
                         "settings.", key, "=", std::string(py::repr(v)), " must be a number");
    return v.cast<double>();
  };
  auto as_bool = [](const std::string& key, py::handle v) -> bool {
    BENCHSUITE_CHECK_ARG(py::isinstance<py::bool_>(v), "settings.", key, "=", std::string(py::repr(v)),
                         " must be true or false");
    return v.cast<bool>();
  };
  for (auto item : d) {
    const std::string key = py::str(item.first);
    py::handle v = item.second;
    if (key == "mode") s.mode = py::str(v);
    else if (key == "warmup") s.warmup = as_int(key, v);
    else if (key == "min_samples") s.min_samples = as_int(key, v);
    else if (key == "max_samples") s.max_samples = as_int(key, v);
    else if (key == "min_time") s.min_time = as_float(key, v);
    else if (key == "max_noise") s.max_noise = v.is_none() ? std::nullopt : std::optional<double>(as_float(key, v));
    else if (key == "timeout") s.timeout = as_float(key, v);
    else if (key == "launches_per_sample") s.launches_per_sample = as_int(key, v);
    else if (key == "min_sample_time") s.min_sample_time = as_float(key, v);
    else if (key == "keep_samples") s.keep_samples = as_bool(key, v);
    else if (key == "smoke") s.smoke = as_bool(key, v);
    else if (key == "energy") s.energy = as_bool(key, v);
    else if (key == "energy_min_updates") s.energy_min_updates = as_int(key, v);
    else if (key == "energy_min_window") s.energy_min_window = as_float(key, v);
    else if (key == "energy_max_window") s.energy_max_window = as_float(key, v);
    else if (key == "energy_warmup") s.energy_warmup = as_float(key, v);
    else if (key == "throttle_clock_fraction") s.throttle_clock_fraction = as_float(key, v);
    else if (key == "max_throttled_fraction") s.max_throttled_fraction = as_float(key, v);
    else if (key == "throttle_policy") s.throttle_policy = py::str(v);
    else if (key == "check") continue;  // correctness checks are the caller's switch
    else BENCHSUITE_THROW_ARG("settings.", key, ": unknown harness setting");
  }
  s.validate();
  return s;
}

py::dict stats_dict(const Stats& s) {
  py::dict d;
  d["n"] = s.n;
  d["mean"] = s.mean;
  d["stddev"] = s.stddev;
  d["cv"] = s.cv;
  d["min"] = s.min;
  d["max"] = s.max;
  d["median"] = s.median;
  d["p5"] = s.p5;
  d["p95"] = s.p95;
  d["p99"] = s.p99;
  d["q1"] = s.q1;
  d["q3"] = s.q3;
  d["iqr"] = s.iqr;
  d["ci_low"] = s.ci_low;
  d["ci_high"] = s.ci_high;
  d["ci_level"] = s.ci_level;
  d["noise"] = s.noise;
  d["outliers_low"] = s.outliers_low;
  d["outliers_high"] = s.outliers_high;
  return d;
}

py::dict measurement_dict(const Measurement& m) {
  py::dict d;
  d["samples"] = m.samples;
  d["stats"] = m.has_stats ? py::object(stats_dict(m.stats)) : py::object(py::none());
  d["mode"] = m.mode;
  d["timer"] = m.timer;
  d["timer_resolution_s"] = m.timer_resolution;
  d["warmup_runs"] = m.warmup_runs;
  d["loops_per_sample"] = m.loops_per_sample;
  d["launches_per_sample"] = m.launches_per_sample;
  d["stop_reason"] = m.stop_reason;
  d["sampled_time_s"] = m.sampled_time;
  d["total_time_s"] = m.total_time;
  d["invalid_reasons"] = m.invalid_reasons;
  d["l2_flush_bytes"] = m.l2_flush_bytes;
  return d;
}

py::object optional_number(const std::optional<double>& v) {
  return v ? py::object(py::float_(*v)) : py::object(py::none());
}

py::dict counters_dict(const Counters& c) {
  py::dict d;
  d["flops"] = optional_number(c.flops);
  d["bytes_read"] = optional_number(c.bytes_read);
  d["bytes_written"] = optional_number(c.bytes_written);
  d["items"] = optional_number(c.items);
  d["item_unit"] = c.item_unit.empty() ? py::object(py::none()) : py::object(py::str(c.item_unit));
  d["math_dtype"] = c.math_dtype.empty() ? py::object(py::none()) : py::object(py::str(c.math_dtype));
  return d;
}

// Ctrl-C handling during a native measurement (harness/interrupt.h). Only on Python's main
// thread, the one its own SIGINT handler serves; elsewhere the signal stays Python's.
bool on_main_thread() {
  py::module_ threading = py::module_::import("threading");
  return threading.attr("current_thread")().is(threading.attr("main_thread")());
}

py::object param_to_py(const ParamValue& v) {
  return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

}  // namespace

void bind_harness(py::module_& m) {
  m.def("timer_resolution", &steady_clock_resolution, "Smallest steady_clock step seen, in seconds.");
  m.def("compute_stats",
        [](const std::vector<double>& samples, double ci_level) { return stats_dict(compute_stats(samples, ci_level)); },
        py::arg("samples"), py::arg("ci_level") = 0.95);
  m.def("validate_settings", [](const py::dict& d) { settings_from_dict(d); }, py::arg("settings"));
  m.def("case_families", [] {
    py::list out;
    for (const CaseFamily& f : case_families()) {
      py::dict d;
      d["name"] = f.name;
      d["group"] = f.group;
      d["description"] = f.description;
      py::list params;
      for (const ParamSpec& p : f.params) {
        py::dict pd;
        pd["name"] = p.name;
        pd["type"] = p.type;
        pd["default"] = param_to_py(p.default_value);
        pd["description"] = p.description;
        pd["min"] = p.type == "int" ? py::object(py::int_(p.min_int)) : py::object(py::none());
        params.append(pd);
      }
      d["params"] = params;
      py::dict versions;
      py::list devices;
      for (DeviceType t : f.devices) {
        const char* name = t == DeviceType::cpu ? "cpu" : "cuda";
        devices.append(name);
        py::list vs;
        for (const VersionDescription& v : f.versions(t)) {
          py::dict vd;
          vd["version"] = v.version;
          vd["description"] = v.description;
          vd["dtypes"] = v.dtypes;
          vs.append(vd);
        }
        versions[name] = vs;
      }
      d["devices"] = devices;
      d["versions"] = versions;
      out.append(d);
    }
    return out;
  });
  m.def("measure_case",
        [](const std::string& name, const Params& params, const std::string& device, const std::string& version,
           const py::dict& settings, bool check) {
          const MeasureSettings s = settings_from_dict(settings);
          CaseResult r;
          {
            std::optional<InterruptScope> scope;
            if (on_main_thread()) scope.emplace();
            py::gil_scoped_release release;  // C++ cases never touch Python
            r = measure_case(name, params, parse_device(device), version, s, check);
          }
          py::dict d;
          d["version"] = r.version;
          d["version_description"] = r.version_description;
          py::dict params_out;
          for (const auto& [k, v] : r.params) params_out[py::str(k)] = param_to_py(v);
          d["params"] = params_out;
          d["measured"] = r.measured;
          d["interrupted"] = r.interrupted;
          d["measurement"] = r.measured ? py::object(measurement_dict(r.measurement)) : py::object(py::none());
          d["counters"] = counters_dict(r.counters);
          if (r.correctness) {
            py::dict c;
            c["max_abs_error"] = r.correctness->max_abs_error;
            c["max_rel_error"] = r.correctness->max_rel_error;
            c["tolerance"] = r.correctness->tolerance;
            c["passed"] = r.correctness->passed;
            c["detail"] = r.correctness->detail;
            d["correctness"] = c;
          } else {
            d["correctness"] = py::none();
          }
          d["extra"] = r.extra;
          d["memory"] = memory_stats_dict(r.memory);
          d["device_memory_delta"] = r.device_memory_delta;
          d["host_peak_rss"] = r.host_peak_rss;
          d["host_peak_rss_reset"] = r.host_peak_rss_reset;
          d["clocks"] = r.measured ? py::object(clocks_dict(r.clocks)) : py::object(py::none());
          d["energy"] = r.energy ? py::object(energy_dict(*r.energy)) : py::object(py::none());
          return d;
        },
        py::arg("name"), py::arg("params"), py::arg("device") = "cpu", py::arg("version") = "",
        py::arg("settings") = py::dict(), py::arg("check") = true);
  m.def("measure_callable",
        [](const py::function& fn, const std::string& device, const py::dict& settings, const py::object& stream) {
          const MeasureSettings s = settings_from_dict(settings);
          const Device d = parse_device(device);
          std::optional<InterruptScope> scope;
          if (on_main_thread()) scope.emplace();
          Measurement result;
          ClockSummary clocks = clocks_unavailable("clock sampling reads NVML: GPU cases only");
          std::optional<EnergyWindowResult> energy;
          if (d.is_cuda()) {
            // None: a stream of the harness; 0: the legacy default stream (cudaStreamLegacy
            // is the handle 0x1); anything else: that cudaStream_t.
            StreamHandle handle = nullptr;
            if (!stream.is_none()) {
              const uintptr_t value = stream.cast<uintptr_t>();
              handle = reinterpret_cast<StreamHandle>(value == 0 ? uintptr_t{1} : value);
            }
            const std::function<void(StreamHandle)> run = [&fn](StreamHandle) { fn(); };
            result = measure_cuda_with_clocks(run, s, d.index, handle, &clocks);
            if (s.energy && !s.smoke && result.has_stats)
              energy = measure_energy_cuda(run, s, d.index, handle, result.stats.median);
          } else {
            const std::function<void()> run = [&fn] { fn(); };
            result = measure_cpu(run, s);
            if (s.energy && !s.smoke && result.has_stats) energy = measure_energy_cpu(run, s, result.stats.median);
          }
          if (interrupt_requested()) energy.reset();  // a window cut short measures nothing
          py::dict out = measurement_dict(result);
          out["interrupted"] = interrupt_requested();
          out["clocks"] = clocks_dict(clocks);
          out["energy"] = energy ? py::object(energy_dict(*energy)) : py::object(py::none());
          return out;
        },
        py::arg("fn"), py::arg("device") = "cpu", py::arg("settings") = py::dict(), py::arg("stream") = py::none(),
        "Times a Python callable; on CUDA, events go on `stream` (None = a harness stream, 0 = the legacy "
        "default stream); graph mode captures the callable's launches on that stream.");
}

}  // namespace benchsuite::bindings
