// BERT, GPT-2 and LLaMA as builder functions (formulas as in the papers and the Hugging Face
// modeling files; parameter names as in their checkpoints).
#include "models/transformer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <tuple>

#include "core/error.h"

namespace benchsuite::models {

using graph::AttentionOptions;
using graph::Builder;
using graph::kNoValue;
using graph::ValueId;

namespace {

constexpr int64_t kToEnd = std::numeric_limits<int64_t>::max();  // a slice to the end, whatever the length

struct Preset {
  const char* name;
  TransformerConfig config;
};

TransformerConfig make(const char* family, int64_t vocab, int64_t hidden, int64_t layers, int64_t heads,
                       int64_t ffn, int64_t positions, double eps, bool tie) {
  TransformerConfig c;
  c.family = family;
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = heads;
  c.intermediate_size = ffn;
  c.max_position_embeddings = positions;
  c.norm_eps = eps;
  c.tie_word_embeddings = tie;
  return c;
}

const std::vector<Preset>& presets() {
  static const std::vector<Preset> list = {
      {"bert-base", make("bert", 30522, 768, 12, 12, 3072, 512, 1e-12, false)},
      {"bert-large", make("bert", 30522, 1024, 24, 16, 4096, 512, 1e-12, false)},
      {"gpt2", make("gpt2", 50257, 768, 12, 12, 3072, 1024, 1e-5, true)},
      {"gpt2-medium", make("gpt2", 50257, 1024, 24, 16, 4096, 1024, 1e-5, true)},
      {"llama-7b", make("llama", 32000, 4096, 32, 32, 11008, 4096, 1e-5, false)},
      {"llama-13b", make("llama", 32000, 5120, 40, 40, 13824, 4096, 1e-5, false)},
  };
  return list;
}

int64_t as_int(const std::string& key, double v) {
  BENCHSUITE_CHECK_ARG(std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15, "config: ", key, "=", v,
                       " must be an integer");
  return static_cast<int64_t>(v);
}

void apply(TransformerConfig& c, const std::string& key, double v) {
  if (key == "vocab_size") c.vocab_size = as_int(key, v);
  else if (key == "hidden_size") c.hidden_size = as_int(key, v);
  else if (key == "num_hidden_layers") c.num_hidden_layers = as_int(key, v);
  else if (key == "num_attention_heads") c.num_attention_heads = as_int(key, v);
  else if (key == "num_key_value_heads") c.num_key_value_heads = as_int(key, v);
  else if (key == "intermediate_size") c.intermediate_size = as_int(key, v);
  else if (key == "max_position_embeddings") c.max_position_embeddings = as_int(key, v);
  else if (key == "type_vocab_size") c.type_vocab_size = as_int(key, v);
  else if (key == "norm_eps") c.norm_eps = v;
  else if (key == "rope_theta") c.rope_theta = v;
  else if (key == "tie_word_embeddings") c.tie_word_embeddings = v != 0;
  else {
    std::string allowed;
    for (const auto& [k, doc] : config_keys()) allowed += (allowed.empty() ? "" : ", ") + k;
    BENCHSUITE_THROW_ARG("config: unknown key '", key, "' (allowed: ", allowed, ")");
  }
}

void validate(const TransformerConfig& c) {
  auto positive = [](const char* key, int64_t v) {
    BENCHSUITE_CHECK_ARG(v >= 1, "config: ", key, "=", v, " must be >= 1");
  };
  positive("vocab_size", c.vocab_size);
  positive("hidden_size", c.hidden_size);
  positive("num_hidden_layers", c.num_hidden_layers);
  positive("num_attention_heads", c.num_attention_heads);
  positive("num_key_value_heads", c.num_key_value_heads);
  positive("intermediate_size", c.intermediate_size);
  positive("max_position_embeddings", c.max_position_embeddings);
  BENCHSUITE_CHECK_ARG(c.hidden_size % c.num_attention_heads == 0, "config: hidden_size=", c.hidden_size,
                       " must be a multiple of num_attention_heads=", c.num_attention_heads);
  BENCHSUITE_CHECK_ARG(c.num_attention_heads % c.num_key_value_heads == 0, "config: num_attention_heads=",
                       c.num_attention_heads, " must be a multiple of num_key_value_heads=", c.num_key_value_heads);
  BENCHSUITE_CHECK_ARG(c.family != "llama" || c.head_dim() % 2 == 0, "config: head_dim=", c.head_dim(),
                       " must be even for RoPE");
  BENCHSUITE_CHECK_ARG(std::isfinite(c.norm_eps) && c.norm_eps > 0, "config: norm_eps=", c.norm_eps, " must be > 0");
  BENCHSUITE_CHECK_ARG(std::isfinite(c.rope_theta) && c.rope_theta > 1, "config: rope_theta=", c.rope_theta,
                       " must be > 1");
}

// [B, S, H*D] -> [B, H, S, D]
ValueId split_heads(Builder& b, ValueId x, int64_t heads) {
  return b.permute(b.reshape(x, {0, 0, heads, -1}), {0, 2, 1, 3});
}
// [B, H, S, D] -> [B, S, H*D]
ValueId merge_heads(Builder& b, ValueId x) { return b.reshape(b.permute(x, {0, 2, 1, 3}), {0, 0, -1}); }

// Keys and values through the cache when there is one: written at past_len, read in full.
std::pair<ValueId, ValueId> cached(Builder& b, const BuildOptions& o, int64_t layer, ValueId k, ValueId v,
                                   int64_t kv_heads, int64_t head_dim, int64_t cap) {
  if (!o.kv_cache) return {k, v};
  const std::string prefix = "cache." + std::to_string(layer);
  const ValueId kc = b.state(prefix + ".key", {o.batch, kv_heads, cap, head_dim});
  const ValueId vc = b.state(prefix + ".value", {o.batch, kv_heads, cap, head_dim});
  return {b.cache_write(kc, k, "past_len"), b.cache_write(vc, v, "past_len")};
}

void build_bert(Builder& b, const TransformerConfig& c, const BuildOptions& o) {
  const int64_t H = c.hidden_size;
  const ValueId ids = b.input("input_ids", {o.batch, o.seq_len}, DType::int64);
  const ValueId types = b.input("token_type_ids", {o.batch, o.seq_len}, DType::int64);
  const ValueId mask =
      o.padding_mask ? b.input("attention_mask", {o.batch, o.seq_len}, DType::float32) : kNoValue;
  // HF's BertEmbeddings: the pad token (id 0) gets no gradient.
  ValueId h = b.embedding(ids, c.vocab_size, H, "embeddings.word_embeddings.weight", /*padding_idx=*/0);
  h = b.add(h, b.positions(ids, c.max_position_embeddings, H, "embeddings.position_embeddings.weight"));
  h = b.add(h, b.embedding(types, c.type_vocab_size, H, "embeddings.token_type_embeddings.weight"));
  h = b.layernorm(h, "embeddings.LayerNorm", c.norm_eps);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i);
    b.set_scope(p);
    const ValueId q = split_heads(b, b.linear(h, H, p + ".attention.self.query"), c.num_attention_heads);
    const ValueId k = split_heads(b, b.linear(h, H, p + ".attention.self.key"), c.num_attention_heads);
    const ValueId v = split_heads(b, b.linear(h, H, p + ".attention.self.value"), c.num_attention_heads);
    AttentionOptions ao;
    ao.key_mask = mask;
    const ValueId a = merge_heads(b, b.attention(q, k, v, ao));
    h = b.layernorm(b.add(b.linear(a, H, p + ".attention.output.dense"), h), p + ".attention.output.LayerNorm",
                    c.norm_eps);
    const ValueId f = b.gelu_erf(b.linear(h, c.intermediate_size, p + ".intermediate.dense"));
    h = b.layernorm(b.add(b.linear(f, H, p + ".output.dense"), h), p + ".output.LayerNorm", c.norm_eps);
  }
  b.set_scope("");
  b.output(h, "last_hidden_state");
  const ValueId first = b.reshape(b.slice(h, 1, 0, 1), {0, -1});  // [B, H]: the [CLS] token
  b.output(b.tanh(b.linear(first, H, "pooler.dense")), "pooler_output");
}

