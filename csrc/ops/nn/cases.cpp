// Case families of the nn ops: embedding and embedding_backward (vocab, dim, tokens),
// cross_entropy and cross_entropy_backward (rows, classes), rope and rope_backward
// (batch, seq_len, heads, head_dim). Throughput is counted in tokens.
#include <algorithm>
#include <random>

#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/check.h"
#include "ops/nn/nn.h"

namespace benchsuite {

namespace {

using detail::param_str;
using namespace case_helpers;

const Device kHost{DeviceType::cpu, 0};

// Uniform int64 ids in [0, high) (high >= 1), made on the host and copied over.
Tensor random_ids(int64_t n, int64_t high, Device device, uint64_t seed) {
  Tensor host = Tensor::empty({n}, DType::int64, kHost);
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int64_t> dist(0, high - 1);
  int64_t* p = host.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = dist(gen);
  return host.to(device);
}

std::vector<int64_t> host_ids(const Tensor& t) {
  Tensor host = t.to(kHost).contiguous();
  return std::vector<int64_t>(host.data<int64_t>(), host.data<int64_t>() + host.numel());
}

// What every nn case starts from: its op (the forward or the backward), dtype and version.
class NnCase : public CaseInstance {
 protected:
  NnCase(bool backward, const char* forward_op, const char* backward_op, const Params& p, Device device,
         const std::string& version)
      : backward_(backward),
        op_(backward ? backward_op : forward_op),
        dtype_(parse_dtype(param_str(p, "dtype"))),
        version_(ops::select_version(op_, device, dtype_, version)) {}
  // An int parameter >= lowest; errors name the op.
  int64_t size(const Params& p, const char* name, int64_t lowest = 0) const {
    return positive(p, op_.c_str(), name, lowest);
  }

  bool backward_;
  std::string op_;
  DType dtype_;
  const ops::OpVersion& version_;
};

// ---- embedding / embedding_backward ------------------------------------------------------------
class EmbeddingCase : public NnCase {
 public:
  EmbeddingCase(bool backward, const Params& p, Device device, const std::string& version, uint64_t seed)
      : NnCase(backward, "embedding", "embedding_backward", p, device, version),
        vocab_(size(p, "vocab", 1)),
        dim_(size(p, "dim")),
        tokens_(size(p, "tokens")) {
    ids_ = random_ids(tokens_, vocab_, device, seed);
    if (backward_) {
      dout_ = random_input({tokens_, dim_}, dtype_, device, seed + 1);
      ops::check_embedding_backward_args(dout_, ids_, vocab_);
      out_ = Tensor::empty({vocab_, dim_}, dtype_, device);
      workspace_ = ops::embedding_backward_workspace(tokens_, vocab_, device);
    } else {
      weight_ = random_input({vocab_, dim_}, dtype_, device, seed + 1);
      ops::check_embedding_args(weight_, ids_);
      out_ = Tensor::empty({tokens_, dim_}, dtype_, device);
    }
  }
  void run(StreamHandle stream) override {
    if (backward_)
      ops::run_embedding_backward(version_, dout_, ids_, out_, workspace_, stream);
    else
      ops::run_embedding(version_, weight_, ids_, out_, stream);
  }
  Counters counters() const override {
    const double rows = static_cast<double>(tokens_) * static_cast<double>(dim_) * 4.0;
    Counters c;
    c.bytes_read = rows + static_cast<double>(ids_.nbytes());  // the gathered rows, or dout
    c.bytes_written = backward_ ? static_cast<double>(out_.nbytes()) : rows;
    c.items = static_cast<double>(tokens_);
    c.item_unit = "tokens";
    return c;
  }
  std::optional<ops::Correctness> check() override {
    run_poisoned(*this, {out_});
    const std::vector<int64_t> ids = host_ids(ids_);
    std::vector<float> ref(static_cast<size_t>(out_.numel()));
    if (backward_) {
      const std::vector<float> dout = ops::to_host_floats(dout_);
      cpu::embedding_backward_reference(dout.data(), ids.data(), ref.data(), tokens_, vocab_, dim_);
      return ops::compare(ops::to_host_doubles(out_), as_doubles(ref), ops::default_tolerance(dtype_));
    }
    const std::vector<float> weight = ops::to_host_floats(weight_);
    cpu::embedding_reference(weight.data(), ids.data(), ref.data(), tokens_, dim_);
    return ops::compare(ops::to_host_doubles(out_), as_doubles(ref), 0.0);  // a copy: exact
  }

