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

#include "common/allocator.h"
#include "common/dtype.h"
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

class CaseInstance {
 public:
  virtual ~CaseInstance() = default;
  virtual void run(StreamHandle stream) = 0;
  virtual Counters counters() const { return {}; }
  // Runs the version on its (random) inputs with a poisoned output and compares with the
  // reference; nullopt when the case has nothing to check.
  virtual std::optional<ops::Correctness> check() { return std::nullopt; }
  // Case-specific figures (e.g. a spin kernel's expected seconds).
  virtual std::map<std::string, double> extra() { return {}; }
};

struct ParamSpec {
  std::string name;
  std::string type;  // int | float | str | bool
  ParamValue default_value;
  std::string description;
  // int parameters: the smallest value the case accepts (they are all sizes or counts).
  // resolve_params() and profile validation in Python both enforce it.
  int64_t min_int = 0;
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
};

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