// What both decoders start with: ids (and a padding mask without a cache), the runtime
// scalar past_len with a cache, and the token embedding.
struct DecoderInputs {
  ValueId ids, mask, embedding_weight, embedded;
  ValueId position_ids = kNoValue;  // a padded batch with a cache: [B, S] per token
  int64_t cache_capacity;
  std::string offset_scalar;  // "past_len" with a cache, else none
};
DecoderInputs decoder_inputs(Builder& b, const TransformerConfig& c, const BuildOptions& o,
                             const std::string& embedding) {
  DecoderInputs in;
  in.cache_capacity = o.cache_len > 0 ? o.cache_len : c.max_position_embeddings;
  in.offset_scalar = o.kv_cache ? "past_len" : "";
  if (o.kv_cache) b.scalar("past_len");
  in.ids = b.input("input_ids", {o.batch, o.seq_len}, DType::int64);
  in.mask = o.padding_mask && !o.kv_cache ? b.input("attention_mask", {o.batch, o.seq_len}, DType::float32) : kNoValue;
  if (o.padding_mask && o.kv_cache) {
    // Left-padded batches with a cache: the mask covers every cache slot and each token
    // carries its position (a row's real tokens count from 0 whatever its padding).
    in.mask = b.input("attention_mask", {o.batch, in.cache_capacity}, DType::float32);
    in.position_ids = b.input("position_ids", {o.batch, o.seq_len}, DType::int64);
  }
  in.embedding_weight = b.parameter(embedding + ".weight", {c.vocab_size, c.hidden_size});
  in.embedded = b.node1("embedding", {in.embedding_weight, in.ids}, {}, embedding);
  return in;
}

