// The built-in case families (ops and harness validation cases) and measure_case().
#include "harness/cases.h"
#include "harness/case_helpers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "common/cuda_runtime.h"
#include "common/error.h"
#include "harness/interrupt.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite {

namespace detail {
static const ParamValue& param(const Params& p, const std::string& name) {
  auto it = p.find(name);
  BENCHSUITE_CHECK(it != p.end(), "missing resolved parameter ", name);
  return it->second;
}
int64_t param_int(const Params& p, const std::string& name) { return std::get<int64_t>(param(p, name)); }
double param_float(const Params& p, const std::string& name) { return std::get<double>(param(p, name)); }
std::string param_str(const Params& p, const std::string& name) { return std::get<std::string>(param(p, name)); }
}  // namespace detail

namespace case_helpers {

namespace {
// Inputs of the case being built whose fill is deferred; measure_case fills them once the
// case has allocated everything (thread-local: cases may be built on several threads).
thread_local std::vector<std::weak_ptr<Storage>> t_deferred_inputs;

void fill_deferred_inputs() {
  std::vector<std::weak_ptr<Storage>> pending;
  pending.swap(t_deferred_inputs);
  for (const std::weak_ptr<Storage>& weak : pending)
    if (const std::shared_ptr<Storage> storage = weak.lock()) storage->data();  // runs the fill
}
}  // namespace

std::vector<VersionDescription> op_version_list(const std::string& op, DeviceType device) {
  std::vector<VersionDescription> out;
  for (const ops::OpVersion* v : ops::versions_of(op, device)) {
    VersionDescription d{v->version, v->description, {}};
    for (DType t : v->dtypes) d.dtypes.push_back(dtype_name(t));
    out.push_back(d);
  }
  return out;
}

Tensor random_input(const Shape& shape, DType dtype, Device device, uint64_t seed) {
  Tensor t = Tensor::empty(shape, dtype, device);
  // Filled on first use, after the case has allocated all of its buffers (measure_case
  // holds an AllocationBudget): a case too large for memory fails before any filling.
  // The fill writes through a non-owning view of the raw buffer (no cycle, no recursion).
  Storage* storage = t.storage().get();
  storage->defer_init([storage, shape, dtype, device, seed] {
    const Tensor view = Tensor::from_external(storage->raw_data(), shape, {}, dtype, device, nullptr);
    ops::CreationParams p;
    p.seed = seed;
    p.a = 0.0f;  // mean
    p.b = 1.0f;  // standard deviation
    ops::run_creation(ops::select_version("randn", device, dtype, ""), view, p);
  });
  t_deferred_inputs.push_back(t.storage());
  return t;
}

void poison(const Tensor& t) {
  if (t.numel() == 0) return;
  ops::CreationParams p;
  p.value = is_floating(t.dtype()) ? NAN : 77.0;
  ops::run_creation(ops::select_version("fill", t.device(), t.dtype(), ""), t, p);
}

void sync_if_cuda(Device device) {
  if (device.is_cuda()) cuda_synchronize(device.index);
}

int64_t positive(const Params& p, const char* family, const char* name, int64_t lowest, int64_t highest) {
  const int64_t v = detail::param_int(p, name);
  BENCHSUITE_CHECK_ARG(v >= lowest, family, ": ", name, "=", v, " must be >= ", lowest);
  BENCHSUITE_CHECK_ARG(v <= highest, family, ": ", name, "=", v, " must be <= ", highest);
  return v;
}

std::vector<DeviceType> both_devices() { return {DeviceType::cpu, DeviceType::cuda}; }

Counters memory_counters(double bytes_read, double bytes_written, double items, const char* item_unit) {
  Counters c;
  c.bytes_read = bytes_read;
  c.bytes_written = bytes_written;
  c.items = items;
  c.item_unit = item_unit;
  return c;
}

std::function<std::vector<VersionDescription>(DeviceType)> op_versions_fn(const std::string& op) {
  return [op](DeviceType d) { return op_version_list(op, d); };
}

}  // namespace case_helpers

