// Python bindings of the transformer builders (benchsuite.models wraps them).
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "core/error.h"
#include "graph/py_inits.h"
#include "models/generation.h"
#include "models/transformer.h"

namespace benchsuite::bindings {

namespace {
py::dict config_dict(const models::TransformerConfig& c) {
  py::dict d;
  d["family"] = c.family;
  d["vocab_size"] = c.vocab_size;
  d["hidden_size"] = c.hidden_size;
  d["num_hidden_layers"] = c.num_hidden_layers;
  d["num_attention_heads"] = c.num_attention_heads;
  d["num_key_value_heads"] = c.num_key_value_heads;
  d["intermediate_size"] = c.intermediate_size;
  d["max_position_embeddings"] = c.max_position_embeddings;
  d["type_vocab_size"] = c.type_vocab_size;
  d["norm_eps"] = c.norm_eps;
  d["rope_theta"] = c.rope_theta;
  d["tie_word_embeddings"] = c.tie_word_embeddings;
  d["parameter_count"] = c.parameter_count();
  return d;
}
}  // namespace

BENCHSUITE_REGISTER_BINDINGS(models, kBindOps) {
  m.def("model_names", &models::model_names, "(name, family) of every registered model.");
  m.def("model_config_keys", &models::config_keys, "(key, description) of every config key.");
  m.def(
      "model_config",
      [](const std::string& name, const std::map<std::string, double>& overrides) {
        return config_dict(models::model_config(name, overrides));
      },
      py::arg("name"), py::arg("overrides") = std::map<std::string, double>{});
  m.def(
      "family_config",
      [](const std::string& family, const std::map<std::string, double>& values) {
        return config_dict(models::config_for_family(family, values));
      },
      py::arg("family"), py::arg("values"));
  m.def(
      "build_transformer",
      [](const std::string& family, const std::map<std::string, double>& values, int64_t batch, int64_t seq_len,
         bool kv_cache, int64_t cache_len, bool last_token_logits, bool padding_mask) {
        models::BuildOptions o;
        o.batch = batch;
        o.seq_len = seq_len;
        o.kv_cache = kv_cache;
        o.cache_len = cache_len;
        o.last_token_logits = last_token_logits;
        o.padding_mask = padding_mask;
        models::BuiltModel built = models::build_transformer(models::config_for_family(family, values), o);
        return py::make_tuple(built.graph, inits_to_python(built.inits), built.build_seconds);
      },
      py::arg("family"), py::arg("config"), py::arg("batch") = 1, py::arg("seq_len") = 128,
      py::arg("kv_cache") = false, py::arg("cache_len") = 0, py::arg("last_token_logits") = false,
      py::arg("padding_mask") = false,
      "(graph, parameter inits, build seconds) of a transformer of `family` with config `config`.");

  auto sampling = [](int64_t max_new_tokens, double temperature, int64_t top_k, double top_p, uint64_t seed,
                     std::vector<int64_t> stop_tokens, int64_t max_length) {
    models::SamplingOptions o;
    o.max_new_tokens = max_new_tokens;
    o.temperature = temperature;
    o.top_k = top_k;
    o.top_p = top_p;
    o.seed = seed;
    o.stop_tokens = std::move(stop_tokens);
    o.max_length = max_length;
    return o;
  };
  m.def(
      "generate",
      [sampling](graph::Executor& executor, const py::object& prompt_ids, int64_t max_new_tokens, double temperature,
                 int64_t top_k, double top_p, uint64_t seed, std::vector<int64_t> stop_tokens, int64_t max_length,
                 const py::object& attention_mask) {
        const models::SamplingOptions o =
            sampling(max_new_tokens, temperature, top_k, top_p, seed, std::move(stop_tokens), max_length);
        const Tensor ids = as_tensor(prompt_ids, "prompt_ids");
        const Tensor mask = attention_mask.is_none() ? Tensor() : as_tensor(attention_mask, "attention_mask");
        models::GenerationOutput out;
        {
          py::gil_scoped_release release;
          out = models::generate(executor, ids, o, mask);
        }
        py::dict d;
        d["tokens"] = out.tokens;
        d["prompt_tokens"] = out.prompt_tokens;
        d["ttft_seconds"] = out.ttft_seconds;
        d["tpot_seconds"] = out.tpot_seconds;
        d["kv_cache_bytes"] = out.kv_cache_bytes;
        d["stopped"] = out.stopped;
        return d;
      },
      py::arg("executor"), py::arg("prompt_ids"), py::arg("max_new_tokens") = 20, py::arg("temperature") = 0.0,
      py::arg("top_k") = 0, py::arg("top_p") = 1.0, py::arg("seed") = 0,
      py::arg("stop_tokens") = std::vector<int64_t>{}, py::arg("max_length") = 0,
      py::arg("attention_mask") = py::none(),
      "Prefill + decode with the KV cache: tokens [batch][new], TTFT, TPOT per step, KV-cache bytes.");
  m.def(
      "sample_tokens",
      [sampling](const py::object& logits, double temperature, int64_t top_k, double top_p, uint64_t seed,
                 uint64_t draw) {
        const Tensor t = as_tensor(logits, "logits").contiguous();
        BENCHSUITE_CHECK_ARG(t.dtype() == DType::float32 && t.ndim() == 2 && t.device().type == DeviceType::cpu,
                             "sample_tokens: logits must be float32 [rows, vocab] on the CPU, got ", t.describe());
        const models::SamplingOptions o = sampling(1, temperature, top_k, top_p, seed, {}, 0);
        models::check_sampling(o);
        return models::sample_tokens(t.data<float>(), t.size(0), t.size(1), o, draw);
      },
      py::arg("logits"), py::arg("temperature") = 0.0, py::arg("top_k") = 0, py::arg("top_p") = 1.0,
      py::arg("seed") = 0, py::arg("draw") = 0, "The next token per row of logits, as generate samples it.");
}

}  // namespace benchsuite::bindings