 private:
  int64_t vocab_, dim_, tokens_;
  Tensor ids_, weight_, dout_, out_, workspace_;
};

// ---- cross_entropy / cross_entropy_backward ------------------------------------------------------
class CrossEntropyCase : public NnCase {
 public:
  CrossEntropyCase(bool backward, const Params& p, Device device, const std::string& version, uint64_t seed)
      : NnCase(backward, "cross_entropy", "cross_entropy_backward", p, device, version),
        rows_(size(p, "rows")),
        classes_(size(p, "classes", 1)) {
    logits_ = random_input({rows_, classes_}, dtype_, device, seed);
    targets_ = random_ids(rows_, classes_, device, seed + 1);
    ops::check_cross_entropy_args(op_.c_str(), logits_, targets_);
    workspace_ = ops::cross_entropy_workspace(rows_, device);
    if (backward_) {
      dlogits_ = Tensor::empty({rows_, classes_}, dtype_, device);
    } else {
      loss_ = Tensor::empty({}, dtype_, device);
      row_loss_ = Tensor::empty({rows_}, dtype_, device);
    }
  }
  void run(StreamHandle stream) override {
    if (backward_)
      ops::run_cross_entropy_backward(version_, logits_, targets_, kIgnore, kDloss, dlogits_, workspace_, stream);
    else
      ops::run_cross_entropy(version_, logits_, targets_, kIgnore, loss_, row_loss_, workspace_, stream);
  }
  Counters counters() const override {
    return memory_counters(
        static_cast<double>(logits_.nbytes() + targets_.nbytes()),
        backward_ ? static_cast<double>(dlogits_.nbytes()) : static_cast<double>(row_loss_.nbytes() + loss_.nbytes()),
        static_cast<double>(rows_), "tokens");
  }
  std::optional<ops::Correctness> check() override {
    const double tol = ops::default_tolerance(dtype_);
    if (backward_)
      run_poisoned(*this, {dlogits_});
    else
      run_poisoned(*this, {loss_, row_loss_});
    const std::vector<float> logits = ops::to_host_floats(logits_);
    const std::vector<int64_t> targets = host_ids(targets_);
    if (backward_) {
      std::vector<float> ref(logits.size());
      cpu::cross_entropy_backward_reference(logits.data(), targets.data(), ref.data(), rows_, classes_, kIgnore,
                                            static_cast<float>(kDloss));
      return ops::compare(ops::to_host_doubles(dlogits_), as_doubles(ref), tol);
    }
    std::vector<float> ref_rows(static_cast<size_t>(rows_));
    float ref_loss = 0;
    cpu::cross_entropy_reference(logits.data(), targets.data(), &ref_loss, ref_rows.data(), rows_, classes_, kIgnore);
    // The mean on its own: in one normwise figure with the rows it would be drowned out.
    return worst(ops::compare(ops::to_host_doubles(row_loss_), as_doubles(ref_rows), tol),
                 ops::compare(ops::to_host_doubles(loss_), {static_cast<double>(ref_loss)}, tol));
  }

 private:
  static constexpr int64_t kIgnore = -100;
  static constexpr double kDloss = 1.0;
  int64_t rows_, classes_;
  Tensor logits_, targets_, workspace_, loss_, row_loss_, dlogits_;
};

// ---- rope / rope_backward ---------------------------------------------------------------------------
class RopeCase : public NnCase {
 public:
  RopeCase(bool backward, const Params& p, Device device, const std::string& version, uint64_t seed)
      : NnCase(backward, "rope", "rope_backward", p, device, version),
        batch_(size(p, "batch")),
        seq_len_(size(p, "seq_len")),
        heads_(size(p, "heads")),
        head_dim_(size(p, "head_dim")) {
    x_ = random_input({batch_, seq_len_, heads_, head_dim_}, dtype_, device, seed);
    ops::check_rope_args(op_.c_str(), x_, kBase, 0);
    y_ = Tensor::empty(x_.shape(), dtype_, device);
  }
  void run(StreamHandle stream) override { ops::run_rope(version_, x_, y_, kBase, 0, stream); }
  Counters counters() const override {
    return memory_counters(static_cast<double>(x_.nbytes()), static_cast<double>(y_.nbytes()),
                           static_cast<double>(batch_ * seq_len_), "tokens");
  }
  std::optional<ops::Correctness> check() override {
    run_poisoned(*this, {y_});
    const std::vector<float> x = ops::to_host_floats(x_);
    std::vector<float> ref(x.size());
    cpu::rope_reference(x.data(), ref.data(), batch_, seq_len_, heads_, head_dim_, kBase, 0, backward_);
    return ops::compare(ops::to_host_doubles(y_), as_doubles(ref), ops::default_tolerance(dtype_));
  }

