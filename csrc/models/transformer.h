// The transformer models on the graph layer: BERT (encoder, post-norm), GPT-2 (decoder,
// pre-norm, learned positions) and LLaMA (decoder, RMSNorm, RoPE, SwiGLU, optional GQA), with
// Hugging Face parameter names so that their safetensors load by name. A model is built for
// concrete shapes; generation builds the decoders with a KV cache (states) and a runtime
// `past_len`, so that one plan serves every decode step.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/builder.h"

namespace benchsuite::models {

struct TransformerConfig {
  std::string family;  // "bert", "gpt2", "llama"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // llama: GQA when below num_attention_heads
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 2;  // bert
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;  // llama
  bool tie_word_embeddings = false;
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t parameter_count() const;  // of the full model, all layers
};

// Config keys users may set, with a one-line description each (errors list them).
const std::vector<std::pair<std::string, std::string>>& config_keys();
// Registered model names ("bert-base", "gpt2", "llama-7b", ...) with their family.
std::vector<std::pair<std::string, std::string>> model_names();
// The preset, then each override applied: an unknown model or key is an invalid_argument
// naming it and listing the allowed ones; values are checked (positive, heads dividing).
TransformerConfig model_config(const std::string& name, const std::map<std::string, double>& overrides = {});
TransformerConfig config_for_family(const std::string& family, const std::map<std::string, double>& values);

struct BuildOptions {
  int64_t batch = 1;
  int64_t seq_len = 128;
  bool kv_cache = false;        // decoders: caches as states, runtime scalar "past_len"
  int64_t cache_len = 0;        // cache capacity in tokens; 0: max_position_embeddings
  bool last_token_logits = false;  // decoders: logits of the last position only (generation)
  // An "attention_mask" input, float32: [B, S] (bert; decoders without a cache), or with a
  // cache [B, capacity] over the cache slots plus "position_ids" int64 [B, S] (left-padded
  // batched generation).
  bool padding_mask = false;
};

struct BuiltModel {
  std::shared_ptr<graph::Graph> graph;
  std::map<std::string, graph::ParameterInit> inits;
  TransformerConfig config;
  double build_seconds = 0;
};

BuiltModel build_transformer(const TransformerConfig& config, const BuildOptions& options);

}  // namespace benchsuite::models
