// Case families of the model runners: model_forward (one forward pass of a transformer,
// with reduced layers for the models that do not fit, and a full-model figure labelled
// extrapolated) and model_generate (prefill + decode with the KV cache: TTFT, TPOT, tokens/s).
#include <algorithm>
#include <cmath>

#include "core/allocator.h"
#include "core/error.h"
#include "core/rng.h"
#include "ops/check.h"
#include "graph/executor.h"
#include "harness/case_helpers.h"
#include "models/generation.h"
#include "models/transformer.h"

namespace benchsuite {

namespace {
using namespace case_helpers;
using graph::Executor;

std::vector<std::string> names_of(bool decoders_only) {
  std::vector<std::string> out;
  for (const auto& [name, family] : models::model_names())
    if (!decoders_only || family != "bert") out.push_back(name);
  return out;
}

models::TransformerConfig config_of(const Params& p, const char* family) {
  const std::string name = detail::param_str(p, "model");
  const int64_t layers = positive(p, family, "layers");
  std::map<std::string, double> overrides;
  if (layers > 0) overrides["num_hidden_layers"] = static_cast<double>(layers);
  return models::model_config(name, overrides);
}

// Skips as oom, before anything is allocated, a model whose weights (twice: the [out, in]
// ones are packed once more) and a rough activation bound exceed what the host has free.
void check_fits(const models::TransformerConfig& c, int64_t batch, int64_t tokens, const char* family) {
  const double weights = 2.0 * 4.0 * static_cast<double>(c.parameter_count());
  const double activations = 4.0 * static_cast<double>(batch) * static_cast<double>(tokens) *
                             static_cast<double>(6 * c.hidden_size + 2 * c.intermediate_size + c.vocab_size);
  const double free_bytes = static_cast<double>(host_available_memory());
  if (free_bytes > 0 && weights + activations > free_bytes)
    BENCHSUITE_UNSUPPORTED("oom", family, ": ", c.num_hidden_layers, " layers need about ",
                           static_cast<int64_t>((weights + activations) / 1e6), " MB, the host has ",
                           static_cast<int64_t>(free_bytes / 1e6), " MB free; set `layers` lower");
}

Params config_params(const models::TransformerConfig& c, int64_t full_layers) {
  return {{"family", c.family},
          {"vocab_size", c.vocab_size},
          {"hidden_size", c.hidden_size},
          {"num_hidden_layers", c.num_hidden_layers},
          {"full_num_hidden_layers", full_layers},
          {"num_attention_heads", c.num_attention_heads},
          {"num_key_value_heads", c.num_key_value_heads},
          {"intermediate_size", c.intermediate_size},
          {"max_position_embeddings", c.max_position_embeddings},
          {"parameter_count", c.parameter_count()}};
}

Tensor random_ids(int64_t batch, int64_t len, int64_t vocab, uint64_t seed) {
  Tensor ids = Tensor::empty({batch, len}, DType::int64, kHost);
  for (int64_t i = 0; i < batch * len; ++i)
    ids.data<int64_t>()[i] = static_cast<int64_t>(rng_uniform(seed, static_cast<uint64_t>(i), 0.0f, 1.0f) *
                                                  static_cast<float>(vocab)) % vocab;
  return ids;
}

// A model built, weighted from the seed and ready to plan.
struct LoadedModel {
  models::TransformerConfig config;
  int64_t full_layers = 0;
  std::unique_ptr<Executor> executor;
  double flops = 0, bytes = 0;  // per forward at the built shapes (graph summary)

