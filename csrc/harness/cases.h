// Benchmark case families registered in C++: a family has named, typed parameters and
// builds a CaseInstance (inputs allocated, version chosen) that the harness times.
// measure_case() is the whole flow: build, check against the reference, measure.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/allocator.h"
#include "core/dtype.h"
#include "core/registration.h"
#include "harness/energy.h"
#include "harness/measure.h"
#include "ops/check.h"

namespace benchsuite {

using ParamValue = std::variant<bool, int64_t, double, std::string>;
using Params = std::map<std::string, ParamValue>;

struct Counters {
  std::optional<double> flops, bytes_read, bytes_written, items;
  std::string item_unit;   // tokens, frames, samples, elements, rows ...
  std::string math_dtype;  // dtype the FLOPs run in, for the peak they are compared with
};

// A figure a case reports about itself (CaseInstance::metrics).
struct CaseMetric {
  double value = 0;
  std::string unit;             // "tokens/s", "s", "%", "" for a pure number
  std::string better = "";      // "higher" | "lower" | "" (neither: a figure, not a goal)
  std::string description = "";
};

// Seconds spent in each phase of a case before its steady-state timing.
struct CasePhases {
  double build = 0;       // CaseFamily::make: allocations, version choice (inputs not filled)
  double compile = 0;     // CaseInstance::compile
  double first_call = 0;  // the first run, synchronized: cold caches, lazy initialization
};

class CaseInstance {
 public:
  virtual ~CaseInstance() = default;
  virtual void run(StreamHandle stream) = 0;
  virtual Counters counters() const { return {}; }
  // Runs the version on its (random) inputs with a poisoned output and compares with the
  // reference; nullopt when the case has nothing to check.
  virtual std::optional<ops::Correctness> check() { return std::nullopt; }
  // Case-specific raw figures kept in the record (e.g. a spin kernel's SM clock).
  virtual std::map<std::string, double> extra() { return {}; }
  // One-time work before the first call that the case wants timed as its own phase:
  // compiling a graph, packing weights, planning buffers. Inputs are filled by then.
  virtual void compile() {}
  // Figures of its own that the reports show beside time (tokens/s, time to first token,
  // accuracy, a timer's error), read once the measurement is over.
  virtual std::map<std::string, CaseMetric> metrics() { return {}; }
  // The typed configuration the case ran (a model or architecture config, a scenario),
  // flattened to named values for the record; empty when its parameters say it all.
  virtual Params config() const { return {}; }
};

struct ParamSpec {
  std::string name;
  std::string type;  // int | float | str | bool
  ParamValue default_value;
  std::string description;
  // int parameters: the smallest value the case accepts (they are all sizes or counts).
  // resolve_params() and profile validation in Python both enforce it.
  int64_t min_int = 0;
  // str parameters: the values accepted (empty: any). A typed config (a model, an
  // architecture, a scenario) is chosen by name this way and recorded through
  // CaseInstance::config().
  std::vector<std::string> choices{};
};

struct VersionDescription {
  std::string version;
  std::string description;
  std::vector<std::string> dtypes;
};

struct CaseFamily {
  std::string name;
  std::string group;
  std::string description;
  std::vector<ParamSpec> params;
  std::vector<DeviceType> devices;
  std::function<std::vector<VersionDescription>(DeviceType)> versions;
  std::function<std::unique_ptr<CaseInstance>(const Params& params, Device device, const std::string& version,
                                              uint64_t seed)>
      make;
  // Small, awkward parameters (odd sizes, not multiples of a vector width) at which the
  // registry-wide correctness test (tests/test_registry.py) checks every version of the
  // family against its reference; empty when the family has nothing to check.
  Params test_params{};
  // The op whose versions the cases run when it is not the family's name (attention_decode
  // runs attention_kv): the record names the version dispatch chose for it.
  std::string op{};
};

// A folder's case families, added at static initialization (BENCHSUITE_REGISTER_CASES).
using CaseRegistration = void (*)(std::vector<CaseFamily>& families);

// Every registered family, in (registration name, order added) order.
const std::vector<CaseFamily>& case_families();
const CaseFamily& find_case_family(const std::string& name);
// Fills in defaults, rejects unknown names and wrong types (invalid_argument naming both).
Params resolve_params(const CaseFamily& family, const Params& given);

struct CaseResult {
  std::string version;
  std::string version_description;
  Params params;  // resolved
  Measurement measurement;
  bool measured = false;  // false when the correctness check failed or Ctrl-C came first
  bool interrupted = false;  // SIGINT arrived (harness/interrupt.h): what was measured is kept
  Counters counters;
  std::optional<ops::Correctness> correctness;
  std::map<std::string, double> extra;
  std::map<std::string, CaseMetric> metrics;  // CaseInstance::metrics
  Params config;                              // CaseInstance::config
  CasePhases phases;
  bool phases_measured = false;               // false when the case stopped before its first call
  MemoryStats memory;           // tracking allocator on the case's device, from build to end
  int64_t device_memory_delta = 0;  // CUDA: free bytes before - after building the case
  int64_t host_peak_rss = 0;        // VmHWM after the case (reset before it where the kernel allows)
  bool host_peak_rss_reset = false;  // whether the peak was restarted for this case
  ClockSummary clocks;              // GPU clocks during the timing (unavailable on CPU)
  std::optional<EnergyWindowResult> energy;  // when settings.energy
};

CaseResult measure_case(const std::string& name, const Params& params, Device device, const std::string& version,
                        const MeasureSettings& settings, bool check);

namespace detail {
int64_t param_int(const Params& p, const std::string& name);
double param_float(const Params& p, const std::string& name);
std::string param_str(const Params& p, const std::string& name);
}  // namespace detail

}  // namespace benchsuite

// Registers a folder's benchmark case families at static initialization:
//   BENCHSUITE_REGISTER_CASES(softmax) { families.push_back({"softmax", ...}); }
#define BENCHSUITE_REGISTER_CASES(family)                                                       \
  BENCHSUITE_REGISTER_FUNCTION(::benchsuite::CaseRegistration, #family, 0,                      \
                               BENCHSUITE_CONCAT(register_cases_, family),                      \
                               std::vector<::benchsuite::CaseFamily>& families)
