// Case families of the manipulation ops: transpose, concat and contiguous (the copy of a
// transposed view). Each moves bytes only: the counters are bytes read + written and
// elements; the check is exact (every element must arrive unchanged).
#include "harness/case_helpers.h"

#include <memory>

#include "core/error.h"
#include "ops/manipulation/manipulation.h"
#include "ops/creation/creation.h"
#include "ops/dispatch.h"

namespace benchsuite {

namespace {

using case_helpers::positive;
using detail::param_int;
using detail::param_str;

// Random inputs of any dtype, never all zeros: normal numbers for floating types,
// uniform integers otherwise.
Tensor input(const Shape& shape, DType dtype, Device device, uint64_t seed) {
  if (is_floating(dtype)) return case_helpers::random_input(shape, dtype, device, seed);
  const float low = dtype == DType::uint8 ? 0.0f : -100.0f;
  const float high = dtype == DType::int8 || dtype == DType::uint8 ? 120.0f : 1.0e6f;
  return ops::uniform(shape, seed, dtype, device, low, high);
}

// x [batch, rows, cols] (host values) transposed: [batch, cols, rows].
std::vector<double> transposed(const std::vector<double>& x, int64_t batch, int64_t rows, int64_t cols) {
  std::vector<double> out(x.size());
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) out[(b * cols + c) * rows + r] = x[(b * rows + r) * cols + c];
  return out;
}

// A case that moves bytes: out's bytes are read once and written once; the check is exact
// against the elements reference() expects in out.
class ByteCopyCase : public CaseInstance {
 public:
  ByteCopyCase(const char* op, const Params& p, Device device, const std::string& version)
      : op_(op),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version(op, device, dtype_, version)) {}
  Counters counters() const override {
    const double bytes = static_cast<double>(out_.nbytes());
    return case_helpers::memory_counters(bytes, bytes, static_cast<double>(out_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    case_helpers::run_poisoned(*this, {out_});
    return ops::compare(ops::to_host_doubles(out_), reference(), 0.0);
  }

 protected:
  virtual std::vector<double> reference() const = 0;
  // An int parameter in [lowest, highest]; errors name the op.
  int64_t size(const Params& p, const char* name, int64_t lowest = 0, int64_t highest = INT64_MAX) const {
    return positive(p, op_, name, lowest, highest);
  }

  const char* op_;
  DType dtype_;
  const ops::OpVersion& version_;
  Tensor out_;
};

// ---- transpose: x [batch, rows, cols] -> y [batch, cols, rows] ----------------------------
class TransposeCase : public ByteCopyCase {
 public:
  TransposeCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : ByteCopyCase("transpose", p, device, version),
        batch_(size(p, "batch", 1)),
        rows_(size(p, "rows")),
        cols_(size(p, "cols")) {
    x_ = input({batch_, rows_, cols_}, dtype_, device, seed);
    out_ = Tensor::empty({batch_, cols_, rows_}, dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_unary(version_, x_, out_, stream); }

 private:
  std::vector<double> reference() const override {
    return transposed(ops::to_host_doubles(x_), batch_, rows_, cols_);
  }

  int64_t batch_, rows_, cols_;
  Tensor x_;
};

// ---- contiguous: a contiguous copy of x = base.T, base [cols, rows] ------------------------
class ContiguousCase : public ByteCopyCase {
 public:
  ContiguousCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : ByteCopyCase("contiguous", p, device, version),
        rows_(size(p, "rows")),
        cols_(size(p, "cols")) {
    base_ = input({cols_, rows_}, dtype_, device, seed);
    x_ = base_.as_strided({rows_, cols_}, {1, rows_}, base_.byte_offset());
    out_ = Tensor::empty({rows_, cols_}, dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_unary(version_, x_, out_, stream); }

 private:
  // From the contiguous base, so no strided copy (possibly the version under test) makes
  // the reference.
  std::vector<double> reference() const override {
    return transposed(ops::to_host_doubles(base_), 1, cols_, rows_);
  }

  int64_t rows_, cols_;
  Tensor base_, x_;
};

// ---- concat: `parts` pieces [rows, cols] along dim 0 or 1 ---------------------------------
class ConcatCase : public ByteCopyCase {
 public:
  ConcatCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : ByteCopyCase("concat", p, device, version),
        parts_(size(p, "parts", 1, 65536)),  // one tensor each: a count, not a size
        rows_(size(p, "rows")),
        cols_(size(p, "cols")),
        dim_(param_int(p, "dim")) {
    BENCHSUITE_CHECK_ARG(dim_ >= -2 && dim_ <= 1, "concat: dim=", dim_, " must be 0 or 1 (or -2, -1)");
    if (dim_ < 0) dim_ += 2;
    for (int64_t i = 0; i < parts_; ++i) xs_.push_back(input({rows_, cols_}, dtype_, device, seed + i));
    out_ = Tensor::empty(ops::check_concat_args(xs_, dim_), dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_concat(version_, xs_, dim_, out_, stream); }

 private:
  std::vector<double> reference() const override {
    std::vector<double> ref(static_cast<size_t>(out_.numel()));
    const int64_t out_cols = dim_ == 0 ? cols_ : parts_ * cols_;
    for (int64_t i = 0; i < parts_; ++i) {
      const std::vector<double> x = ops::to_host_doubles(xs_[i]);
      const int64_t row0 = dim_ == 0 ? i * rows_ : 0, col0 = dim_ == 0 ? 0 : i * cols_;
      for (int64_t r = 0; r < rows_; ++r)
        for (int64_t c = 0; c < cols_; ++c) ref[(row0 + r) * out_cols + col0 + c] = x[r * cols_ + c];
    }
    return ref;
  }

  int64_t parts_, rows_, cols_, dim_;
  std::vector<Tensor> xs_;
};

template <class Case>
std::function<std::unique_ptr<CaseInstance>(const Params&, Device, const std::string&, uint64_t)> make() {
  return [](const Params& p, Device d, const std::string& v, uint64_t s) {
    return std::unique_ptr<CaseInstance>(new Case(p, d, v, s));
  };
}

}  // namespace

BENCHSUITE_REGISTER_CASES(manipulation) {
  using case_helpers::both_devices;
  using case_helpers::op_versions_fn;
  const ParamValue f32 = std::string("float32");
  families.push_back({"transpose", "ops", "x [batch, rows, cols] -> contiguous [batch, cols, rows]",
                      {{"batch", "int", int64_t{1}, "matrices transposed independently", 1},
                       {"rows", "int", int64_t{4096}, "rows of each input matrix"},
                       {"cols", "int", int64_t{4096}, "columns of each input matrix"},
                       {"dtype", "str", f32, "element type (any: bytes are moved)"}},
                      both_devices(), op_versions_fn("transpose"), make<TransposeCase>()});
  families.push_back({"concat", "ops", "join `parts` [rows, cols] tensors along dim into a new tensor",
                      {{"parts", "int", int64_t{4}, "number of input tensors", 1},
                       {"rows", "int", int64_t{1024}, "rows of each input"},
                       {"cols", "int", int64_t{4096}, "columns of each input"},
                       {"dim", "int", int64_t{0}, "0: stack rows, 1: side by side"},
                       {"dtype", "str", f32, "element type (any: bytes are moved)"}},
                      both_devices(), op_versions_fn("concat"), make<ConcatCase>()});
  families.push_back({"contiguous", "ops", "contiguous copy of a transposed [rows, cols] view (strides [1, rows])",
                      {{"rows", "int", int64_t{4096}, "rows of the view"},
                       {"cols", "int", int64_t{4096}, "columns of the view"},
                       {"dtype", "str", f32, "element type (any: bytes are moved)"}},
                      both_devices(), op_versions_fn("contiguous"), make<ContiguousCase>()});
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "transpose", {{"batch", int64_t{2}}, {"rows", int64_t{37}},
                                                        {"cols", int64_t{53}}});
  case_helpers::set_test_params(families, "concat", {{"parts", int64_t{3}}, {"rows", int64_t{7}},
                                                     {"cols", int64_t{33}}, {"dim", int64_t{1}}});
  case_helpers::set_test_params(families, "contiguous", {{"rows", int64_t{37}}, {"cols", int64_t{53}}});
}

}  // namespace benchsuite
