// Case family of the caching memory pool: pool_churn allocates and frees many buffers per
// iteration, with the pool on or off, so the pool's gain (pool efficiency) is measured.
#include <vector>

#include "common/allocator.h"
#include "common/error.h"
#include "harness/case_helpers.h"

namespace benchsuite {

namespace {
using namespace case_helpers;

class PoolChurnCase : public CaseInstance {
 public:
  PoolChurnCase(const Params& p, Device device)
      : device_(device),
        buffers_(positive(p, "pool_churn", "buffers", 1, int64_t{1} << 20)),  // pointers kept in a vector
        bytes_(positive(p, "pool_churn", "bytes", 4)),
        pool_(std::get<bool>(p.at("pool"))),
        previous_(set_caching_pool(pool_)) {
    live_.reserve(static_cast<size_t>(buffers_));
  }
  ~PoolChurnCase() override { set_caching_pool(previous_); }
  // Allocation and release are the work: the stream is unused (cudaMalloc/cudaFree
  // synchronise the device, which is the cost the pool removes).
  void run(StreamHandle) override {
    for (int64_t i = 0; i < buffers_; ++i) live_.push_back(Tensor::empty({bytes_ / 4}, DType::float32, device_));
    live_.clear();
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
  bool pool_, previous_;
  std::vector<Tensor> live_;
};
}  // namespace

void add_memory_cases(std::vector<CaseFamily>& f) {
  f.push_back({"pool_churn", "memory", "allocate and free many buffers per iteration, caching pool on or off",
               {{"buffers", "int", int64_t{64}, "buffers allocated (then freed) per iteration", 1},
                {"bytes", "int", int64_t{1} << 20, "bytes per buffer", 4},
                {"pool", "bool", false, "serve allocations from the caching pool"}},
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
}

}  // namespace benchsuite
