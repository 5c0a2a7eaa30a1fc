// Benchmark cases of the reduce family: sum, mean, max over the last axis of [rows, cols]
// or over every element, checked against the double-precision CPU reference.
#include <utility>

#include "core/activations.h"
#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/reduce/reduce.h"

namespace benchsuite {

namespace {
using detail::param_str;
using namespace case_helpers;

class ReduceCase : public CaseInstance {
 public:
  ReduceCase(Reduction kind, const char* op, const Params& p, Device device, const std::string& version, uint64_t seed)
      : kind_(kind),
        all_(std::get<bool>(p.at("all"))),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version(op, device, dtype_, version)) {
    const int64_t rows = positive(p, op, "rows", 1), cols = positive(p, op, "cols", 1);
    x_ = random_input({rows, cols}, dtype_, device, seed);
    ops::check_reduce_args(kind, x_, all_);
    out_ = Tensor::empty(ops::reduce_output_shape(x_, all_), dtype_, device);
    workspace_ = ops::reduce_workspace(device);
  }
  void run(StreamHandle stream) override { ops::run_reduce(version_, kind_, x_, out_, workspace_, all_, stream); }
  Counters counters() const override {
    return memory_counters(static_cast<double>(x_.nbytes()), static_cast<double>(out_.nbytes()),
                           static_cast<double>(x_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    poison(out_);
    run(nullptr);
    sync_if_cuda(out_.device());
    std::vector<float> x = ops::to_host_floats(x_);
    const int64_t rows = all_ ? 1 : x_.size(0), cols = all_ ? x_.numel() : x_.size(1);
    std::vector<float> ref(static_cast<size_t>(rows));
    cpu::reduce_reference(kind_, x.data(), ref.data(), rows, cols);
    return ops::compare(ops::to_host_doubles(out_), std::vector<double>(ref.begin(), ref.end()),
                        ops::default_tolerance(dtype_));
  }

 private:
  Reduction kind_;
  bool all_;
  DType dtype_;
  const ops::OpVersion& version_;
  Tensor x_, out_, workspace_;
};
}  // namespace

BENCHSUITE_REGISTER_CASES(reduce) {
  std::vector<CaseFamily>& f = families;
  const ParamValue f32 = std::string("float32");
  for (auto [name, kind] : {std::pair<const char*, Reduction>{"sum", Reduction::sum}, {"mean", Reduction::mean},
                            {"max", Reduction::max}}) {
    f.push_back({name, "ops", std::string(name) + " over the last axis of [rows, cols], or over all elements",
                 {{"rows", "int", int64_t{4096}, "rows", 1},
                  {"cols", "int", int64_t{4096}, "columns (reduced axis)", 1},
                  {"all", "bool", false, "reduce every element instead of the last axis"},
                  {"dtype", "str", f32, "element type"}},
                 both_devices(), op_versions_fn(name),
                 [kind = kind, name = name](const Params& p, Device d, const std::string& v, uint64_t s) {
                   return std::unique_ptr<CaseInstance>(new ReduceCase(kind, name, p, d, v, s));
                 }});
  }
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "sum", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
  case_helpers::set_test_params(families, "mean", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
  case_helpers::set_test_params(families, "max", {{"rows", int64_t{7}}, {"cols", int64_t{1001}}});
}

}  // namespace benchsuite
