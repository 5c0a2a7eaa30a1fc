// Benchmark case of the matmul family: C[batch,m,n] = A[batch,m,k] @ B[batch,k,n], counted
// in FLOPs, checked on sampled rows against a double-precision reference.
#include <algorithm>
#include <random>

#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/dispatch.h"
#include "ops/matmul/matmul.h"

namespace benchsuite {

namespace {
using detail::param_str;
using namespace case_helpers;

class MatmulCase : public CaseInstance {
 public:
  MatmulCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version("matmul", device, dtype_, version)),
        batch_(positive(p, "matmul", "batch", 1)),
        m_(positive(p, "matmul", "m")),
        n_(positive(p, "matmul", "n")),
        k_(positive(p, "matmul", "k")),
        seed_(seed) {
    // The reference version is O(MNK) in scalar loops: past ~2 GFLOP it is a waste of
    // the run's time, so it is skipped rather than measured.
    if (version_.reference && flops() > 2.2e9)
      BENCHSUITE_UNSUPPORTED("too_large_for_version", "matmul ", version_.version,
                             " (reference) is limited to 2.2 GFLOP; batch=", batch_, ", m=", m_, ", n=", n_, ", k=",
                             k_, " needs ", flops() / 1e9, " GFLOP");
    const Shape lead = batch_ > 1 ? Shape{batch_} : Shape{};
    auto with_lead = [&](int64_t r, int64_t c) {
      Shape s = lead;
      s.push_back(r);
      s.push_back(c);
      return s;
    };
    // C first: an m x n that cannot exist is an argument error, not an oom on A or B.
    c_ = Tensor::empty(with_lead(m_, n_), dtype_, device);
    a_ = random_input(with_lead(m_, k_), dtype_, device, seed);
    b_ = random_input(with_lead(k_, n_), dtype_, device, seed + 1);
  }
  double flops() const { return 2.0 * batch_ * m_ * n_ * k_; }
  void run(StreamHandle stream) override { ops::run_binary(version_, a_, b_, c_, stream); }
  Counters counters() const override {
    Counters c;
    c.flops = flops();
    c.bytes_read = static_cast<double>(a_.nbytes() + b_.nbytes());
    c.bytes_written = static_cast<double>(c_.nbytes());
    c.math_dtype = version_.math.empty() ? dtype_name(dtype_) : version_.math;
    return c;
  }
  std::optional<ops::Correctness> check() override {
    poison(c_);
    run(nullptr);
    sync_if_cuda(c_.device());
    // Up to 24 random rows of the first and last batch entries against a double-precision
    // reference: O(rows * N * K) however large the product.
    std::vector<float> a = ops::to_host_floats(a_), b = ops::to_host_floats(b_);
    std::vector<double> c = ops::to_host_doubles(c_);
    std::mt19937_64 pick(seed_);
    std::vector<double> out, ref, row(static_cast<size_t>(n_));
    for (int64_t entry : {int64_t{0}, batch_ - 1}) {
      const int64_t count = std::min<int64_t>(m_, 24);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t r = count == m_ ? i : static_cast<int64_t>(pick() % m_);
        cpu::matmul_row_f64(a.data() + entry * m_ * k_, b.data() + entry * k_ * n_, row.data(), r, n_, k_);
        ref.insert(ref.end(), row.begin(), row.end());
        const auto first = c.begin() + entry * m_ * n_ + r * n_;
        out.insert(out.end(), first, first + n_);
      }
      if (batch_ == 1) break;
    }
    const double tolerance = version_.tolerance > 0 ? version_.tolerance : ops::default_tolerance(dtype_);
    return ops::compare(out, ref, tolerance);
  }

 private:
  DType dtype_;
  const ops::OpVersion& version_;
  int64_t batch_, m_, n_, k_;
  uint64_t seed_;
  Tensor a_, b_, c_;
};
}  // namespace

BENCHSUITE_REGISTER_CASES(matmul) {
  std::vector<CaseFamily>& f = families;
  const ParamValue f32 = std::string("float32");
  f.push_back({"matmul", "ops", "C[batch,m,n] = A[batch,m,k] @ B[batch,k,n], row-major",
               {{"m", "int", int64_t{1024}, "rows of A and C"}, {"n", "int", int64_t{1024}, "columns of B and C"},
                {"k", "int", int64_t{1024}, "inner dimension"}, {"batch", "int", int64_t{1}, "independent products", 1},
                {"dtype", "str", f32, "element type"}},
               both_devices(), op_versions_fn("matmul"),
               [](const Params& p, Device d, const std::string& v, uint64_t s) {
                 return std::unique_ptr<CaseInstance>(new MatmulCase(p, d, v, s));
               }});
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "matmul", {{"m", int64_t{37}}, {"n", int64_t{53}}, {"k", int64_t{19}},
                                                     {"batch", int64_t{2}}});
}

}  // namespace benchsuite