void build_gpt2(Builder& b, const TransformerConfig& c, const BuildOptions& o) {
  const int64_t H = c.hidden_size, heads = c.num_attention_heads, D = c.head_dim();
  const DecoderInputs in = decoder_inputs(b, c, o, "transformer.wte");
  const int64_t cap = in.cache_capacity;
  const std::string& offset = in.offset_scalar;
  const ValueId ids = in.ids, mask = in.mask, wte = in.embedding_weight;
  ValueId h = in.embedded;
  if (in.position_ids != kNoValue) {
    const ValueId wpe = b.parameter("transformer.wpe.weight", {c.max_position_embeddings, H});
    h = b.add(h, b.node1("embedding", {wpe, in.position_ids}, {}, "transformer.wpe"));
  } else {
    h = b.add(h, b.positions(ids, c.max_position_embeddings, H, "transformer.wpe.weight", offset));
  }
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "transformer.h." + std::to_string(i);
    b.set_scope(p);
    const ValueId x = b.layernorm(h, p + ".ln_1", c.norm_eps);
    const ValueId qkv = b.linear(x, 3 * H, p + ".attn.c_attn", true, /*in_out=*/true);
    const ValueId q = split_heads(b, b.slice(qkv, 2, 0, H), heads);
    ValueId k = split_heads(b, b.slice(qkv, 2, H, 2 * H), heads);
    ValueId v = split_heads(b, b.slice(qkv, 2, 2 * H, 3 * H), heads);
    std::tie(k, v) = cached(b, o, i, k, v, heads, D, cap);
    AttentionOptions ao;
    ao.causal = true;
    ao.key_mask = mask;
    ao.offset_scalar = offset;
    const ValueId a = merge_heads(b, b.attention(q, k, v, ao));
    h = b.add(b.linear(a, H, p + ".attn.c_proj", true, true), h);
    const ValueId m = b.gelu(b.linear(b.layernorm(h, p + ".ln_2", c.norm_eps), c.intermediate_size,
                                      p + ".mlp.c_fc", true, true));
    h = b.add(b.linear(m, H, p + ".mlp.c_proj", true, true), h);
  }
  b.set_scope("");
  h = b.layernorm(h, "transformer.ln_f", c.norm_eps);
  b.output(h, "last_hidden_state");
  if (o.last_token_logits) h = b.slice(h, 1, -1, kToEnd);
  const ValueId head = c.tie_word_embeddings ? wte : b.parameter("lm_head.weight", {c.vocab_size, H});
  b.output(b.linear(h, head, kNoValue, false, "lm_head"), "logits");
}

