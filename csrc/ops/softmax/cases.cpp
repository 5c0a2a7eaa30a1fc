// Benchmark cases of the softmax family: softmax, log_softmax and their backward passes
// over a [rows, cols] matrix, memory-bound (bandwidth is their figure of merit), checked
// against the CPU references (double sums).
#include <utility>

#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/dispatch.h"
#include "ops/softmax/softmax.h"

namespace benchsuite {

namespace {
using detail::param_str;
using namespace case_helpers;

// ---- row ops with one or two [rows, cols] inputs and one output ---------------------------
// softmax(x), softmax_backward(y, dy), log_softmax(x), log_softmax_backward(y, dy)
class RowOpCase : public CaseInstance {
 public:
  // The CPU reference; unary ops ignore b.
  using Reference = void (*)(const float* a, const float* b, float* out, int64_t rows, int64_t cols);
  // forward: for a backward op, the forward op whose output is its first input (y), so
  // the inputs are what training passes (log-probabilities stay <= 0, and exp(y) * sum(dy)
  // cannot overflow a float16 as it can for y drawn from a normal distribution).
  RowOpCase(const std::string& op, bool binary, Reference reference, const char* forward, const Params& p,
            Device device, const std::string& version, uint64_t seed)
      : binary_(binary),
        reference_(reference),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version(op, device, dtype_, version)),
        rows_(positive(p, op.c_str(), "rows")),
        cols_(positive(p, op.c_str(), "cols")) {
    a_ = random_input({rows_, cols_}, dtype_, device, seed);
    if (binary_) b_ = random_input({rows_, cols_}, dtype_, device, seed + 1);
    out_ = Tensor::empty({rows_, cols_}, dtype_, device);
    if (forward) {
      ops::run_unary(ops::select_version(forward, device, dtype_, ""), a_, out_);
      std::swap(a_, out_);
      sync_if_cuda(device);
    }
  }
  void run(StreamHandle stream) override {
    if (binary_)
      ops::run_binary(version_, a_, b_, out_, stream);
    else
      ops::run_unary(version_, a_, out_, stream);
  }
  Counters counters() const override {
    return memory_counters(static_cast<double>(a_.nbytes()) * (binary_ ? 2 : 1), static_cast<double>(out_.nbytes()),
                           static_cast<double>(rows_ * cols_));
  }
  std::optional<ops::Correctness> check() override {
    run_poisoned(*this, {out_});
    std::vector<float> a = ops::to_host_floats(a_), b = binary_ ? ops::to_host_floats(b_) : std::vector<float>();
    std::vector<float> ref(a.size());
    reference_(a.data(), binary_ ? b.data() : nullptr, ref.data(), rows_, cols_);
    return ops::compare(ops::to_host_doubles(out_), as_doubles(ref), ops::default_tolerance(dtype_));
  }

 private:
  bool binary_;
  Reference reference_;
  DType dtype_;
  const ops::OpVersion& version_;
  int64_t rows_, cols_;
  Tensor a_, b_, out_;
};

// A unary reference(x, y, rows, cols) as RowOpCase calls it.
template <void (*kReference)(const float*, float*, int64_t, int64_t)>
void unary_reference(const float* x, const float*, float* y, int64_t rows, int64_t cols) {
  kReference(x, y, rows, cols);
}

struct RowOp {
  const char* name;
  const char* description;
  bool binary;
  RowOpCase::Reference reference;
  const char* forward;  // backward ops: y = forward(random x)
};
}  // namespace

BENCHSUITE_REGISTER_CASES(softmax) {
  for (const RowOp& op : {RowOp{ops::SoftmaxOp::name, "softmax over the last axis of a [rows, cols] matrix", false,
                                unary_reference<cpu::softmax_reference<float>>, nullptr},
                          RowOp{ops::SoftmaxBackwardOp::name, "dx = y * (dy - sum(dy * y)) per row", true,
                                cpu::softmax_backward_reference<float>, ops::SoftmaxOp::name},
                          RowOp{ops::LogSoftmaxOp::name, "x - max - log(sum(exp(x - max))) per row", false,
                                unary_reference<cpu::log_softmax_reference<float>>, nullptr},
                          RowOp{ops::LogSoftmaxBackwardOp::name, "dx = dy - exp(y) * sum(dy) per row", true,
                                cpu::log_softmax_backward_reference<float>, ops::LogSoftmaxOp::name}}) {
    families.push_back({op.name, "ops", op.description, row_op_params(), both_devices(), op_versions_fn(op.name),
                        [op](const Params& p, Device d, const std::string& v, uint64_t s) {
                          return std::unique_ptr<CaseInstance>(
                              new RowOpCase(op.name, op.binary, op.reference, op.forward, p, d, v, s));
                        }});
  }
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "softmax", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
  case_helpers::set_test_params(families, "softmax_backward", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
  case_helpers::set_test_params(families, "log_softmax", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
  case_helpers::set_test_params(families, "log_softmax_backward", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
}

}  // namespace benchsuite