  LoadedModel(const Params& p, Device device, uint64_t seed, const char* family, int64_t batch, int64_t tokens,
              const models::BuildOptions& options) {
    config = config_of(p, family);
    full_layers = models::model_config(detail::param_str(p, "model")).num_hidden_layers;
    check_fits(config, batch, tokens, family);
    models::BuiltModel built = models::build_transformer(config, options);
    auto params = graph::random_parameters(*built.graph, built.inits, seed, device);
    executor = std::make_unique<Executor>(built.graph, std::move(params), device);
    const graph::Graph& g = *built.graph;
    for (const graph::Node& n : g.nodes()) {
      const graph::NodeKind& k = graph::node_kind(n.kind);
      if (!k.cost) continue;
      std::vector<graph::ValueType> in, out;
      for (graph::ValueId id : n.inputs) in.push_back(id == graph::kNoValue ? graph::absent_type() : g.value(id).type);
      for (graph::ValueId id : n.outputs) out.push_back(g.value(id).type);
      const graph::Cost c = k.cost(in, out, n.attrs);
      flops += c.flops;
      bytes += c.bytes;
    }
  }
};

// ---- model_forward ------------------------------------------------------------------------------
class ModelForwardCase : public CaseInstance {
 public:
  ModelForwardCase(const Params& p, Device device, uint64_t seed)
      : seed_(seed),
        batch_(positive(p, "model_forward", "batch", 1)),
        seq_len_(positive(p, "model_forward", "seq_len", 1)),
        model_(p, device, seed, "model_forward", batch_, seq_len_, options(p)) {
    const auto& c = model_.config;
    inputs_.push_back(random_ids(batch_, seq_len_, c.vocab_size, seed));
    if (c.family == "bert") inputs_.push_back(random_ids(batch_, seq_len_, c.type_vocab_size, seed + 1));
  }
  void compile() override {
    std::vector<Shape> shapes;
    for (const Tensor& t : inputs_) shapes.push_back(t.shape());
    model_.executor->plan(shapes);
  }
  void run(StreamHandle stream) override { model_.executor->run(inputs_, {}, stream); }
  Counters counters() const override {
    Counters c;
    c.flops = model_.flops;
    c.bytes_read = model_.bytes;
    const bool encoder = model_.config.family == "bert";
    c.items = static_cast<double>(encoder ? batch_ : batch_ * seq_len_);
    c.item_unit = encoder ? "sequences" : "tokens";
    c.math_dtype = "float32";
    return c;
  }
  Params config() const override { return config_params(model_.config, model_.full_layers); }
  // The architecture checked on one block at up to 16 tokens (the reference ops accumulate in
  // double: a whole BERT-large would take minutes), the same node kinds and op versions as the
  // timed model, against the same graph run on every op's reference version: normwise 1e-4.
  std::optional<ops::Correctness> check() override {
    models::TransformerConfig small = model_.config;
    small.num_hidden_layers = 1;
    models::BuildOptions o;
    o.seq_len = std::min<int64_t>(seq_len_, 16);
    const models::BuiltModel built = models::build_transformer(small, o);
    const Device device = model_.executor->device();
    auto params = graph::random_parameters(*built.graph, built.inits, seed_, device);
    std::vector<Tensor> inputs = {random_ids(1, o.seq_len, small.vocab_size, seed_)};
    if (small.family == "bert") inputs.push_back(random_ids(1, o.seq_len, small.type_vocab_size, seed_ + 1));
    std::map<std::string, std::string> reference;
    for (const graph::Node& n : built.graph->nodes())
      for (const std::string& op : graph::node_kind(n.kind).ops)
        for (const ops::OpVersion* v : ops::versions_of(op, device.type))
          if (v->reference) reference[op] = v->version;
    Executor fast(built.graph, params, device), ref(built.graph, params, device, reference);
    const std::vector<double> got = ops::to_host_doubles(fast.run(inputs)[0]);
    return ops::compare(got, ops::to_host_doubles(ref.run(inputs)[0]), 1e-4);
  }
  std::map<std::string, CaseMetric> metrics() override {
    std::map<std::string, CaseMetric> m;
    const auto& stats = model_.executor->stats();
    m["parameters"] = {static_cast<double>(model_.config.parameter_count()), "", "", "parameters of the built model"};
    m["parameter_bytes"] = {static_cast<double>(stats.parameter_bytes), "B", "", "weights held (float32)"};
    m["activation_bytes"] = {static_cast<double>(stats.arena_bytes), "B", "lower",
                             "the plan's arena: every intermediate, placed by liveness"};
    // Per-layer time from a profiled run (median of 3): the blocks' steps against the rest.
    const int64_t layers = model_.config.num_hidden_layers;
    std::vector<double> layer_s, other_s;
    const auto& steps = model_.executor->plan(shapes()).steps;
    for (int rep = 0; rep < 3; ++rep) {
      const std::vector<double> t = model_.executor->run_profiled(inputs_);
      double in_layers = 0, rest = 0;
      for (size_t i = 0; i < t.size(); ++i) (is_layer(steps[i].node->name) ? in_layers : rest) += t[i];
      layer_s.push_back(in_layers / static_cast<double>(layers));
      other_s.push_back(rest);
    }
    std::sort(layer_s.begin(), layer_s.end());
    std::sort(other_s.begin(), other_s.end());
    m["per_layer_s"] = {layer_s[1], "s", "lower", "one transformer block (profiled run, median of 3)"};
    if (layers < model_.full_layers)
      m["full_model_extrapolated_s"] = {
          other_s[1] + layer_s[1] * static_cast<double>(model_.full_layers), "s", "lower",
          "extrapolated, not measured: the rest of the model + " + std::to_string(model_.full_layers) +
              " x the per-layer time (" + std::to_string(layers) + " layers were built)"};
    return m;
  }