void build_llama(Builder& b, const TransformerConfig& c, const BuildOptions& o) {
  const int64_t H = c.hidden_size, heads = c.num_attention_heads, kv = c.num_key_value_heads, D = c.head_dim();
  const DecoderInputs in = decoder_inputs(b, c, o, "model.embed_tokens");
  const int64_t cap = in.cache_capacity;
  const std::string& offset = in.offset_scalar;
  const ValueId mask = in.mask, embed = in.embedding_weight;
  ValueId h = in.embedded;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    b.set_scope(p);
    const ValueId x = b.rmsnorm(h, p + ".input_layernorm", c.norm_eps);
    // RoPE on [B, S, heads, D], then heads first.
    auto project = [&](const char* name, int64_t n_heads, bool rotate) {
      ValueId t = b.reshape(b.linear(x, n_heads * D, p + ".self_attn." + name, false), {0, 0, n_heads, D});
      if (rotate)
        t = in.position_ids != kNoValue ? b.node1("rope", {t, in.position_ids}, {{"base", c.rope_theta}})
                                        : b.rope(t, c.rope_theta, offset);
      return b.permute(t, {0, 2, 1, 3});
    };
    const ValueId q = project("q_proj", heads, true);
    ValueId k = project("k_proj", kv, true), v = project("v_proj", kv, false);
    std::tie(k, v) = cached(b, o, i, k, v, kv, D, cap);
    AttentionOptions ao;
    ao.causal = true;
    ao.key_mask = mask;
    ao.offset_scalar = offset;
    const ValueId a = merge_heads(b, b.attention(q, k, v, ao));
    h = b.add(b.linear(a, H, p + ".self_attn.o_proj", false), h);
    const ValueId y = b.rmsnorm(h, p + ".post_attention_layernorm", c.norm_eps);
    const ValueId gate = b.silu(b.linear(y, c.intermediate_size, p + ".mlp.gate_proj", false));
    const ValueId up = b.linear(y, c.intermediate_size, p + ".mlp.up_proj", false);
    h = b.add(b.linear(b.mul(gate, up), H, p + ".mlp.down_proj", false), h);
  }
  b.set_scope("");
  h = b.rmsnorm(h, "model.norm", c.norm_eps);
  b.output(h, "last_hidden_state");
  if (o.last_token_logits) h = b.slice(h, 1, -1, kToEnd);
  const ValueId head = c.tie_word_embeddings ? embed : b.parameter("lm_head.weight", {c.vocab_size, H});
  b.output(b.linear(h, head, kNoValue, false, "lm_head"), "logits");
}

}  // namespace

int64_t TransformerConfig::parameter_count() const {
  const int64_t H = hidden_size, F = intermediate_size, L = num_hidden_layers, V = vocab_size;
  if (family == "bert")
    return V * H + max_position_embeddings * H + type_vocab_size * H + 2 * H +
           L * (4 * H * H + 4 * H + 2 * H * F + F + H + 4 * H) + H * H + H;
  if (family == "gpt2")
    return V * H + max_position_embeddings * H + L * (4 * H * H + 4 * H + 2 * H * F + F + H + 4 * H) + 2 * H;
  const int64_t kv_dim = num_key_value_heads * head_dim();
  return V * H * (tie_word_embeddings ? 1 : 2) + L * (2 * H * H + 2 * H * kv_dim + 3 * H * F + 2 * H) + H;
}

