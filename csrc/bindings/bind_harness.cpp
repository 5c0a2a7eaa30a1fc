// The harness as Python sees it: the settings table, case families, measure_case,
// measure_callable and the statistics. Settings arrive as a dict
// (benchsuite.core.settings.HarnessSettings.to_dict()).
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <cmath>
#include <variant>

#include "bindings/bindings.h"
#include "bindings/py_dict.h"
#include "core/error.h"
#include "harness/cases.h"
#include "harness/interrupt.h"
#include "harness/measure.h"
#include "harness/settings.h"
#include "harness/statistics.h"

namespace benchsuite::bindings {

namespace {

// A Python value into a setting, with the message of a wrong type (the value is checked
// against the setting's rule afterwards, by validate()).
void set_from_py(int64_t& out, const std::string& key, py::handle v) {
  BENCHSUITE_CHECK_ARG(py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v), "settings.", key, "=",
                       std::string(py::repr(v)), " must be an integer");
  out = v.cast<int64_t>();
}
void set_from_py(double& out, const std::string& key, py::handle v) {
  BENCHSUITE_CHECK_ARG((py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v)) && !py::isinstance<py::bool_>(v),
                       "settings.", key, "=", std::string(py::repr(v)), " must be a number");
  out = v.cast<double>();
}
void set_from_py(std::optional<double>& out, const std::string& key, py::handle v) {
  if (v.is_none()) return out.reset();
  double value = 0;
  set_from_py(value, key, v);
  out = value;
}
void set_from_py(bool& out, const std::string& key, py::handle v) {
  BENCHSUITE_CHECK_ARG(py::isinstance<py::bool_>(v), "settings.", key, "=", std::string(py::repr(v)),
                       " must be true or false");
  out = v.cast<bool>();
}
void set_from_py(std::string& out, const std::string&, py::handle v) { out = py::str(v); }

// Settings arrive as a dict (HarnessSettings.to_dict()); keys left out keep their defaults.
MeasureSettings settings_from_dict(const py::dict& d) {
  MeasureSettings s;
  for (auto item : d) {
    const std::string key = py::str(item.first);
    const SettingField* field = find_measure_setting(key);
    if (!field) BENCHSUITE_THROW_ARG("settings.", key, ": unknown harness setting");
    std::visit([&](auto member) { set_from_py(s.*member, key, item.second); }, field->member);
  }
  s.validate();
  return s;
}

py::dict settings_dict(const MeasureSettings& s) {
  py::dict d;
  for (const SettingField& f : measure_settings_fields())
    std::visit([&](auto member) { d[f.name] = to_py(s.*member); }, f.member);
  return d;
}

// The settings table for Python's HarnessSettings: each row with its default and rule.
py::list settings_fields_list() {
  const py::dict defaults = settings_dict(MeasureSettings{});
  py::list out;
  for (const SettingField& f : measure_settings_fields()) {
    const SettingRule& r = f.rule;
    const bool is_int = std::holds_alternative<int64_t MeasureSettings::*>(f.member);
    auto bound = [&](double x) -> py::object {
      if (!std::isfinite(x)) return py::none();
      return is_int ? py::object(py::int_(static_cast<int64_t>(x))) : py::object(py::float_(x));
    };
    py::list choices;
    for (const char* c : r.choices)
      if (c) choices.append(c);
    out.append(make_dict("name", f.name, "type", f.type_name(), "default", py::object(defaults[f.name]),
                         "nullable", f.nullable(), "min", bound(r.min), "min_open", r.min_open,
                         "min_closed_when", r.min_closed_when, "max", bound(r.max), "max_open", r.max_open,
                         "not_below", r.not_below, "none_means", r.none_means,
                         "choices", choices.empty() ? py::object(py::none()) : py::object(choices),
                         "unit", f.unit, "help", f.help));
  }
  return out;
}

py::dict stats_dict(const Stats& s) {
  return make_dict("n", s.n, "mean", s.mean, "stddev", s.stddev, "cv", s.cv, "min", s.min, "max", s.max,
                   "median", s.median, "p5", s.p5, "p95", s.p95, "p99", s.p99, "q1", s.q1, "q3", s.q3, "iqr", s.iqr,
                   "ci_low", s.ci_low, "ci_high", s.ci_high, "ci_level", s.ci_level, "noise", s.noise,
                   "outliers_low", s.outliers_low, "outliers_high", s.outliers_high);
}

