// Benchmark cases of the elementwise family: add, mul, axpy and the activations over n
// elements, memory-bound (bandwidth is their figure of merit), checked against double math.
#include <functional>
#include <utility>
#include <vector>

#include "core/activations.h"
#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/dispatch.h"
#include "ops/elementwise/elementwise.h"

namespace benchsuite {

namespace {
using detail::param_str;
using namespace case_helpers;

// One or two [n] inputs (x, and y for the binary ops), one [n] output.
class ElementwiseCase : public CaseInstance {
 public:
  // The exact result of one element in double (unary ops ignore y).
  using Reference = std::function<double(double x, double y)>;
  ElementwiseCase(const char* op, bool binary, Reference reference, const Params& p, Device device,
                  const std::string& version, uint64_t seed)
      : binary_(binary),
        reference_(std::move(reference)),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version(op, device, dtype_, version)) {
    const int64_t n = positive(p, op, "n");
    x_ = random_input({n}, dtype_, device, seed);
    if (binary_) y_ = random_input({n}, dtype_, device, seed + 1);
    out_ = Tensor::empty({n}, dtype_, device);
  }
  static constexpr float kAlpha = 0.75f;  // axpy
  void run(StreamHandle stream) override {
    if (version_.has_signature<ops::AxpySignature>())
      version_.fn<ops::AxpySignature>()(kAlpha, x_, y_, out_, stream);
    else if (binary_)
      ops::run_binary(version_, x_, y_, out_, stream);
    else
      ops::run_unary(version_, x_, out_, stream);
  }
  Counters counters() const override {  // memory-bound: no FLOP counter, bandwidth is the figure
    const double bytes = static_cast<double>(out_.nbytes());
    return memory_counters((binary_ ? 2 : 1) * bytes, bytes, static_cast<double>(out_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    poison(out_);
    run(nullptr);
    sync_if_cuda(out_.device());
    const std::vector<double> x = ops::to_host_doubles(x_);
    const std::vector<double> y = binary_ ? ops::to_host_doubles(y_) : std::vector<double>(x.size());
    std::vector<double> ref(x.size());
    for (size_t i = 0; i < x.size(); ++i) ref[i] = reference_(x[i], y[i]);
    return ops::compare(ops::to_host_doubles(out_), ref, ops::default_tolerance(dtype_));
  }

 private:
  bool binary_;
  Reference reference_;
  DType dtype_;
  const ops::OpVersion& version_;
  Tensor x_, y_, out_;
};

CaseFamily elementwise_family(const char* name, const std::string& description, bool binary,
                              ElementwiseCase::Reference reference) {
  const ParamValue f32 = std::string("float32");
  return {name, "ops", description, {{"n", "int", int64_t{1 << 24}, "elements"}, {"dtype", "str", f32, "element type"}},
          both_devices(), op_versions_fn(name),
          [name, binary, reference](const Params& p, Device d, const std::string& v, uint64_t s) {
            return std::unique_ptr<CaseInstance>(new ElementwiseCase(name, binary, reference, p, d, v, s));
          }};
}
}  // namespace

BENCHSUITE_REGISTER_CASES(elementwise) {
  for (BinaryOp op : {BinaryOp::add, BinaryOp::mul}) {
    families.push_back(elementwise_family(op == BinaryOp::add ? ops::AddOp::name : ops::MulOp::name,
                                          op == BinaryOp::add ? "out = a + b" : "out = a * b", true,
                                          [op](double a, double b) { return binary(op, a, b); }));
  }
  families.push_back(elementwise_family(ops::AxpyOp::name, "out = alpha * x + y", true, [](double x, double y) {
    return static_cast<double>(ElementwiseCase::kAlpha) * x + y;
  }));
  for (Activation kind : {Activation::relu, Activation::gelu, Activation::silu, Activation::gelu_erf, Activation::tanh}) {
    const char* name = activation_name(kind);
    families.push_back(elementwise_family(name, std::string(name) + " activation, elementwise", false,
                                          [kind](double x, double) { return activation<double>(kind, x); }));
  }
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "add", {{"n", int64_t{1027}}});
  case_helpers::set_test_params(families, "mul", {{"n", int64_t{1027}}});
  case_helpers::set_test_params(families, "axpy", {{"n", int64_t{1027}}});
  case_helpers::set_test_params(families, "relu", {{"n", int64_t{1027}}});
  case_helpers::set_test_params(families, "gelu", {{"n", int64_t{1027}}});
  case_helpers::set_test_params(families, "silu", {{"n", int64_t{1027}}});
  case_helpers::set_test_params(families, "gelu_erf", {{"n", int64_t{1027}}});
  case_helpers::set_test_params(families, "tanh", {{"n", int64_t{1027}}});
}

}  // namespace benchsuite