 private:
  static models::BuildOptions options(const Params& p) {
    models::BuildOptions o;
    o.batch = positive(p, "model_forward", "batch", 1);
    o.seq_len = positive(p, "model_forward", "seq_len", 1);
    return o;
  }
  static bool is_layer(const std::string& node) {
    for (const char* prefix : {"encoder.layer.", "transformer.h.", "model.layers."})
      if (node.rfind(prefix, 0) == 0) return true;
    return false;
  }
  std::vector<Shape> shapes() const {
    std::vector<Shape> s;
    for (const Tensor& t : inputs_) s.push_back(t.shape());
    return s;
  }
  uint64_t seed_;
  int64_t batch_, seq_len_;
  LoadedModel model_;
  std::vector<Tensor> inputs_;
};

// ---- model_generate -----------------------------------------------------------------------------
class ModelGenerateCase : public CaseInstance {
 public:
  ModelGenerateCase(const Params& p, Device device, uint64_t seed)
      : batch_(positive(p, "model_generate", "batch", 1)),
        prompt_len_(positive(p, "model_generate", "prompt_len", 1)),
        new_tokens_(positive(p, "model_generate", "new_tokens", 1)),
        model_(p, device, seed, "model_generate", batch_, prompt_len_ + new_tokens_, options(p)) {
    sampling_.max_new_tokens = new_tokens_;
    sampling_.temperature = detail::param_float(p, "temperature");
    sampling_.top_p = detail::param_float(p, "top_p");
    sampling_.top_k = positive(p, "model_generate", "top_k");
    sampling_.seed = seed;
    models::check_sampling(sampling_);
    BENCHSUITE_CHECK_ARG(prompt_len_ + new_tokens_ <= model_.config.max_position_embeddings,
                         "model_generate: prompt_len + new_tokens = ", prompt_len_ + new_tokens_,
                         " is above the maximum positions ", model_.config.max_position_embeddings);
    prompt_ = random_ids(batch_, prompt_len_, model_.config.vocab_size, seed);
  }
  void compile() override {
    model_.executor->plan({prompt_.shape()});  // prefill
    model_.executor->plan({{batch_, 1}});      // decode
  }
  void run(StreamHandle) override {
    last_ = models::generate(*model_.executor, prompt_, sampling_);
    ttft_.push_back(last_.ttft_seconds);
    tpot_.insert(tpot_.end(), last_.tpot_seconds.begin(), last_.tpot_seconds.end());
  }
  Counters counters() const override {
    Counters c;
    c.items = static_cast<double>(batch_ * new_tokens_);
    c.item_unit = "tokens";
    return c;
  }
  Params config() const override { return config_params(model_.config, model_.full_layers); }
  std::map<std::string, CaseMetric> metrics() override {
    std::map<std::string, CaseMetric> m;
    auto pct = [](std::vector<double> v, double q) {
      if (v.empty()) return 0.0;
      std::sort(v.begin(), v.end());
      const double pos = q * static_cast<double>(v.size() - 1);
      const auto lo = static_cast<size_t>(std::floor(pos));
      const size_t hi = std::min(lo + 1, v.size() - 1);
      return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
    };
    const double ttft = pct(ttft_, 0.5), tpot = pct(tpot_, 0.5);
    m["ttft_s"] = {ttft, "s", "lower", "time to first token: prefill + first sample (median over runs)"};
    m["tpot_p50_s"] = {tpot, "s", "lower", "time per output token, decode steps of every run: median"};
    m["tpot_p90_s"] = {pct(tpot_, 0.9), "s", "lower", "time per output token: 90th percentile"};
    m["tpot_p99_s"] = {pct(tpot_, 0.99), "s", "lower", "time per output token: 99th percentile"};
    m["prefill_tokens_per_s"] = {ttft > 0 ? static_cast<double>(batch_ * prompt_len_) / ttft : 0.0, "tokens/s",
                                 "higher", "prompt tokens / TTFT (llama-bench's pp)"};
    m["decode_tokens_per_s"] = {tpot > 0 ? static_cast<double>(batch_) / tpot : 0.0, "tokens/s", "higher",
                                "batch / median TPOT (llama-bench's tg)"};
    m["kv_cache_bytes"] = {static_cast<double>(model_.executor->stats().state_bytes), "B", "",
                           "K and V of every layer for the cache's capacity"};
    m["parameters"] = {static_cast<double>(model_.config.parameter_count()), "", "", "parameters of the built model"};
    return m;
  }

