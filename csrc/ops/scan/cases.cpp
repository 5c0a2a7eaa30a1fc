// Case families of the scan ops: selective_scan (Mamba-style diagonal SSM recurrence) with
// real decays a = exp(-softplus(randn)) in (0, 1), an initial state h0, and the check of
// y and h_last against the sequential CPU reference.
#include <cmath>

#include "core/dtype.h"
#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/scan/scan.h"

namespace benchsuite {

namespace {
using namespace case_helpers;
using detail::param_str;

const Device kHost{DeviceType::cpu, 0};

// A size parameter of the case (every one >= 1); errors name the op.
int64_t size(const Params& p, const char* name) { return positive(p, "selective_scan", name, 1); }

class SelectiveScanCase : public CaseInstance {
 public:
  SelectiveScanCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version("selective_scan", device, dtype_, version)),
        batch_(size(p, "batch")),
        seq_len_(size(p, "seq_len")),
        dim_(size(p, "dim")),
        state_(size(p, "state")),
        chunk_(size(p, "chunk")) {
    const Shape full = {batch_, seq_len_, dim_, state_};
    x_ = random_input({batch_, seq_len_, dim_}, dtype_, device, seed);
    a_ = decays(full, seed + 1).to(device);
    b_ = random_input(full, dtype_, device, seed + 2);
    c_ = random_input({batch_, seq_len_, state_}, dtype_, device, seed + 3);
    h0_ = random_input({batch_, dim_, state_}, dtype_, device, seed + 4);
    y_ = Tensor::empty({batch_, seq_len_, dim_}, dtype_, device);
    h_last_ = Tensor::empty({batch_, dim_, state_}, dtype_, device);
    ops::check_selective_scan_args(x_, a_, b_, c_, h0_, chunk_);
    workspace_ = ops::selective_scan_workspace(version_, x_, c_, chunk_);
    sync_if_cuda(device);
  }
  void run(StreamHandle stream) override {
    ops::run_selective_scan(version_, x_, a_, b_, c_, h0_, y_, h_last_, workspace_, chunk_, stream);
  }
  Counters counters() const override {
    Counters c;
    c.bytes_read = static_cast<double>(x_.nbytes() + a_.nbytes() + b_.nbytes() + c_.nbytes() + h0_.nbytes());
    c.bytes_written = static_cast<double>(y_.nbytes() + h_last_.nbytes());
    c.flops = 3.0 * batch_ * seq_len_ * dim_ * state_;  // h = a*h + b*x, then c*h into y
    c.items = static_cast<double>(batch_ * seq_len_);
    c.item_unit = "tokens";
    c.math_dtype = dtype_name(dtype_);
    return c;
  }
  std::optional<ops::Correctness> check() override {
    run_poisoned(*this, {y_, h_last_});
    auto host = [](const Tensor& t) { return ops::to_host_floats(t); };
    const std::vector<float> x = host(x_), a = host(a_), b = host(b_), c = host(c_), h0 = host(h0_);
    std::vector<float> y(x.size()), h_last(h0.size());
    cpu::selective_scan_reference(x.data(), a.data(), b.data(), c.data(), h0.data(), y.data(), h_last.data(), batch_,
                                  seq_len_, dim_, state_);
    std::vector<double> got = ops::to_host_doubles(y_), ref(y.begin(), y.end());
    const std::vector<double> got_h = ops::to_host_doubles(h_last_);
    got.insert(got.end(), got_h.begin(), got_h.end());
    ref.insert(ref.end(), h_last.begin(), h_last.end());
    return ops::compare(got, ref, ops::default_tolerance(dtype_));
  }

 private:
  // exp(-softplus(z)), z ~ N(0, 1): decays strictly inside (0, 1) the way Mamba's
  // discretisation exp(delta * A) makes them, with delta = softplus(.) and A = -1.
  Tensor decays(const Shape& shape, uint64_t seed) const {
    Tensor t = random_input(shape, dtype_, kHost, seed);
    void* v = t.data_ptr();
    const int64_t n = t.numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) {
      const double z = load_as(v, dtype_, i);
      const double softplus = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
      store_as(v, dtype_, i, std::exp(-softplus));
    }
    return t;
  }

  DType dtype_;
  const ops::OpVersion& version_;
  int64_t batch_, seq_len_, dim_, state_, chunk_;
  Tensor x_, a_, b_, c_, h0_, y_, h_last_, workspace_;
};
}  // namespace

BENCHSUITE_REGISTER_CASES(scan) {
  const ParamValue f32 = std::string("float32");
  families.push_back(
      {"selective_scan", "ops",
       "Mamba-style selective scan: h_t = a_t*h_{t-1} + b_t*x_t, y_t = sum_n c_t[n] h_t[n] (x [B,T,D], "
       "a, b [B,T,D,N], c [B,T,N], h0 [B,D,N])",
       {{"batch", "int", int64_t{2}, "sequences (B)", 1},
        {"seq_len", "int", int64_t{2048}, "time steps (T)", 1},
        {"dim", "int", int64_t{256}, "channels (D)", 1},
        {"state", "int", int64_t{16}, "states per channel (N)", 1},
        {"chunk", "int", int64_t{64}, "time steps per chunk of the chunked versions (L)", 1},
        {"dtype", "str", f32, "element type"}},
       both_devices(), op_versions_fn("selective_scan"),
       [](const Params& p, Device d, const std::string& v, uint64_t s) {
         return std::unique_ptr<CaseInstance>(new SelectiveScanCase(p, d, v, s));
       }});
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "selective_scan", {{"batch", int64_t{1}}, {"seq_len", int64_t{37}},
                                                             {"dim", int64_t{5}}, {"state", int64_t{3}},
                                                             {"chunk", int64_t{16}}});
}

}  // namespace benchsuite
