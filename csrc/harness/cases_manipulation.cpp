// Case families of the manipulation ops: transpose, concat and contiguous (the copy of a
// transposed view). Each moves bytes only: the counters are bytes read + written and
// elements; the check is exact (every element must arrive unchanged).
#include "harness/case_helpers.h"

#include <memory>

#include "common/error.h"
#include "ops/manipulation.h"
#include "ops/ops.h"

namespace benchsuite {

namespace {

using case_helpers::positive;
using case_helpers::sync_if_cuda;
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

Counters copy_counters(double bytes_read, double bytes_written, double items) {
  Counters c;
  c.bytes_read = bytes_read;
  c.bytes_written = bytes_written;
  c.items = items;
  c.item_unit = "elements";
  return c;
}

// ---- transpose: x [batch, rows, cols] -> y [batch, cols, rows] ----------------------------
class TransposeCase : public CaseInstance {
 public:
  TransposeCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version("transpose", device, dtype_, version)),
        batch_(positive(p, "transpose", "batch", 1)),
        rows_(positive(p, "transpose", "rows")),
        cols_(positive(p, "transpose", "cols")) {
    x_ = input({batch_, rows_, cols_}, dtype_, device, seed);
    y_ = Tensor::empty({batch_, cols_, rows_}, dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_unary(version_, x_, y_, stream); }
  Counters counters() const override {
    const double bytes = static_cast<double>(x_.nbytes());
    return copy_counters(bytes, bytes, static_cast<double>(x_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    case_helpers::poison(y_);
    run(nullptr);
    sync_if_cuda(y_.device());
    const std::vector<double> x = ops::to_host_doubles(x_);
    std::vector<double> ref(x.size());
    for (int64_t b = 0; b < batch_; ++b)
      for (int64_t r = 0; r < rows_; ++r)
        for (int64_t c = 0; c < cols_; ++c)
          ref[(b * cols_ + c) * rows_ + r] = x[(b * rows_ + r) * cols_ + c];
    return ops::compare(ops::to_host_doubles(y_), ref, 0.0);
  }

 private:
  DType dtype_;
  const ops::OpVersion& version_;
  int64_t batch_, rows_, cols_;
  Tensor x_, y_;
};

// ---- contiguous: a contiguous copy of x = base.T, base [cols, rows] ------------------------
class ContiguousCase : public CaseInstance {
 public:
  ContiguousCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version("contiguous", device, dtype_, version)),
        rows_(positive(p, "contiguous", "rows")),
        cols_(positive(p, "contiguous", "cols")) {
    base_ = input({cols_, rows_}, dtype_, device, seed);
    x_ = base_.as_strided({rows_, cols_}, {1, rows_}, base_.byte_offset());
    y_ = Tensor::empty({rows_, cols_}, dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_unary(version_, x_, y_, stream); }
  Counters counters() const override {
    const double bytes = static_cast<double>(y_.nbytes());
    return copy_counters(bytes, bytes, static_cast<double>(y_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    case_helpers::poison(y_);
    run(nullptr);
    sync_if_cuda(y_.device());
    // From the contiguous base, so no strided copy (possibly the version under test)
    // makes the reference.
    const std::vector<double> base = ops::to_host_doubles(base_);
    std::vector<double> ref(base.size());
    for (int64_t r = 0; r < rows_; ++r)
      for (int64_t c = 0; c < cols_; ++c) ref[r * cols_ + c] = base[c * rows_ + r];
    return ops::compare(ops::to_host_doubles(y_), ref, 0.0);
  }

 private:
  DType dtype_;
  const ops::OpVersion& version_;
  int64_t rows_, cols_;
  Tensor base_, x_, y_;
};

// ---- concat: `parts` pieces [rows, cols] along dim 0 or 1 ---------------------------------
class ConcatCase : public CaseInstance {
 public:
  ConcatCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version("concat", device, dtype_, version)),
        parts_(positive(p, "concat", "parts", 1, 65536)),  // one tensor each: a count, not a size
        rows_(positive(p, "concat", "rows")),
        cols_(positive(p, "concat", "cols")),
        dim_(param_int(p, "dim")) {
    BENCHSUITE_CHECK_ARG(dim_ >= -2 && dim_ <= 1, "concat: dim=", dim_, " must be 0 or 1 (or -2, -1)");
    if (dim_ < 0) dim_ += 2;
    for (int64_t i = 0; i < parts_; ++i) xs_.push_back(input({rows_, cols_}, dtype_, device, seed + i));
    out_ = Tensor::empty(ops::check_concat_args(xs_, dim_), dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_concat(version_, xs_, dim_, out_, stream); }
  Counters counters() const override {
    const double bytes = static_cast<double>(out_.nbytes());
    return copy_counters(bytes, bytes, static_cast<double>(out_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    case_helpers::poison(out_);
    run(nullptr);
    sync_if_cuda(out_.device());
    std::vector<double> ref(static_cast<size_t>(out_.numel()));
    const int64_t out_cols = dim_ == 0 ? cols_ : parts_ * cols_;
    for (int64_t i = 0; i < parts_; ++i) {
      const std::vector<double> x = ops::to_host_doubles(xs_[i]);
      const int64_t row0 = dim_ == 0 ? i * rows_ : 0, col0 = dim_ == 0 ? 0 : i * cols_;
      for (int64_t r = 0; r < rows_; ++r)
        for (int64_t c = 0; c < cols_; ++c) ref[(row0 + r) * out_cols + col0 + c] = x[r * cols_ + c];
    }
    return ops::compare(ops::to_host_doubles(out_), ref, 0.0);
  }

 private:
  DType dtype_;
  const ops::OpVersion& version_;
  int64_t parts_, rows_, cols_, dim_;
  std::vector<Tensor> xs_;
  Tensor out_;
};

template <class Case>
std::function<std::unique_ptr<CaseInstance>(const Params&, Device, const std::string&, uint64_t)> make() {
  return [](const Params& p, Device d, const std::string& v, uint64_t s) {
    return std::unique_ptr<CaseInstance>(new Case(p, d, v, s));
  };
}

}  // namespace

void add_manipulation_cases(std::vector<CaseFamily>& families) {
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
}

}  // namespace benchsuite
