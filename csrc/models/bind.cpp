// Python bindings of the transformer builders (benchsuite.models wraps them).
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "graph/py_inits.h"
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
}

}  // namespace benchsuite::bindings
