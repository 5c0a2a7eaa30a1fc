// Benchmark cases of the norms family: layernorm and rmsnorm, forward and backward, over a
// [rows, cols] matrix with random gamma / beta, memory-bound (bandwidth is their figure of
// merit), checked against the CPU references (double sums).
#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/norms/norms.h"

namespace benchsuite {

namespace {
using detail::param_str;
using namespace case_helpers;

// ---- layernorm / rmsnorm, forward and backward ------------------------------------------
class NormCase : public CaseInstance {
 public:
  NormCase(bool rms, bool backward, const Params& p, Device device, const std::string& version, uint64_t seed)
      : rms_(rms),
        backward_(backward),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        op_(std::string(rms ? "rmsnorm" : "layernorm") + (backward ? "_backward" : "")),
        version_(ops::select_version(op_, device, dtype_, version)),
        rows_(positive(p, op_.c_str(), "rows")),
        cols_(positive(p, op_.c_str(), "cols")) {
    x_ = random_input({rows_, cols_}, dtype_, device, seed);
    gamma_ = random_input({cols_}, dtype_, device, seed + 1);
    beta_ = random_input({cols_}, dtype_, device, seed + 2);
    dy_ = random_input({rows_, cols_}, dtype_, device, seed + 3);
    y_ = Tensor::empty({rows_, cols_}, dtype_, device);
    mean_ = Tensor::empty({rows_}, stats_dtype(dtype_), device);  // saved statistics: float32 (float64's float64)
    rstd_ = Tensor::empty({rows_}, stats_dtype(dtype_), device);
    dgamma_ = Tensor::empty({cols_}, dtype_, device);
    dbeta_ = Tensor::empty({cols_}, dtype_, device);
    if (backward_) {  // the saved statistics come from the forward pass
      const std::string fwd = rms ? "rmsnorm" : "layernorm";
      const ops::OpVersion& forward = ops::select_version(fwd, device, dtype_, "");
      if (rms_)
        ops::run_rmsnorm(forward, x_, gamma_, kEps, y_, rstd_);
      else
        ops::run_layernorm(forward, x_, gamma_, beta_, kEps, y_, mean_, rstd_);
      sync_if_cuda(device);
    }
  }
  void run(StreamHandle stream) override {
    if (!backward_ && rms_) ops::run_rmsnorm(version_, x_, gamma_, kEps, y_, rstd_, stream);
    if (!backward_ && !rms_) ops::run_layernorm(version_, x_, gamma_, beta_, kEps, y_, mean_, rstd_, stream);
    if (backward_ && rms_) ops::run_rmsnorm_backward(version_, dy_, x_, gamma_, rstd_, y_, dgamma_, stream);
    if (backward_ && !rms_)
      ops::run_layernorm_backward(version_, dy_, x_, gamma_, mean_, rstd_, y_, dgamma_, dbeta_, stream);
  }
  Counters counters() const override {
    const double matrix = static_cast<double>(x_.nbytes()), vec = static_cast<double>(gamma_.nbytes()),
                 stats = static_cast<double>(rstd_.nbytes());
    Counters c;
    if (backward_) {  // dy, x, gamma, stats in; dx, dgamma(, dbeta) out
      c.bytes_read = 2 * matrix + vec + stats * (rms_ ? 1 : 2);
      c.bytes_written = matrix + vec * (rms_ ? 1 : 2);
    } else {  // x, gamma(, beta) in; y, stats out
      c.bytes_read = matrix + vec * (rms_ ? 1 : 2);
      c.bytes_written = matrix + stats * (rms_ ? 1 : 2);
    }
    c.items = static_cast<double>(rows_ * cols_);
    c.item_unit = "elements";
    return c;
  }
  std::optional<ops::Correctness> check() override {
    poison(y_);
    poison(dgamma_);
    poison(dbeta_);
    if (!backward_) {
      poison(rstd_);
      poison(mean_);
    }
    run(nullptr);
    sync_if_cuda(y_.device());
    auto host = [](const Tensor& t) { return ops::to_host_floats(t); };
    std::vector<float> x = host(x_), gamma = host(gamma_), beta = host(beta_), dy = host(dy_), mean = host(mean_),
                       rstd = host(rstd_);
    std::vector<float> out(x.size()), p1(static_cast<size_t>(cols_)), p2(static_cast<size_t>(cols_));
    std::vector<float> s1(static_cast<size_t>(rows_)), s2(static_cast<size_t>(rows_));
    std::vector<double> got, ref;
    auto append = [](std::vector<double>& to, const std::vector<float>& from) {
      to.insert(to.end(), from.begin(), from.end());
    };
    auto append_t = [&](const Tensor& t) {
      std::vector<double> d = ops::to_host_doubles(t);
      got.insert(got.end(), d.begin(), d.end());
    };
    if (!backward_ && rms_) {
      cpu::rmsnorm_reference(x.data(), gamma.data(), out.data(), s1.data(), rows_, cols_, static_cast<float>(kEps));
      append(ref, out), append(ref, s1), append_t(y_), append_t(rstd_);
    } else if (!backward_) {
      cpu::layernorm_reference(x.data(), gamma.data(), beta.data(), out.data(), s1.data(), s2.data(), rows_, cols_,
                               static_cast<float>(kEps));  // the eps the fp32 versions use
      append(ref, out), append(ref, s1), append(ref, s2), append_t(y_), append_t(mean_), append_t(rstd_);
    } else if (rms_) {
      cpu::rmsnorm_backward_reference(dy.data(), x.data(), gamma.data(), rstd.data(), out.data(), p1.data(), rows_,
                                      cols_);
      append(ref, out), append(ref, p1), append_t(y_), append_t(dgamma_);
    } else {
      cpu::layernorm_backward_reference(dy.data(), x.data(), gamma.data(), mean.data(), rstd.data(), out.data(),
                                        p1.data(), p2.data(), rows_, cols_);
      append(ref, out), append(ref, p1), append(ref, p2), append_t(y_), append_t(dgamma_), append_t(dbeta_);
    }
    return ops::compare(got, ref, ops::default_tolerance(dtype_));
  }

 private:
  static constexpr double kEps = 1e-5;
  bool rms_, backward_;
  DType dtype_;
  std::string op_;
  const ops::OpVersion& version_;
  int64_t rows_, cols_;
  Tensor x_, gamma_, beta_, dy_, y_, mean_, rstd_, dgamma_, dbeta_;
};

}  // namespace

BENCHSUITE_REGISTER_CASES(norms) {
  for (bool rms : {false, true}) {
    for (bool backward : {false, true}) {
      const std::string name = std::string(rms ? "rmsnorm" : "layernorm") + (backward ? "_backward" : "");
      families.push_back({name, "ops",
                          std::string(rms ? "RMSNorm" : "LayerNorm") +
                              (backward ? " backward (dx and parameter gradients)" : " forward (saves row statistics)"),
                          row_op_params(), both_devices(), op_versions_fn(name),
                          [rms, backward](const Params& p, Device d, const std::string& v, uint64_t s) {
                            return std::unique_ptr<CaseInstance>(new NormCase(rms, backward, p, d, v, s));
                          }});
    }
  }
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "layernorm", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
  case_helpers::set_test_params(families, "layernorm_backward", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
  case_helpers::set_test_params(families, "rmsnorm", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
  case_helpers::set_test_params(families, "rmsnorm_backward", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
}

}  // namespace benchsuite
