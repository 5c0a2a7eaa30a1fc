// Case families of the attention ops: attention and attention_backward (batch, heads,
// seq_len, head_dim, causal, dtype float32/float16/bfloat16), and attention_decode (one
// KV-cached decode step through attention_kv). FLOPs: 4*B*H*S*S*D forward
// (halved when causal), 2.5x that for the backward; bytes: the [B, H, S, D] tensors (of the
// dtype) and lse (float32) read and written. Half dtypes are checked against the float64
// reference run on their up-converted inputs, within the dtype's tolerance.
#include <cmath>

#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/attention/attention.h"
#include "ops/check.h"

namespace benchsuite {

namespace {

using detail::param_str;
using namespace case_helpers;

bool param_bool(const Params& p, const char* name) {
  const auto it = p.find(name);
  if (it == p.end()) return false;
  if (const bool* b = std::get_if<bool>(&it->second)) return *b;
  if (const int64_t* i = std::get_if<int64_t>(&it->second)) return *i != 0;
  BENCHSUITE_THROW_ARG("attention: parameter ", name, " must be a bool");
}

class AttentionCase : public CaseInstance {
 public:
  AttentionCase(bool backward, const Params& p, Device device, const std::string& version, uint64_t seed)
      : backward_(backward),
        op_(backward ? "attention_backward" : "attention"),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_attention_version(op_.c_str(), device, dtype_, positive(p, op_.c_str(), "head_dim", 1),
                                               version)),
        batch_(positive(p, op_.c_str(), "batch", 1)),
        heads_(positive(p, op_.c_str(), "heads", 1)),
        seq_len_(positive(p, op_.c_str(), "seq_len", 1)),
        head_dim_(positive(p, op_.c_str(), "head_dim", 1)),
        causal_(param_bool(p, "causal")),
        scale_(static_cast<float>(ops::default_attention_scale(head_dim_))) {
    const Shape shape = {batch_, heads_, seq_len_, head_dim_};
    q_ = random_input(shape, dtype_, device, seed);
    k_ = random_input(shape, dtype_, device, seed + 1);
    v_ = random_input(shape, dtype_, device, seed + 2);
    ops::check_attention_args(op_.c_str(), q_, k_, v_, scale_);
    // The double-precision reference materialises every S x S score matrix: past ~2 GFLOP it
    // only costs the run its time, so it is skipped (the check below samples heads instead).
    if (version_.reference && counters().flops.value_or(0) > 2.2e9)
      BENCHSUITE_UNSUPPORTED("too_large_for_version", op_, " ", version_.version,
                             " (reference) is limited to 2.2 GFLOP; batch=", batch_, ", heads=", heads_,
                             ", seq_len=", seq_len_, ", head_dim=", head_dim_, " needs ",
                             counters().flops.value_or(0) / 1e9, " GFLOP");
    // The B*H*S*S workspace of the naive CUDA versions, made once here.
    workspace_ = ops::attention_workspace(version_, batch_, heads_, seq_len_, head_dim_, device);
    o_ = Tensor::empty(shape, dtype_, device);
    lse_ = Tensor::empty({batch_, heads_, seq_len_}, stats_dtype(dtype_), device);  // float64 for float64
    if (backward_) {
      dout_ = random_input(shape, dtype_, device, seed + 3);
      // The forward outputs the backward reads come from the device's most sophisticated
      // forward that runs this shape here (v3 needs sm_80+, the flash ones head_dim <= 256);
      // the reference backward in check() takes the same o and lse, so the comparison is
      // consistent whatever forward made them.
      const ops::OpVersion& forward = ops::select_attention_version("attention", device, dtype_, head_dim_, "");
      ops::run_attention(forward, q_, k_, v_, o_, lse_,
                         ops::attention_workspace(forward, batch_, heads_, seq_len_, head_dim_, device), scale_,
                         causal_);
      sync_if_cuda(device);
      ops::check_attention_backward_args(dout_, q_, o_, lse_);
      dq_ = Tensor::empty(shape, dtype_, device);
      dk_ = Tensor::empty(shape, dtype_, device);
      dv_ = Tensor::empty(shape, dtype_, device);
    }
  }
  void run(StreamHandle stream) override {
    if (backward_)
      ops::run_attention_backward(version_, dout_, q_, k_, v_, o_, lse_, dq_, dk_, dv_, workspace_, scale_, causal_,
                                  stream);
    else
      ops::run_attention(version_, q_, k_, v_, o_, lse_, workspace_, scale_, causal_, stream);
  }
  Counters counters() const override {
    const double b = static_cast<double>(batch_), h = static_cast<double>(heads_), s = static_cast<double>(seq_len_),
                 d = static_cast<double>(head_dim_);
    const double tensor = b * h * s * d * static_cast<double>(dtype_size(dtype_)),
                 lse = b * h * s * static_cast<double>(dtype_size(stats_dtype(dtype_)));
    double flops = 4.0 * b * h * s * s * d * (causal_ ? 0.5 : 1.0);
    Counters c;
    if (backward_) {
      flops *= 2.5;
      c.bytes_read = 5 * tensor + lse;  // do, q, k, v, o, lse
      c.bytes_written = 3 * tensor;     // dq, dk, dv
    } else {
      c.bytes_read = 3 * tensor;
      c.bytes_written = tensor + lse;
    }
    c.flops = flops;
    // fp16/bf16 through fp32 arithmetic (CPU, CUDA v1/v2) is judged against the fp32 peak.
    c.math_dtype = version_.math.empty() ? dtype_name(dtype_) : version_.math;
    c.items = b * h * s;
    c.item_unit = "tokens";
    return c;
  }
  // Compares the first and the last (batch, head) slice with the reference: each slice is
  // an independent problem, and two of them keep the check cheap at any batch size. Half
  // inputs reach the reference as their exact float values (to_host_floats widens).
  std::optional<ops::Correctness> check() override {
    const double tol = ops::default_tolerance(dtype_);
    const int64_t bh = batch_ * heads_, slice = seq_len_ * head_dim_;
    std::vector<int64_t> slices = {0};
    if (bh > 1) slices.push_back(bh - 1);
    if (backward_)
      run_poisoned(*this, {dq_, dk_, dv_});
    else
      run_poisoned(*this, {o_, lse_});
    const auto q = ops::to_host_floats(q_), k = ops::to_host_floats(k_), v = ops::to_host_floats(v_);
    const auto o = ops::to_host_floats(o_), lse = ops::to_host_floats(lse_);
    std::vector<double> got[3], ref[3];
    auto take = [&](const std::vector<double>& all, int64_t i, int64_t n, std::vector<double>& into) {
      into.insert(into.end(), all.begin() + i * n, all.begin() + (i + 1) * n);
    };
    if (backward_) {
      const auto dout = ops::to_host_floats(dout_);
      const std::vector<double> outs[3] = {ops::to_host_doubles(dq_), ops::to_host_doubles(dk_),
                                           ops::to_host_doubles(dv_)};
      for (int64_t i : slices) {
        std::vector<float> dq(slice), dk(slice), dv(slice);
        cpu::attention_backward_reference(dout.data() + i * slice, q.data() + i * slice, k.data() + i * slice,
                                          v.data() + i * slice, o.data() + i * slice, lse.data() + i * seq_len_,
                                          dq.data(), dk.data(), dv.data(), 1, seq_len_, head_dim_, scale_, causal_);
        const std::vector<float>* refs[3] = {&dq, &dk, &dv};
        for (int t = 0; t < 3; ++t) {
          take(outs[t], i, slice, got[t]);
          ref[t].insert(ref[t].end(), refs[t]->begin(), refs[t]->end());
        }
      }
      return worst(worst(ops::compare(got[0], ref[0], tol), ops::compare(got[1], ref[1], tol)),
                   ops::compare(got[2], ref[2], tol));
    }
    const std::vector<double> o_all = as_doubles(o), lse_all = as_doubles(lse);
    for (int64_t i : slices) {
      std::vector<float> ro(slice), rl(static_cast<size_t>(seq_len_));
      cpu::attention_forward_reference(q.data() + i * slice, k.data() + i * slice, v.data() + i * slice, ro.data(),
                                       rl.data(), 1, seq_len_, head_dim_, scale_, causal_);
      take(o_all, i, slice, got[0]);
      take(lse_all, i, seq_len_, got[1]);
      ref[0].insert(ref[0].end(), ro.begin(), ro.end());
      ref[1].insert(ref[1].end(), rl.begin(), rl.end());
    }
    return worst(ops::compare(got[0], ref[0], tol), ops::compare(got[1], ref[1], tol));
  }