const std::vector<std::pair<std::string, std::string>>& config_keys() {
  static const std::vector<std::pair<std::string, std::string>> keys = {
      {"vocab_size", "tokens in the vocabulary"},
      {"hidden_size", "width of the residual stream"},
      {"num_hidden_layers", "transformer blocks"},
      {"num_attention_heads", "query heads"},
      {"num_key_value_heads", "key/value heads (llama; below the query heads: GQA, 1: MQA)"},
      {"intermediate_size", "width of the feed-forward layer"},
      {"max_position_embeddings", "longest sequence"},
      {"type_vocab_size", "token types (bert)"},
      {"norm_eps", "epsilon of the layer norms"},
      {"rope_theta", "RoPE base (llama)"},
      {"tie_word_embeddings", "1: the LM head reuses the token embedding"},
  };
  return keys;
}

std::vector<std::pair<std::string, std::string>> model_names() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Preset& p : presets()) out.push_back({p.name, p.config.family});
  return out;
}

TransformerConfig model_config(const std::string& name, const std::map<std::string, double>& overrides) {
  for (const Preset& p : presets()) {
    if (name != p.name) continue;
    TransformerConfig c = p.config;
    bool kv_set = false;
    for (const auto& [key, value] : overrides) {
      apply(c, key, value);
      kv_set |= key == "num_key_value_heads";
    }
    if (!kv_set) c.num_key_value_heads = c.num_attention_heads;
    validate(c);
    return c;
  }
  std::string known;
  for (const Preset& p : presets()) known += (known.empty() ? "" : ", ") + std::string(p.name);
  BENCHSUITE_THROW_ARG("model: unknown model '", name, "' (known: ", known, ")");
}

TransformerConfig config_for_family(const std::string& family, const std::map<std::string, double>& values) {
  const char* base = family == "bert" ? "bert-base" : family == "gpt2" ? "gpt2" : family == "llama" ? "llama-7b" : "";
  BENCHSUITE_CHECK_ARG(*base, "model: unknown family '", family, "' (known: bert, gpt2, llama)");
  return model_config(base, values);
}

BuiltModel build_transformer(const TransformerConfig& config, const BuildOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  validate(config);
  BENCHSUITE_CHECK_ARG(o.batch >= 1, "batch=", o.batch, " must be >= 1");
  BENCHSUITE_CHECK_ARG(o.seq_len >= 1, "seq_len=", o.seq_len, " must be >= 1");
  BENCHSUITE_CHECK_ARG(o.seq_len <= config.max_position_embeddings, "seq_len=", o.seq_len,
                       " is above the model's maximum positions (max_position_embeddings=",
                       config.max_position_embeddings, ")");
  BENCHSUITE_CHECK_ARG(!o.kv_cache || config.family != "bert", "kv_cache: bert is an encoder (no generation)");
  BENCHSUITE_CHECK_ARG(o.cache_len >= 0 && o.cache_len <= config.max_position_embeddings, "cache_len=", o.cache_len,
                       " must be in [0, max_position_embeddings=", config.max_position_embeddings, "]");
  Builder b(DType::float32);
  if (config.family == "bert")
    build_bert(b, config, o);
  else if (config.family == "gpt2")
    build_gpt2(b, config, o);
  else if (config.family == "llama")
    build_llama(b, config, o);
  else
    BENCHSUITE_THROW_ARG("model: unknown family '", config.family, "' (known: bert, gpt2, llama)");
  BuiltModel m;
  m.inits = b.inits();
  m.graph = b.finish();
  m.config = config;
  m.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

}  // namespace benchsuite::models
