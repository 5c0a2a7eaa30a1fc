// Case families of memory: copy (the bandwidth ceiling memory-bound ops are compared
// with) and pool_churn, which allocates and frees many buffers per iteration with the
// caching pool on or off, so the pool's gain (pool efficiency) is measured.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/cuda_runtime.h"
#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/memory/memory.h"

namespace benchsuite {

namespace {
using namespace case_helpers;

// ---- copy: the bandwidth ceiling the memory-bound ops are compared with -----------------
class CopyCase : public CaseInstance {
 public:
  CopyCase(const Params& p, Device device, uint64_t seed) : device_(device) {
    const int64_t n = positive(p, "copy", "n");
    src_ = random_input({n}, DType::float32, device, seed);
    dst_ = Tensor::empty({n}, DType::float32, device);
  }
  void run(StreamHandle stream) override {
    if (src_.nbytes() == 0) return;
#ifdef BENCHSUITE_WITH_CUDA
    if (device_.is_cuda()) {
      cuda_memcpy_d2d_async(dst_.data_ptr(), src_.data_ptr(), src_.nbytes(), stream);
      return;
    }
#endif
    cpu::copy_bytes(dst_.data_ptr(), src_.data_ptr(), src_.nbytes());
  }
  Counters counters() const override {
    return memory_counters(static_cast<double>(src_.nbytes()), static_cast<double>(dst_.nbytes()),
                           static_cast<double>(src_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    poison(dst_);
    run(nullptr);
    sync_if_cuda(device_);
    return ops::compare(ops::to_host_doubles(dst_), ops::to_host_doubles(src_), 0.0);
  }

 private:
  Device device_;
  Tensor src_, dst_;
};

// ---- pool_churn: the caching pool's gain ------------------------------------------------
// An allocation pattern (the case's typed config, chosen by name): buffer i is
// size_factors[i % k] x `bytes` long.
struct ChurnScenario {
  const char* name;
  std::vector<double> size_factors;
  const char* description;
};
const std::vector<ChurnScenario>& churn_scenarios() {
  static const std::vector<ChurnScenario> scenarios = {
      {"uniform", {1.0}, "every buffer `bytes` long: the pool's best case"},
      {"mixed", {0.25, 1.0, 4.0, 0.5, 2.0}, "sizes cycling over 1/4x to 4x `bytes`, as a model's activations do"},
  };
  return scenarios;
}
std::vector<std::string> churn_scenario_names() {
  std::vector<std::string> names;
  for (const ChurnScenario& s : churn_scenarios()) names.push_back(s.name);
  return names;
}
const ChurnScenario& churn_scenario(const std::string& name) {
  for (const ChurnScenario& s : churn_scenarios())
    if (name == s.name) return s;
  BENCHSUITE_THROW_ARG("pool_churn: scenario='", name, "' is not a scenario");  // resolve_params checked it
}

class PoolChurnCase : public CaseInstance {
 public:
  PoolChurnCase(const Params& p, Device device)
      : device_(device),
        buffers_(positive(p, "pool_churn", "buffers", 1, int64_t{1} << 20)),  // pointers kept in a vector
        bytes_(positive(p, "pool_churn", "bytes", 4)),
        pool_(std::get<bool>(p.at("pool"))),
        scenario_(churn_scenario(detail::param_str(p, "scenario"))),
        previous_(set_caching_pool(pool_)) {
    live_.reserve(static_cast<size_t>(buffers_));
    for (double factor : scenario_.size_factors)  // whole float32 elements, at least one
      elements_.push_back(std::max<int64_t>(1, static_cast<int64_t>(factor * static_cast<double>(bytes_ / 4))));
  }
  ~PoolChurnCase() override { set_caching_pool(previous_); }
  // Allocation and release are the work: the stream is unused (cudaMalloc/cudaFree
  // synchronise the device, which is the cost the pool removes).
  void run(StreamHandle) override {
    const size_t k = elements_.size();
    for (int64_t i = 0; i < buffers_; ++i)
      live_.push_back(Tensor::empty({elements_[static_cast<size_t>(i) % k]}, DType::float32, device_));
    live_.clear();
  }
  Params config() const override {
    std::ostringstream factors;  // "0.25,1,4,0.5,2"
    for (size_t i = 0; i < scenario_.size_factors.size(); ++i) factors << (i ? "," : "") << scenario_.size_factors[i];
    return {{"scenario", std::string(scenario_.name)}, {"size_factors", factors.str()}};
  }
  std::map<std::string, CaseMetric> metrics() override {
    const PoolStats s = pool_stats();
    const double served = static_cast<double>(s.hits + s.misses);
    if (!s.enabled || served == 0) return {};
    return {{"pool_hit_rate", {100.0 * static_cast<double>(s.hits) / served, "%", "higher",
                               "allocations the caching pool served without the system allocator"}}};
  }
  Counters counters() const override {
    Counters c;
    c.items = static_cast<double>(buffers_);
    c.item_unit = "allocations";
    return c;
  }
  std::map<std::string, double> extra() override {
    const PoolStats s = pool_stats();
    const double served = static_cast<double>(s.hits + s.misses);
    return {{"pool_enabled", s.enabled ? 1.0 : 0.0},
            {"pool_hits", static_cast<double>(s.hits)},
            {"pool_misses", static_cast<double>(s.misses)},
            {"pool_hit_rate", served > 0 ? static_cast<double>(s.hits) / served : 0.0}};
  }

 private:
  Device device_;
  int64_t buffers_, bytes_;
  bool pool_;
  const ChurnScenario& scenario_;
  bool previous_;
  std::vector<int64_t> elements_;  // per buffer of a cycle
  std::vector<Tensor> live_;
};
}  // namespace

BENCHSUITE_REGISTER_CASES(memory) {
  std::vector<CaseFamily>& f = families;
  f.push_back({"copy", "memory", "device-to-device copy: the measured bandwidth ceiling",
               {{"n", "int", int64_t{1 << 26}, "float32 elements"}}, both_devices(),
               [](DeviceType d) {
                 return std::vector<VersionDescription>{
                     {"v1", d == DeviceType::cpu ? "memcpy in OpenMP chunks" : "cudaMemcpyAsync device to device",
                      {"float32"}}};
               },
               [](const Params& p, Device d, const std::string& v, uint64_t s) {
                 require_v1("copy", v);
                 return std::unique_ptr<CaseInstance>(new CopyCase(p, d, s));
               }});
  f.push_back({"pool_churn", "memory", "allocate and free many buffers per iteration, caching pool on or off",
               {{"buffers", "int", int64_t{64}, "buffers allocated (then freed) per iteration", 1},
                {"bytes", "int", int64_t{1} << 20, "bytes per buffer", 4},
                {"pool", "bool", false, "serve allocations from the caching pool"},
                {"scenario", "str", std::string("uniform"), "allocation pattern (a typed config: see `config`)", 0,
                 churn_scenario_names()}},
               both_devices(),
               [](DeviceType d) {
                 return std::vector<VersionDescription>{
                     {"v1", d == DeviceType::cpu ? "aligned_alloc/free through the tracking allocator"
                                                 : "cudaMalloc/cudaFree through the tracking allocator",
                      {"float32"}}};
               },
               [](const Params& p, Device d, const std::string& v, uint64_t) {
                 BENCHSUITE_CHECK_ARG(v.empty() || v == "v1", "pool_churn: version '", v, "' does not exist (v1)");
                 return std::unique_ptr<CaseInstance>(new PoolChurnCase(p, d));
               }});
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "copy", {{"n", int64_t{1027}}});
}

}  // namespace benchsuite
