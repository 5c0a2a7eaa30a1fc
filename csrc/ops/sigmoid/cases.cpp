// Benchmark cases of the sigmoid family: sigmoid and sigmoid_backward over n elements,
// memory-bound (bandwidth is their figure of merit), checked against double math.
#include <cmath>

#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/dispatch.h"
#include "ops/sigmoid/sigmoid.h"

namespace benchsuite {

namespace {
using namespace case_helpers;

class SigmoidCase : public CaseInstance {
 public:
  SigmoidCase(bool backward, const Params& p, Device device, const std::string& version, uint64_t seed)
      : backward_(backward),
        dtype_(parse_dtype(detail::param_str(p, "dtype"))),
        version_(ops::select_version(backward ? ops::SigmoidBackwardOp::name : ops::SigmoidOp::name, device, dtype_,
                                     version)) {
    const int64_t n = positive(p, version_.op.c_str(), "n");
    x_ = random_input({n}, dtype_, device, seed);  // backward: y (any values: the formula is checked)
    if (backward_) dy_ = random_input({n}, dtype_, device, seed + 1);
    out_ = Tensor::empty({n}, dtype_, device);
  }
  void run(StreamHandle stream) override {
    if (backward_)
      ops::run_binary(version_, x_, dy_, out_, stream);
    else
      ops::run_unary(version_, x_, out_, stream);
  }
  Counters counters() const override {
    const double inputs = static_cast<double>(x_.nbytes()) * (backward_ ? 2 : 1);
    return memory_counters(inputs, static_cast<double>(out_.nbytes()), static_cast<double>(out_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    poison(out_);
    run(nullptr);
    sync_if_cuda(out_.device());
    const std::vector<double> x = ops::to_host_doubles(x_);
    const std::vector<double> dy = backward_ ? ops::to_host_doubles(dy_) : std::vector<double>();
    std::vector<double> ref(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      ref[i] = backward_ ? dy[i] * x[i] * (1.0 - x[i]) : 1.0 / (1.0 + std::exp(-x[i]));
    return ops::compare(ops::to_host_doubles(out_), ref, ops::default_tolerance(dtype_));
  }

 private:
  bool backward_;
  DType dtype_;
  const ops::OpVersion& version_;
  Tensor x_, dy_, out_;
};

CaseFamily sigmoid_family(bool backward) {
  const char* name = backward ? ops::SigmoidBackwardOp::name : ops::SigmoidOp::name;
  return {name, "ops",
          backward ? "dx = dy * y * (1 - y) over n elements" : "y = 1 / (1 + exp(-x)) over n elements",
          {{"n", "int", int64_t{1} << 24, "elements", 0}, {"dtype", "str", std::string("float32"), "element type"}},
          both_devices(), op_versions_fn(name),
          [backward](const Params& p, Device d, const std::string& v, uint64_t seed) {
            return std::unique_ptr<CaseInstance>(new SigmoidCase(backward, p, d, v, seed));
          },
          // 4099: not a multiple of 8 (the CPU tail), of 16-byte packs or of a warp.
          {{"n", int64_t{4099}}}};
}
}  // namespace

BENCHSUITE_REGISTER_CASES(sigmoid) {
  families.push_back(sigmoid_family(false));
  families.push_back(sigmoid_family(true));
}

}  // namespace benchsuite
