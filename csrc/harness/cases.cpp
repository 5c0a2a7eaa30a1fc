// The case registry (every folder's BENCHSUITE_REGISTER_CASES), parameter resolution and
// measure_case(): build, phases, check, measure.
#include "harness/cases.h"
#include "harness/case_helpers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "core/cuda_runtime.h"
#include "core/error.h"
#include "harness/interrupt.h"
#include "ops/dispatch.h"
#include "ops/registry.h"

namespace benchsuite {

namespace detail {
static const ParamValue& param(const Params& p, const std::string& name) {
  auto it = p.find(name);
  BENCHSUITE_CHECK(it != p.end(), "missing resolved parameter ", name);
  return it->second;
}
int64_t param_int(const Params& p, const std::string& name) { return std::get<int64_t>(param(p, name)); }
double param_float(const Params& p, const std::string& name) { return std::get<double>(param(p, name)); }
std::string param_str(const Params& p, const std::string& name) { return std::get<std::string>(param(p, name)); }
}  // namespace detail


namespace {
std::vector<CaseFamily> build_families() {
  std::vector<CaseFamily> families;
  for (const auto& entry : Registrations<CaseRegistration>::sorted()) entry.fn(families);
  for (size_t i = 0; i < families.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      BENCHSUITE_CHECK(families[i].name != families[j].name, "case family ", families[i].name, " is registered twice");
  return families;
}
}  // namespace

const std::vector<CaseFamily>& case_families() {
  static const std::vector<CaseFamily> families = build_families();
  return families;
}

const CaseFamily& find_case_family(const std::string& name) {
  std::string known;
  for (const CaseFamily& f : case_families()) {
    if (f.name == name) return f;
    known += (known.empty() ? "" : ", ") + f.name;
  }
  BENCHSUITE_THROW_ARG("case='", name, "' is not a registered case (known: ", known, ")");
}

Params resolve_params(const CaseFamily& family, const Params& given) {
  Params resolved;
  for (const auto& [name, value] : given) {
    auto spec = std::find_if(family.params.begin(), family.params.end(),
                             [&](const ParamSpec& s) { return s.name == name; });
    if (spec == family.params.end()) {
      std::string known;
      for (const ParamSpec& s : family.params) known += (known.empty() ? "" : ", ") + s.name;
      BENCHSUITE_THROW_ARG(family.name, ": unknown parameter '", name, "' (known: ", known, ")");
    }
    ParamValue v = value;
    if (spec->type == "float" && std::holds_alternative<int64_t>(v)) v = static_cast<double>(std::get<int64_t>(v));
    if (spec->type == "int" && std::holds_alternative<double>(v)) {
      const double d = std::get<double>(v);
      BENCHSUITE_CHECK_ARG(std::isfinite(d) && d == std::floor(d), family.name, ": ", name, "=", d,
                           " must be an integer");
      // 2^63 itself does not fit: the cast would be undefined (and come out negative).
      BENCHSUITE_CHECK_ARG(d >= -9223372036854775808.0 && d < 9223372036854775808.0, family.name, ": ", name, "=",
                           d, " is out of the int64 range");
      v = static_cast<int64_t>(d);
    }
    const bool ok = (spec->type == "int" && std::holds_alternative<int64_t>(v)) ||
                    (spec->type == "float" && std::holds_alternative<double>(v)) ||
                    (spec->type == "str" && std::holds_alternative<std::string>(v)) ||
                    (spec->type == "bool" && std::holds_alternative<bool>(v));
    BENCHSUITE_CHECK_ARG(ok, family.name, ": parameter ", name, " must be of type ", spec->type);
    if (spec->type == "int")
      BENCHSUITE_CHECK_ARG(std::get<int64_t>(v) >= spec->min_int, family.name, ": ", name, "=",
                           std::get<int64_t>(v), " must be >= ", spec->min_int);
    if (spec->type == "str" && !spec->choices.empty()) {
      const std::string& text = std::get<std::string>(v);
      if (std::find(spec->choices.begin(), spec->choices.end(), text) == spec->choices.end()) {
        std::string known;
        for (const std::string& c : spec->choices) known += (known.empty() ? "" : ", ") + c;
        BENCHSUITE_THROW_ARG(family.name, ": ", name, "='", text, "' is not one of: ", known);
      }
    }
    resolved[name] = v;
  }
  for (const ParamSpec& s : family.params)
    if (!resolved.count(s.name)) resolved[s.name] = s.default_value;
  return resolved;
}

static std::string params_str(const Params& params) {
  std::ostringstream out;
  bool first = true;
  for (const auto& [key, value] : params) {
    out << (first ? "" : ", ") << key << "=";
    std::visit([&out](const auto& v) { out << v; }, value);
    first = false;
  }
  return out.str();
}

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The phases before the steady state: compile, then one synchronized first call (its time
// includes whatever the first run pays: page faults, lazy initialization, cold caches).
void time_first_phases(CaseInstance& instance, Device device, CasePhases& phases, bool& measured) {
  auto start = std::chrono::steady_clock::now();
  instance.compile();
  phases.compile = seconds_since(start);
  start = std::chrono::steady_clock::now();
  instance.run(nullptr);
  case_helpers::sync_if_cuda(device);
  phases.first_call = seconds_since(start);
  measured = true;
}
}  // namespace

CaseResult measure_case(const std::string& name, const Params& params, Device device, const std::string& version,
                        const MeasureSettings& settings, bool check) {
  settings.validate();
  const CaseFamily& family = find_case_family(name);
  if (std::find(family.devices.begin(), family.devices.end(), device.type) == family.devices.end()) {
    if (device.is_cuda() && !cuda_status().available) require_cuda(name.c_str());
    BENCHSUITE_UNSUPPORTED("unsupported_device", name, ": device=", device.str(), " is not supported by this case");
  }
  if (device.is_cuda()) require_cuda(name.c_str());
  CaseResult result;
  result.params = resolve_params(family, params);
  size_t free_before = 0, free_after = 0, total = 0;
  if (device.is_cuda()) cuda_mem_info(device.index, &free_before, &total);
  reset_memory_stats(device.type);
  result.host_peak_rss_reset = reset_host_peak_rss();

  std::random_device entropy;
  const uint64_t seed = (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
  std::unique_ptr<CaseInstance> instance;
  try {
    // Inputs fill lazily (random_input), so the budget sees every buffer before any work.
    const size_t available = device.is_cuda() ? free_before : host_available_memory();
    std::optional<AllocationBudget> budget;
    if (available != 0) budget.emplace(device.type, available);
    case_helpers::forget_deferred_inputs();
    const auto build_start = std::chrono::steady_clock::now();
    instance = family.make(result.params, device, version, seed);
    result.phases.build = seconds_since(build_start);
  } catch (const Error& e) {
    // A size that overflows is found deep in a tensor's shape; say which parameters made it.
    if (e.reason() != "size_overflow") throw;
    throw Error(ErrorKind::invalid_argument, detail::str_cat(name, ": ", params_str(result.params), ": ", e.message()),
                e.file().c_str(), e.line(), e.reason());
  }
  case_helpers::fill_deferred_inputs();  // everything fits: fill the inputs before check and timing
  const std::vector<std::string> op_names = ops::op_names();
  const auto dtype = result.params.find("dtype");
  const std::string& op = family.op.empty() ? name : family.op;
  if (std::find(op_names.begin(), op_names.end(), op) != op_names.end() && dtype != result.params.end()) {
    // Op cases run what dispatch chose: the named version or the op's default.
    const ops::OpVersion& chosen =
        ops::select_version(op, device, parse_dtype(std::get<std::string>(dtype->second)), version);
    result.version = chosen.version;
    result.version_description = chosen.description;
  } else {
    const VersionDescription only = family.versions(device.type).front();
    result.version = only.version;
    result.version_description = only.description;
  }
  result.counters = instance->counters();
  result.config = instance->config();
  if (!interrupt_requested()) time_first_phases(*instance, device, result.phases, result.phases_measured);
  if (check && !interrupt_requested()) {
    result.correctness = instance->check();
    if (result.correctness && !result.correctness->passed) {
      result.memory = memory_stats(device.type);
      return result;  // never time a version that gave wrong answers
    }
  }
  if (interrupt_requested()) {  // Ctrl-C while building or checking: nothing timed yet
    result.interrupted = true;
    result.memory = memory_stats(device.type);
    return result;
  }
  CaseInstance* raw = instance.get();
  if (device.is_cuda()) {
    const std::function<void(StreamHandle)> run = [raw](StreamHandle s) { raw->run(s); };
    result.measurement = measure_cuda_with_clocks(run, settings, device.index, nullptr, &result.clocks);
    cuda_mem_info(device.index, &free_after, &total);
    result.device_memory_delta = static_cast<int64_t>(free_before) - static_cast<int64_t>(free_after);
    if (settings.energy && !settings.smoke && result.measurement.has_stats && !interrupt_requested())
      result.energy = measure_energy_cuda(run, settings, device.index, nullptr, result.measurement.stats.median);
  } else {
    const std::function<void()> run = [raw] { raw->run(nullptr); };
    result.measurement = measure_cpu(run, settings);
    result.clocks = clocks_unavailable("clock sampling reads NVML: GPU cases only");
    if (settings.energy && !settings.smoke && result.measurement.has_stats && !interrupt_requested())
      result.energy = measure_energy_cpu(run, settings, result.measurement.stats.median);
  }
  result.measured = true;
  result.interrupted = interrupt_requested();
  if (result.interrupted) result.energy.reset();  // a window cut short measures nothing
  result.extra = instance->extra();
  result.metrics = instance->metrics();
  result.memory = memory_stats(device.type);
  result.host_peak_rss = host_peak_rss_bytes();
  return result;
}

}  // namespace benchsuite