 private:
  bool backward_;
  std::string op_;
  DType dtype_;
  const ops::OpVersion& version_;
  int64_t batch_, heads_, seq_len_, head_dim_;
  bool causal_;
  float scale_;
  Tensor q_, k_, v_, o_, lse_, dout_, dq_, dk_, dv_, workspace_;
};

// One decode step of a KV-cached decoder: a query row per head [B, Hq, 1, D] against `context`
// cached keys and values [B, Hkv, context, D] (GQA when Hkv < Hq), through attention_kv. It
// reads the whole cache for 4*B*Hq*context*D FLOPs: bandwidth-bound, so judged by GB/s.
class AttentionDecodeCase : public CaseInstance {
 public:
  AttentionDecodeCase(const Params& p, Device device, const std::string& version, uint64_t seed)
      : dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version("attention_kv", device, dtype_, version)),
        batch_(positive(p, "attention_decode", "batch", 1)),
        heads_(positive(p, "attention_decode", "heads", 1)),
        kv_heads_(positive(p, "attention_decode", "kv_heads", 1)),
        context_(positive(p, "attention_decode", "context", 1)),
        head_dim_(positive(p, "attention_decode", "head_dim", 1)) {
    BENCHSUITE_CHECK_ARG(heads_ % kv_heads_ == 0, "attention_decode: heads=", heads_,
                         " must be a multiple of kv_heads=", kv_heads_);
    params_.scale = static_cast<float>(ops::default_attention_scale(head_dim_));
    params_.causal = true;
    params_.q_offset = context_ - 1;  // the new token is the last of the context
    params_.kv_len = context_;
    q_ = random_input({batch_, heads_, 1, head_dim_}, dtype_, device, seed);
    k_ = random_input({batch_, kv_heads_, context_, head_dim_}, dtype_, device, seed + 1);
    v_ = random_input({batch_, kv_heads_, context_, head_dim_}, dtype_, device, seed + 2);
    o_ = Tensor::empty({batch_, heads_, 1, head_dim_}, dtype_, device);
    ops::check_attention_kv_args(q_, k_, v_, Tensor(), params_);
  }
  void run(StreamHandle stream) override { ops::run_attention_kv(version_, q_, k_, v_, Tensor(), o_, params_, stream); }
  Counters counters() const override {
    const double b = static_cast<double>(batch_), h = static_cast<double>(heads_),
                 hkv = static_cast<double>(kv_heads_), ctx = static_cast<double>(context_),
                 d = static_cast<double>(head_dim_), size = static_cast<double>(dtype_size(dtype_));
    Counters c;
    c.flops = 4.0 * b * h * ctx * d;
    c.bytes_read = (2.0 * b * hkv * ctx * d + b * h * d) * size;  // the cache, then the query rows
    c.bytes_written = b * h * d * size;
    c.math_dtype = dtype_name(dtype_);
    c.items = b;
    c.item_unit = "tokens";
    return c;
  }
  std::optional<ops::Correctness> check() override {
    run_poisoned(*this, {o_});
    const auto q = ops::to_host_floats(q_), k = ops::to_host_floats(k_), v = ops::to_host_floats(v_);
    std::vector<float> ref(q.size());
    cpu::attention_kv_reference(q.data(), k.data(), v.data(), nullptr, ref.data(),
                                {batch_, heads_, kv_heads_, 1, context_, head_dim_}, params_);
    return ops::compare(ops::to_host_doubles(o_), as_doubles(ref), ops::default_tolerance(dtype_));
  }

