// Benchmark cases of the creation family: fill and randn over n elements (writes only,
// bandwidth their figure of merit), checked against the CPU reference version.
#include <utility>

#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/creation/creation.h"
#include "ops/dispatch.h"

namespace benchsuite {

namespace {
using detail::param_str;
using namespace case_helpers;

class CreationCase : public CaseInstance {
 public:
  CreationCase(const std::string& op, const Params& p, Device device, const std::string& version)
      : op_(op),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version(op, device, dtype_, version)),
        out_(Tensor::empty({positive(p, op.c_str(), "n")}, dtype_, device)) {
    params_.seed = 1234;
    params_.value = 1.5;
  }
  void run(StreamHandle stream) override { ops::run_creation(version_, out_, params_, stream); }
  Counters counters() const override {
    return memory_counters(0, static_cast<double>(out_.nbytes()), static_cast<double>(out_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    if (op_ == ops::FillOp::name) {
      poison(out_);
    } else {
      ops::CreationParams zero;
      ops::run_creation(ops::select_version(ops::FillOp::name, out_.device(), dtype_, ""), out_, zero);
    }
    run(nullptr);
    sync_if_cuda(out_.device());
    Tensor reference = Tensor::empty(out_.shape(), dtype_, kHost);
    ops::run_creation(*ops::versions_of(op_, DeviceType::cpu).front(), reference, params_);
    return ops::compare(ops::to_host_doubles(out_), ops::to_host_doubles(reference), 1e-6);
  }

 private:
  std::string op_;
  DType dtype_;
  const ops::OpVersion& version_;
  Tensor out_;
  ops::CreationParams params_;
};
}  // namespace

BENCHSUITE_REGISTER_CASES(creation) {
  const ParamValue f32 = std::string("float32");
  using Family = std::pair<const char*, const char*>;  // op, description
  for (auto [name, description] : {Family{ops::FillOp::name, "write one constant into a buffer"},
                                   Family{ops::RandnOp::name, "counter-based normal random numbers"}}) {
    families.push_back({name, "ops", description, {{"n", "int", int64_t{1 << 24}, "elements"},
                                                   {"dtype", "str", f32, "element type"}},
                        both_devices(), op_versions_fn(name),
                        [name = name](const Params& p, Device d, const std::string& v, uint64_t) {
                          return std::unique_ptr<CaseInstance>(new CreationCase(name, p, d, v));
                        }});
  }
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "fill", {{"n", int64_t{1027}}});
  case_helpers::set_test_params(families, "randn", {{"n", int64_t{1027}}});
}

}  // namespace benchsuite