 private:
  static models::BuildOptions options(const Params& p) {
    models::BuildOptions o;
    o.batch = positive(p, "model_generate", "batch", 1);
    o.seq_len = positive(p, "model_generate", "prompt_len", 1);
    o.kv_cache = true;
    o.cache_len = o.seq_len + positive(p, "model_generate", "new_tokens", 1);
    o.last_token_logits = true;
    return o;
  }
  int64_t batch_, prompt_len_, new_tokens_;
  LoadedModel model_;
  models::SamplingOptions sampling_;
  Tensor prompt_;
  models::GenerationOutput last_;
  std::vector<double> ttft_, tpot_;
};

std::vector<VersionDescription> executor_version(DeviceType d) {
  if (d != DeviceType::cpu) return {};
  return {{"v1", "graph executor: default op versions, buffers by liveness, weights packed once", {"float32"}}};
}

}  // namespace

BENCHSUITE_REGISTER_CASES(models) {
  const ParamSpec layers{"layers", "int", int64_t{0},
                         "transformer blocks built (0: the model's own count; fewer for models that do not fit)"};
  families.push_back({"model_forward", "models", "one forward pass of a transformer (random weights from the seed)",
                      {{"model", "str", std::string("gpt2"), "registered model", 0, names_of(false)},
                       layers,
                       {"batch", "int", int64_t{1}, "sequences per forward", 1},
                       {"seq_len", "int", int64_t{128}, "tokens per sequence", 1}},
                      {DeviceType::cpu},
                      executor_version,
                      [](const Params& p, Device d, const std::string& v, uint64_t s) {
                        require_v1("model_forward", v);
                        return std::unique_ptr<CaseInstance>(new ModelForwardCase(p, d, s));
                      }});
  families.push_back({"model_generate", "models",
                      "text generation: prefill, then decode with the KV cache (sampled from the seed)",
                      {{"model", "str", std::string("gpt2"), "registered decoder", 0, names_of(true)},
                       layers,
                       {"batch", "int", int64_t{1}, "sequences generated together", 1},
                       {"prompt_len", "int", int64_t{32}, "prompt tokens", 1},
                       {"new_tokens", "int", int64_t{20}, "tokens generated", 1},
                       {"temperature", "float", 1.0, "sampling temperature (0: greedy)"},
                       {"top_k", "int", int64_t{0}, "sample from the k most likely tokens (0: all)"},
                       {"top_p", "float", 0.9, "nucleus sampling: the smallest set reaching this probability"}},
                      {DeviceType::cpu},
                      executor_version,
                      [](const Params& p, Device d, const std::string& v, uint64_t s) {
                        require_v1("model_generate", v);
                        return std::unique_ptr<CaseInstance>(new ModelGenerateCase(p, d, s));
                      }});
  // The registry-wide check: a one-block GPT-2 on an awkward length against the reference ops.
  set_test_params(families, "model_forward", {{"model", std::string("gpt2")}, {"layers", int64_t{1}},
                                              {"seq_len", int64_t{7}}});
}

}  // namespace benchsuite