 private:
  static constexpr double kBase = 10000.0;
  int64_t batch_, seq_len_, heads_, head_dim_;
  Tensor x_, y_;
};

template <class Case>
std::function<std::unique_ptr<CaseInstance>(const Params&, Device, const std::string&, uint64_t)> maker(
    bool backward) {
  return [backward](const Params& p, Device d, const std::string& v, uint64_t s) {
    return std::unique_ptr<CaseInstance>(new Case(backward, p, d, v, s));
  };
}

}  // namespace

BENCHSUITE_REGISTER_CASES(nn) {
  const ParamValue f32 = std::string("float32");
  const std::vector<ParamSpec> embedding_params = {
      {"vocab", "int", int64_t{50257}, "rows of the embedding table (num_embeddings)", 1},
      {"dim", "int", int64_t{768}, "embedding width"},
      {"tokens", "int", int64_t{8192}, "ids looked up (uniform random, so repeats occur)"},
      {"dtype", "str", f32, "element type"}};
  families.push_back({"embedding", "ops", "out[t] = weight[ids[t]]: embedding lookup of int64 ids", embedding_params,
                      both_devices(), op_versions_fn("embedding"), maker<EmbeddingCase>(false)});
  families.push_back({"embedding_backward", "ops",
                      "dweight[v] = sum of dout[t] over ids[t] == v (deterministic, every version)",
                      embedding_params, both_devices(), op_versions_fn("embedding_backward"),
                      maker<EmbeddingCase>(true)});
  const std::vector<ParamSpec> ce_params = {{"rows", "int", int64_t{1024}, "rows (tokens) of logits"},
                                            {"classes", "int", int64_t{50257}, "classes (vocabulary size)", 1},
                                            {"dtype", "str", f32, "element type"}};
  families.push_back({"cross_entropy", "ops",
                      "fused softmax + NLL over [rows, classes] with int64 targets: per-row losses and their mean",
                      ce_params, both_devices(), op_versions_fn("cross_entropy"), maker<CrossEntropyCase>(false)});
  families.push_back({"cross_entropy_backward", "ops", "dlogits = (softmax - onehot) / rows of the mean loss",
                      ce_params, both_devices(), op_versions_fn("cross_entropy_backward"),
                      maker<CrossEntropyCase>(true)});
  const std::vector<ParamSpec> rope_params = {{"batch", "int", int64_t{8}, "sequences"},
                                              {"seq_len", "int", int64_t{1024}, "tokens per sequence"},
                                              {"heads", "int", int64_t{12}, "attention heads"},
                                              {"head_dim", "int", int64_t{64}, "head width (even)"},
                                              {"dtype", "str", f32, "element type"}};
  families.push_back({"rope", "ops", "rotary position embedding (GPT-NeoX rotate-half) of x [batch, seq, heads, dim]",
                      rope_params, both_devices(), op_versions_fn("rope"), maker<RopeCase>(false)});
  families.push_back({"rope_backward", "ops", "RoPE backward: the inverse rotation of dy", rope_params,
                      both_devices(), op_versions_fn("rope_backward"), maker<RopeCase>(true)});
  // Small, awkward sizes for the registry-wide correctness test (tests/test_registry.py).
  case_helpers::set_test_params(families, "embedding", {{"vocab", int64_t{101}}, {"dim", int64_t{37}},
                                                        {"tokens", int64_t{53}}});
  case_helpers::set_test_params(families, "embedding_backward", {{"vocab", int64_t{101}}, {"dim", int64_t{37}},
                                                                 {"tokens", int64_t{53}}});
  case_helpers::set_test_params(families, "cross_entropy", {{"rows", int64_t{7}}, {"classes", int64_t{1003}}});
  case_helpers::set_test_params(families, "cross_entropy_backward", {{"rows", int64_t{7}}, {"classes", int64_t{1003}}});
  case_helpers::set_test_params(families, "rope", {{"batch", int64_t{2}}, {"seq_len", int64_t{13}},
                                                   {"heads", int64_t{3}}, {"head_dim", int64_t{8}}});
  case_helpers::set_test_params(families, "rope_backward", {{"batch", int64_t{2}}, {"seq_len", int64_t{13}},
                                                            {"heads", int64_t{3}}, {"head_dim", int64_t{8}}});
}

}  // namespace benchsuite