namespace {

using detail::param_int;
using detail::param_str;
using namespace case_helpers;

const Device kHost{DeviceType::cpu, 0};

// ---- creation: fill / randn ------------------------------------------------------------
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
    Counters c;
    c.bytes_written = static_cast<double>(out_.nbytes());
    c.bytes_read = 0;
    c.items = static_cast<double>(out_.numel());
    c.item_unit = "elements";
    return c;
  }
  std::optional<ops::Correctness> check() override {
    if (op_ == "fill") {
      poison(out_);
    } else {
      ops::CreationParams zero;
      ops::run_creation(ops::select_version("fill", out_.device(), dtype_, ""), out_, zero);
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

// ---- add / mul ---------------------------------------------------------------------------
class BinaryCase : public CaseInstance {
 public:
  BinaryCase(BinaryOp op, const Params& p, Device device, const std::string& version, uint64_t seed)
      : op_(op),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version(op == BinaryOp::add ? "add" : "mul", device, dtype_, version)) {
    const int64_t n = positive(p, op == BinaryOp::add ? "add" : "mul", "n");
    a_ = random_input({n}, dtype_, device, seed);
    b_ = random_input({n}, dtype_, device, seed + 1);
    out_ = Tensor::empty({n}, dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_binary(version_, a_, b_, out_, stream); }
  Counters counters() const override {
    Counters c;
    const double bytes = static_cast<double>(out_.nbytes());
    c.bytes_read = 2 * bytes;
    c.bytes_written = bytes;  // memory-bound: no FLOP counter, bandwidth is the figure
    c.items = static_cast<double>(out_.numel());
    c.item_unit = "elements";
    return c;
  }
  std::optional<ops::Correctness> check() override {
    poison(out_);
    run(nullptr);
    sync_if_cuda(out_.device());
    std::vector<double> a = ops::to_host_doubles(a_), b = ops::to_host_doubles(b_), ref(a.size());
    for (size_t i = 0; i < a.size(); ++i) ref[i] = binary(op_, a[i], b[i]);
    return ops::compare(ops::to_host_doubles(out_), ref, ops::default_tolerance(dtype_));
  }

 private:
  BinaryOp op_;
  DType dtype_;
  const ops::OpVersion& version_;
  Tensor a_, b_, out_;
};

// ---- axpy ------------------------------------------------------------------------------
class AxpyCase : public CaseInstance {
 public:
  AxpyCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : dtype_(parse_dtype(param_str(p, "dtype"))), version_(ops::select_version("axpy", device, dtype_, version)) {
    const int64_t n = positive(p, "axpy", "n");
    x_ = random_input({n}, dtype_, device, seed);
    y_ = random_input({n}, dtype_, device, seed + 1);
    out_ = Tensor::empty({n}, dtype_, device);
  }
  void run(StreamHandle stream) override {
    version_.impl_as<ops::AxpyImpl>()(kAlpha, x_, y_, out_, stream);
  }
  Counters counters() const override {
    return memory_counters(2.0 * static_cast<double>(out_.nbytes()), static_cast<double>(out_.nbytes()),
                           static_cast<double>(out_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    poison(out_);
    run(nullptr);
    sync_if_cuda(out_.device());
    std::vector<double> x = ops::to_host_doubles(x_), y = ops::to_host_doubles(y_), ref(x.size());
    for (size_t i = 0; i < x.size(); ++i) ref[i] = static_cast<double>(kAlpha) * x[i] + y[i];
    return ops::compare(ops::to_host_doubles(out_), ref, ops::default_tolerance(dtype_));
  }

 private:
  static constexpr float kAlpha = 0.75f;
  DType dtype_;
  const ops::OpVersion& version_;
  Tensor x_, y_, out_;
};

// ---- activations ---------------------------------------------------------------------------
class ActivationCase : public CaseInstance {
 public:
  ActivationCase(Activation kind, const Params& p, Device device, const std::string& version, uint64_t seed)
      : kind_(kind),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version(activation_name(kind), device, dtype_, version)) {
    const int64_t n = positive(p, activation_name(kind), "n");
    x_ = random_input({n}, dtype_, device, seed);
    y_ = Tensor::empty({n}, dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_unary(version_, x_, y_, stream); }
  Counters counters() const override {
    return memory_counters(static_cast<double>(x_.nbytes()), static_cast<double>(y_.nbytes()),
                           static_cast<double>(x_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    poison(y_);
    run(nullptr);
    sync_if_cuda(y_.device());
    std::vector<double> x = ops::to_host_doubles(x_), ref(x.size());
    for (size_t i = 0; i < x.size(); ++i) ref[i] = activation<double>(kind_, x[i]);
    return ops::compare(ops::to_host_doubles(y_), ref, ops::default_tolerance(dtype_));
  }

 private:
  Activation kind_;
  DType dtype_;
  const ops::OpVersion& version_;
  Tensor x_, y_;
};

// ---- reductions ----------------------------------------------------------------------------
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
    poison(out_);
    run(nullptr);
    sync_if_cuda(out_.device());
    std::vector<float> a = ops::to_host_floats(a_), b = binary_ ? ops::to_host_floats(b_) : std::vector<float>();
    std::vector<float> ref(a.size());
    reference_(a.data(), binary_ ? b.data() : nullptr, ref.data(), rows_, cols_);
    return ops::compare(ops::to_host_doubles(out_), std::vector<double>(ref.begin(), ref.end()),
                        ops::default_tolerance(dtype_));
  }

 private:
  bool binary_;
  Reference reference_;
  DType dtype_;
  const ops::OpVersion& version_;
  int64_t rows_, cols_;
  Tensor a_, b_, out_;
};

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
    mean_ = Tensor::empty({rows_}, DType::float32, device);  // saved statistics: float32 for every dtype
    rstd_ = Tensor::empty({rows_}, DType::float32, device);
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
    auto append = [](std::vector<double>& to, const std::vector<float>& from) { to.insert(to.end(), from.begin(), from.end()); };
    auto append_t = [&](const Tensor& t) {
      std::vector<double> d = ops::to_host_doubles(t);
      got.insert(got.end(), d.begin(), d.end());
    };
    if (!backward_ && rms_) {
      cpu::rmsnorm_reference(x.data(), gamma.data(), out.data(), s1.data(), rows_, cols_, kEps);
      append(ref, out), append(ref, s1), append_t(y_), append_t(rstd_);
    } else if (!backward_) {
      cpu::layernorm_reference(x.data(), gamma.data(), beta.data(), out.data(), s1.data(), s2.data(), rows_, cols_, kEps);
      append(ref, out), append(ref, s1), append(ref, s2), append_t(y_), append_t(mean_), append_t(rstd_);
    } else if (rms_) {
      cpu::rmsnorm_backward_reference(dy.data(), x.data(), gamma.data(), rstd.data(), out.data(), p1.data(), rows_, cols_);
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

// ---- matmul ------------------------------------------------------------------------------
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

// ---- copy: the bandwidth ceiling the memory-bound ops are compared with -----------------
class CopyCase : public CaseInstance {
 public:
  CopyCase(const Params& p, Device device, uint64_t seed) : device_(device) {
    const int64_t n = positive(p, "copy", "n");
    src_ = random_input({n}, DType::float32, device, seed);
    dst_ = Tensor::empty({n}, DType::float32, device);
  }
  void run(StreamHandle stream) override {
    if (src_.nbytes() == 0) return;
#ifdef BENCHSUITE_WITH_CUDA
    if (device_.is_cuda()) {
      cuda_memcpy_d2d_async(dst_.data_ptr(), src_.data_ptr(), src_.nbytes(), stream);
      return;
    }
#endif
    cpu::copy_bytes(dst_.data_ptr(), src_.data_ptr(), src_.nbytes());
  }
  Counters counters() const override {
    return memory_counters(static_cast<double>(src_.nbytes()), static_cast<double>(dst_.nbytes()),
                           static_cast<double>(src_.numel()));
  }
  std::optional<ops::Correctness> check() override {
    poison(dst_);
    run(nullptr);
    sync_if_cuda(device_);
    return ops::compare(ops::to_host_doubles(dst_), ops::to_host_doubles(src_), 0.0);
  }

 private:
  Device device_;
  Tensor src_, dst_;
};

// ---- harness validation cases of known duration ----------------------------------------
#ifdef BENCHSUITE_WITH_CUDA
class SpinCase : public CaseInstance {
 public:
  SpinCase(const Params& p, Device device) : device_(device), cycles_(positive(p, "spin", "cycles")) {
    elapsed_ = Tensor::empty({1}, DType::int64, device);
  }
  void run(StreamHandle stream) override {
    cuda::spin_cycles(cycles_, static_cast<unsigned long long*>(elapsed_.data_ptr()), stream);
  }
  std::map<std::string, double> extra() override {
    const CudaDeviceInfo info = cuda_device_info(device_.index);
    const double clock_hz = info.sm_clock_khz * 1e3;
    sync_if_cuda(device_);
    std::vector<double> elapsed = ops::to_host_doubles(elapsed_);
    return {{"cycles", static_cast<double>(cycles_)},
            {"sm_clock_hz", clock_hz},
            {"expected_seconds", static_cast<double>(cycles_) / clock_hz},
            {"last_globaltimer_seconds", elapsed[0] * 1e-9}};
  }

 private:
  Device device_;
  int64_t cycles_;
  Tensor elapsed_;
};
#endif

class BusyWaitCase : public CaseInstance {
 public:
  explicit BusyWaitCase(const Params& p) : nanoseconds_(positive(p, "busy_wait", "nanoseconds", 0, kMaxWait)) {}
  static constexpr int64_t kMaxWait = int64_t{60} * 1000000000;  // a timer check, not a sleep: 60 s
  void run(StreamHandle) override { cpu::spin_for(nanoseconds_); }
  std::map<std::string, double> extra() override {
    return {{"expected_seconds", static_cast<double>(nanoseconds_) * 1e-9}};
  }

 private:
  int64_t nanoseconds_;
};


std::function<std::vector<VersionDescription>(DeviceType)> single_version(const std::string& description) {
  return [description](DeviceType) { return std::vector<VersionDescription>{{"v1", description, {"float32"}}}; };
}


void require_v1(const std::string& family, const std::string& version) {
  BENCHSUITE_CHECK_ARG(version.empty() || version == "v1" || version == "default", family, ": impl='", version,
                       "' is not a version (known: v1)");
}

std::vector<CaseFamily> build_families() {
  std::vector<CaseFamily> f;
  const ParamValue f32 = std::string("float32");
  f.push_back({"fill", "ops", "write one constant into a buffer", {{"n", "int", int64_t{1 << 24}, "elements"},
                                                                   {"dtype", "str", f32, "element type"}},
               both_devices(), op_versions_fn("fill"),
               [](const Params& p, Device d, const std::string& v, uint64_t) {
                 return std::unique_ptr<CaseInstance>(new CreationCase("fill", p, d, v));
               }});
  f.push_back({"randn", "ops", "counter-based normal random numbers", {{"n", "int", int64_t{1 << 24}, "elements"},
                                                                       {"dtype", "str", f32, "element type"}},
               both_devices(), op_versions_fn("randn"),
               [](const Params& p, Device d, const std::string& v, uint64_t) {
                 return std::unique_ptr<CaseInstance>(new CreationCase("randn", p, d, v));
               }});
  const std::vector<ParamSpec> vector_params = {{"n", "int", int64_t{1 << 24}, "elements"},
                                                 {"dtype", "str", f32, "element type"}};
  for (BinaryOp op : {BinaryOp::add, BinaryOp::mul}) {
    const char* name = op == BinaryOp::add ? "add" : "mul";
    f.push_back({name, "ops", op == BinaryOp::add ? "out = a + b" : "out = a * b", vector_params, both_devices(),
                 op_versions_fn(name), [op](const Params& p, Device d, const std::string& v, uint64_t s) {
                   return std::unique_ptr<CaseInstance>(new BinaryCase(op, p, d, v, s));
                 }});
  }
  f.push_back({"axpy", "ops", "out = alpha * x + y", vector_params, both_devices(), op_versions_fn("axpy"),
               [](const Params& p, Device d, const std::string& v, uint64_t s) {
                 return std::unique_ptr<CaseInstance>(new AxpyCase(p, d, v, s));
               }});
  for (Activation kind : {Activation::relu, Activation::gelu, Activation::silu}) {
    const char* name = activation_name(kind);
    f.push_back({name, "ops", std::string(name) + " activation, elementwise", vector_params, both_devices(),
                 op_versions_fn(name), [kind](const Params& p, Device d, const std::string& v, uint64_t s) {
                   return std::unique_ptr<CaseInstance>(new ActivationCase(kind, p, d, v, s));
                 }});
  }
  for (auto [name, kind] : {std::pair<const char*, Reduction>{"sum", Reduction::sum}, {"mean", Reduction::mean},
                            {"max", Reduction::max}}) {
    f.push_back({name, "ops", std::string(name) + " over the last axis of [rows, cols], or over all elements",
                 {{"rows", "int", int64_t{4096}, "rows", 1}, {"cols", "int", int64_t{4096}, "columns (reduced axis)", 1},
                  {"all", "bool", false, "reduce every element instead of the last axis"},
                  {"dtype", "str", f32, "element type"}},
                 both_devices(), op_versions_fn(name),
                 [kind = kind, name = name](const Params& p, Device d, const std::string& v, uint64_t s) {
                   return std::unique_ptr<CaseInstance>(new ReduceCase(kind, name, p, d, v, s));
                 }});
  }
  const std::vector<ParamSpec> row_params = {{"rows", "int", int64_t{4096}, "rows"},
                                              {"cols", "int", int64_t{4096}, "columns (normalised axis)"},
                                              {"dtype", "str", f32, "element type"}};
  struct RowOp {
    const char* name;
    const char* description;
    bool binary;
    RowOpCase::Reference reference;
    const char* forward;  // backward ops: y = forward(random x)
  };
  for (const RowOp& op : {RowOp{"softmax", "softmax over the last axis of a [rows, cols] matrix", false,
                                [](const float* x, const float*, float* y, int64_t rows, int64_t cols) {
                                  cpu::softmax_f32_reference(x, y, rows, cols);
                                },
                                nullptr},
                          RowOp{"softmax_backward", "dx = y * (dy - sum(dy * y)) per row", true,
                                cpu::softmax_backward_reference, "softmax"},
                          RowOp{"log_softmax", "x - max - log(sum(exp(x - max))) per row", false,
                                [](const float* x, const float*, float* y, int64_t rows, int64_t cols) {
                                  cpu::log_softmax_reference(x, y, rows, cols);
                                },
                                nullptr},
                          RowOp{"log_softmax_backward", "dx = dy - exp(y) * sum(dy) per row", true,
                                cpu::log_softmax_backward_reference, "log_softmax"}}) {
    f.push_back({op.name, "ops", op.description, row_params, both_devices(), op_versions_fn(op.name),
                 [op](const Params& p, Device d, const std::string& v, uint64_t s) {
                   return std::unique_ptr<CaseInstance>(new RowOpCase(op.name, op.binary, op.reference, op.forward, p, d, v, s));
                 }});
  }
  for (bool rms : {false, true}) {
    for (bool backward : {false, true}) {
      const std::string name = std::string(rms ? "rmsnorm" : "layernorm") + (backward ? "_backward" : "");
      f.push_back({name, "ops",
                   std::string(rms ? "RMSNorm" : "LayerNorm") + (backward ? " backward (dx and parameter gradients)"
                                                                          : " forward (saves row statistics)"),
                   row_params, both_devices(), op_versions_fn(name),
                   [rms, backward](const Params& p, Device d, const std::string& v, uint64_t s) {
                     return std::unique_ptr<CaseInstance>(new NormCase(rms, backward, p, d, v, s));
                   }});
    }
  }
  f.push_back({"matmul", "ops", "C[batch,m,n] = A[batch,m,k] @ B[batch,k,n], row-major",
               {{"m", "int", int64_t{1024}, "rows of A and C"}, {"n", "int", int64_t{1024}, "columns of B and C"},
                {"k", "int", int64_t{1024}, "inner dimension"}, {"batch", "int", int64_t{1}, "independent products", 1},
                {"dtype", "str", f32, "element type"}},
               both_devices(), op_versions_fn("matmul"),
               [](const Params& p, Device d, const std::string& v, uint64_t s) {
                 return std::unique_ptr<CaseInstance>(new MatmulCase(p, d, v, s));
               }});
  f.push_back({"copy", "memory", "device-to-device copy: the measured bandwidth ceiling",
               {{"n", "int", int64_t{1 << 26}, "float32 elements"}}, both_devices(),
               [](DeviceType d) {
                 return std::vector<VersionDescription>{
                     {"v1", d == DeviceType::cpu ? "memcpy in OpenMP chunks" : "cudaMemcpyAsync device to device",
                      {"float32"}}};
               },
               [](const Params& p, Device d, const std::string& v, uint64_t s) {
                 require_v1("copy", v);
                 return std::unique_ptr<CaseInstance>(new CopyCase(p, d, s));
               }});
  f.push_back({"spin", "harness", "one GPU thread busy-waits a fixed number of SM cycles (clock64)",
               {{"cycles", "int", int64_t{1000000}, "SM clock cycles"}}, {DeviceType::cuda},
               single_version("single-thread clock64 loop"),
               [](const Params& p, Device d, const std::string& v, uint64_t) -> std::unique_ptr<CaseInstance> {
                 require_v1("spin", v);
#ifdef BENCHSUITE_WITH_CUDA
                 require_cuda("spin");
                 return std::unique_ptr<CaseInstance>(new SpinCase(p, d));
#else
                 require_cuda("spin");
                 return nullptr;
#endif
               }});
  f.push_back({"busy_wait", "harness", "the host busy-waits a fixed time on steady_clock",
               {{"nanoseconds", "int", int64_t{100000}, "wait per call"}}, {DeviceType::cpu},
               single_version("steady_clock loop"),
               [](const Params& p, Device, const std::string& v, uint64_t) {
                 require_v1("busy_wait", v);
                 return std::unique_ptr<CaseInstance>(new BusyWaitCase(p));
               }});
  add_manipulation_cases(f);
  add_nn_cases(f);
  add_scan_cases(f);
  add_attention_cases(f);
  add_memory_cases(f);
  return f;
}

}  // namespace

const std::vector<CaseFamily>& case_families() {
  static const std::vector<CaseFamily> families = build_families();
  return families;
}

const CaseFamily& find_case_family(const std::string& name) {
  std::string known;
  for (const CaseFamily& f : case_families()) {
    if (f.name == name) return f;
    known += (known.empty() ? "" : ", ") + f.name;
  }
  BENCHSUITE_THROW_ARG("case='", name, "' is not a registered case (known: ", known, ")");
}

Params resolve_params(const CaseFamily& family, const Params& given) {
  Params resolved;
  for (const auto& [name, value] : given) {
    auto spec = std::find_if(family.params.begin(), family.params.end(),
                             [&](const ParamSpec& s) { return s.name == name; });
    if (spec == family.params.end()) {
      std::string known;
      for (const ParamSpec& s : family.params) known += (known.empty() ? "" : ", ") + s.name;
      BENCHSUITE_THROW_ARG(family.name, ": unknown parameter '", name, "' (known: ", known, ")");
    }
    ParamValue v = value;
    if (spec->type == "float" && std::holds_alternative<int64_t>(v)) v = static_cast<double>(std::get<int64_t>(v));
    if (spec->type == "int" && std::holds_alternative<double>(v)) {
      const double d = std::get<double>(v);
      BENCHSUITE_CHECK_ARG(std::isfinite(d) && d == std::floor(d), family.name, ": ", name, "=", d,
                           " must be an integer");
      // 2^63 itself does not fit: the cast would be undefined (and come out negative).
      BENCHSUITE_CHECK_ARG(d >= -9223372036854775808.0 && d < 9223372036854775808.0, family.name, ": ", name, "=",
                           d, " is out of the int64 range");
      v = static_cast<int64_t>(d);
    }
    const bool ok = (spec->type == "int" && std::holds_alternative<int64_t>(v)) ||
                    (spec->type == "float" && std::holds_alternative<double>(v)) ||
                    (spec->type == "str" && std::holds_alternative<std::string>(v)) ||
                    (spec->type == "bool" && std::holds_alternative<bool>(v));
    BENCHSUITE_CHECK_ARG(ok, family.name, ": parameter ", name, " must be of type ", spec->type);
    if (spec->type == "int")
      BENCHSUITE_CHECK_ARG(std::get<int64_t>(v) >= spec->min_int, family.name, ": ", name, "=",
                           std::get<int64_t>(v), " must be >= ", spec->min_int);
    resolved[name] = v;
  }
  for (const ParamSpec& s : family.params)
    if (!resolved.count(s.name)) resolved[s.name] = s.default_value;
  return resolved;
}

static std::string params_str(const Params& params) {
  std::ostringstream out;
  bool first = true;
  for (const auto& [key, value] : params) {
    out << (first ? "" : ", ") << key << "=";
    std::visit([&out](const auto& v) { out << v; }, value);
    first = false;
  }
  return out.str();
}

CaseResult measure_case(const std::string& name, const Params& params, Device device, const std::string& version,
                        const MeasureSettings& settings, bool check) {
  settings.validate();
  const CaseFamily& family = find_case_family(name);
  if (std::find(family.devices.begin(), family.devices.end(), device.type) == family.devices.end()) {
    if (device.is_cuda() && !cuda_status().available) require_cuda(name.c_str());
    BENCHSUITE_UNSUPPORTED("unsupported_device", name, ": device=", device.str(), " is not supported by this case");
  }
  if (device.is_cuda()) require_cuda(name.c_str());
  CaseResult result;
  result.params = resolve_params(family, params);
  size_t free_before = 0, free_after = 0, total = 0;
  if (device.is_cuda()) cuda_mem_info(device.index, &free_before, &total);
  reset_memory_stats(device.type);
  result.host_peak_rss_reset = reset_host_peak_rss();

  std::random_device entropy;
  const uint64_t seed = (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
  std::unique_ptr<CaseInstance> instance;
  try {
    // Inputs fill lazily (random_input), so the budget sees every buffer before any work.
    const size_t available = device.is_cuda() ? free_before : host_available_memory();
    std::optional<AllocationBudget> budget;
    if (available != 0) budget.emplace(device.type, available);
    case_helpers::t_deferred_inputs.clear();
    instance = family.make(result.params, device, version, seed);
  } catch (const Error& e) {
    // A size that overflows is found deep in a tensor's shape; say which parameters made it.
    if (e.reason() != "size_overflow") throw;
    throw Error(ErrorKind::invalid_argument, detail::str_cat(name, ": ", params_str(result.params), ": ", e.message()),
                e.file().c_str(), e.line(), e.reason());
  }
  case_helpers::fill_deferred_inputs();  // everything fits: fill the inputs before check and timing
  const std::vector<std::string> op_names = ops::op_names();
  const auto dtype = result.params.find("dtype");
  if (std::find(op_names.begin(), op_names.end(), name) != op_names.end() && dtype != result.params.end()) {
    // Op cases run what dispatch chose: the named version or the op's default.
    const ops::OpVersion& chosen =
        ops::select_version(name, device, parse_dtype(std::get<std::string>(dtype->second)), version);
    result.version = chosen.version;
    result.version_description = chosen.description;
  } else {
    const VersionDescription only = family.versions(device.type).front();
    result.version = only.version;
    result.version_description = only.description;
  }
  result.counters = instance->counters();
  if (check && !interrupt_requested()) {
    result.correctness = instance->check();
    if (result.correctness && !result.correctness->passed) {
      result.memory = memory_stats(device.type);
      return result;  // never time a version that gave wrong answers
    }
  }
  if (interrupt_requested()) {  // Ctrl-C while building or checking: nothing timed yet
    result.interrupted = true;
    result.memory = memory_stats(device.type);
    return result;
  }
  CaseInstance* raw = instance.get();
  if (device.is_cuda()) {
    const std::function<void(StreamHandle)> run = [raw](StreamHandle s) { raw->run(s); };
    result.measurement = measure_cuda_with_clocks(run, settings, device.index, nullptr, &result.clocks);
    cuda_mem_info(device.index, &free_after, &total);
    result.device_memory_delta = static_cast<int64_t>(free_before) - static_cast<int64_t>(free_after);
    if (settings.energy && !settings.smoke && result.measurement.has_stats && !interrupt_requested())
      result.energy = measure_energy_cuda(run, settings, device.index, nullptr, result.measurement.stats.median);
  } else {
    const std::function<void()> run = [raw] { raw->run(nullptr); };
    result.measurement = measure_cpu(run, settings);
    result.clocks = clocks_unavailable("clock sampling reads NVML: GPU cases only");
    if (settings.energy && !settings.smoke && result.measurement.has_stats && !interrupt_requested())
      result.energy = measure_energy_cpu(run, settings, result.measurement.stats.median);
  }
  result.measured = true;
  result.interrupted = interrupt_requested();
  if (result.interrupted) result.energy.reset();  // a window cut short measures nothing
  result.extra = instance->extra();
  result.memory = memory_stats(device.type);
  result.host_peak_rss = host_peak_rss_bytes();
  return result;
}

}  // namespace benchsuite