 private:
  DType dtype_;
  const ops::OpVersion& version_;
  int64_t batch_, heads_, kv_heads_, context_, head_dim_;
  cpu::AttentionKvParams params_;
  Tensor q_, k_, v_, o_;
};

std::function<std::unique_ptr<CaseInstance>(const Params&, Device, const std::string&, uint64_t)> maker(bool backward) {
  return [backward](const Params& p, Device d, const std::string& v, uint64_t s) {
    return std::unique_ptr<CaseInstance>(new AttentionCase(backward, p, d, v, s));
  };
}

}  // namespace

BENCHSUITE_REGISTER_CASES(attention) {
  const std::vector<ParamSpec> params = {{"batch", "int", int64_t{4}, "sequences", 1},
                                         {"heads", "int", int64_t{8}, "attention heads", 1},
                                         {"seq_len", "int", int64_t{1024}, "tokens per sequence (queries = keys)", 1},
                                         {"head_dim", "int", int64_t{64}, "head width", 1},
                                         {"causal", "bool", false, "query i attends to keys j <= i only"},
                                         {"dtype", "str", std::string("float32"), "element type"}};
  families.push_back({"attention", "ops",
                      "scaled dot-product attention softmax(Q K^T / sqrt(D)) V over [B, H, S, D], with the row "
                      "log-sum-exp",
                      params, both_devices(), op_versions_fn("attention"), maker(false)});
  families.push_back({"attention_backward", "ops", "attention backward: dQ, dK, dV from dO, O and the log-sum-exp",
                      params, both_devices(), op_versions_fn("attention_backward"), maker(true)});
  families.push_back({"attention_decode", "ops",
                      "one decode step: a query row per head against a KV cache of `context` keys (attention_kv, "
                      "causal, GQA when kv_heads < heads)",
                      {{"batch", "int", int64_t{1}, "sequences", 1},
                       {"heads", "int", int64_t{12}, "query heads", 1},
                       {"kv_heads", "int", int64_t{12}, "key/value heads (a divisor of heads)", 1},
                       {"context", "int", int64_t{512}, "cached tokens, the new one included", 1},
                       {"head_dim", "int", int64_t{64}, "head width", 1},
                       {"dtype", "str", std::string("float32"), "element type"}},
                      both_devices(), op_versions_fn("attention_kv"),
                      [](const Params& p, Device d, const std::string& v, uint64_t s) {
                        return std::unique_ptr<CaseInstance>(new AttentionDecodeCase(p, d, v, s));
                      }});
  families.back().op = "attention_kv";
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "attention_decode", {{"batch", int64_t{2}}, {"heads", int64_t{6}},
                                                               {"kv_heads", int64_t{2}}, {"context", int64_t{37}},
                                                               {"head_dim", int64_t{40}}});
  case_helpers::set_test_params(families, "attention", {{"batch", int64_t{1}}, {"heads", int64_t{2}},
                                                        {"seq_len", int64_t{37}}, {"head_dim", int64_t{64}},
                                                        {"causal", true}});
  case_helpers::set_test_params(families, "attention_backward", {{"batch", int64_t{1}}, {"heads", int64_t{2}},
                                                                 {"seq_len", int64_t{37}}, {"head_dim", int64_t{64}},
                                                                 {"causal", true}});
}

}  // namespace benchsuite