py::dict measurement_dict(const Measurement& m) {
  return make_dict("samples", m.samples,
                   "stats", m.has_stats ? py::object(stats_dict(m.stats)) : py::object(py::none()),
                   "mode", m.mode, "timer", m.timer, "timer_resolution_s", m.timer_resolution,
                   "warmup_runs", m.warmup_runs, "loops_per_sample", m.loops_per_sample,
                   "launches_per_sample", m.launches_per_sample, "stop_reason", m.stop_reason,
                   "sampled_time_s", m.sampled_time, "total_time_s", m.total_time,
                   "invalid_reasons", m.invalid_reasons, "l2_flush_bytes", m.l2_flush_bytes);
}

py::dict counters_dict(const Counters& c) {
  return make_dict("flops", c.flops, "bytes_read", c.bytes_read, "bytes_written", c.bytes_written, "items", c.items,
                   "item_unit", none_if_empty(c.item_unit), "math_dtype", none_if_empty(c.math_dtype));
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

py::dict params_to_py(const Params& params) {
  py::dict out;
  for (const auto& [k, v] : params) out[py::str(k)] = param_to_py(v);
  return out;
}

py::dict case_metrics_dict(const std::map<std::string, CaseMetric>& metrics) {
  py::dict out;
  for (const auto& [name, m] : metrics)
    out[py::str(name)] = make_dict("value", m.value, "unit", m.unit, "better", none_if_empty(m.better),
                                   "description", none_if_empty(m.description));
  return out;
}

}  // namespace

BENCHSUITE_REGISTER_BINDINGS(harness, kBindHarness) {
  m.def("timer_resolution", &steady_clock_resolution, "Smallest steady_clock step seen, in seconds.");
  m.def("compute_stats",
        [](const std::vector<double>& samples, double ci_level) {
          return stats_dict(compute_stats(samples, ci_level));
        },
        py::arg("samples"), py::arg("ci_level") = 0.95);
  m.def("validate_settings", [](const py::dict& d) { settings_from_dict(d); }, py::arg("settings"));
  m.def("harness_settings_fields", &settings_fields_list,
        "The harness settings, one dict each: name, type (int | float | bool | str), default, nullable, min, "
        "min_open, min_closed_when, max, max_open, not_below, none_means, choices, unit, help.");
  m.def("case_families", [] {
    py::list out;
    for (const CaseFamily& f : case_families()) {
      py::list params;
      for (const ParamSpec& p : f.params)
        params.append(make_dict("name", p.name, "type", p.type, "default", param_to_py(p.default_value),
                                "description", p.description,
                                "min", p.type == "int" ? py::object(py::int_(p.min_int)) : py::object(py::none()),
                                "choices", p.choices));
      py::dict versions;
      py::list devices;
      for (DeviceType t : f.devices) {
        const char* name = t == DeviceType::cpu ? "cpu" : "cuda";
        devices.append(name);
        py::list vs;
        for (const VersionDescription& v : f.versions(t))
          vs.append(make_dict("version", v.version, "description", v.description, "dtypes", v.dtypes));
        versions[name] = vs;
      }
      out.append(make_dict("name", f.name, "group", f.group, "description", f.description, "params", params,
                           "devices", devices, "versions", versions, "test_params", params_to_py(f.test_params)));
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
          const py::dict params_out = params_to_py(r.params);
          py::object correctness = py::none();
          if (r.correctness)
            correctness = make_dict("max_abs_error", r.correctness->max_abs_error,
                                    "max_rel_error", r.correctness->max_rel_error,
                                    "tolerance", r.correctness->tolerance, "passed", r.correctness->passed,
                                    "detail", r.correctness->detail);
          return make_dict(
              "version", r.version, "version_description", r.version_description, "params", params_out,
              "measured", r.measured, "interrupted", r.interrupted,
              "measurement", r.measured ? py::object(measurement_dict(r.measurement)) : py::object(py::none()),
              "counters", counters_dict(r.counters), "correctness", correctness, "extra", r.extra,
              "memory", memory_stats_dict(r.memory), "device_memory_delta", r.device_memory_delta,
              "host_peak_rss", r.host_peak_rss, "host_peak_rss_reset", r.host_peak_rss_reset,
              "clocks", r.measured ? py::object(clocks_dict(r.clocks)) : py::object(py::none()),
              "energy", r.energy ? py::object(energy_dict(*r.energy)) : py::object(py::none()),
              "case_metrics", case_metrics_dict(r.metrics), "config", params_to_py(r.config),
              "phases", r.phases_measured ? py::object(make_dict("build_s", r.phases.build, "compile_s",
                                                                 r.phases.compile, "first_call_s",
                                                                 r.phases.first_call))
                                          : py::object(py::none()));
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
