// The graph builder: one call per node, reading like the model (`h = b.linear(x, w)`,
// `h = b.gelu(h)`), with the parameters it creates named and given an initialisation, so a
// model can be run with random weights from a seed or with weights loaded by name. Composite
// layers (attention blocks, MLPs) are built from these in models/.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace benchsuite::graph {

// How a parameter is drawn when a model runs with random weights.
struct ParameterInit {
  enum class Kind { normal, ones, zeros } kind = Kind::normal;
  double std = 0.02;  // normal
};

struct AttentionOptions {
  bool causal = false;
  std::optional<double> scale;  // default 1/sqrt(head_dim)
  int64_t window = 0;           // sliding window in keys; 0: none
  ValueId key_mask = kNoValue;  // float32 [B, Skv], 0 masks a key (padding)
  std::string offset_scalar;    // runtime scalar: tokens already in the cache before q
};

class Builder {
 public:
  explicit Builder(DType dtype = DType::float32) : graph_(std::make_shared<Graph>()), dtype_(dtype) {}

  Graph& graph() { return *graph_; }
  DType dtype() const { return dtype_; }
  // The graph, verified; the builder should not be used after.
  std::shared_ptr<Graph> finish();
  const std::map<std::string, ParameterInit>& inits() const { return inits_; }

  // ---- values --------------------------------------------------------------------------------
  ValueId input(const std::string& name, const Shape& shape, DType dtype);
  // A named weight in the builder's dtype; the same name again returns the same parameter
  // (tied weights) when the shape agrees (invalid_argument otherwise).
  ValueId parameter(const std::string& name, const Shape& shape, ParameterInit init = {});
  ValueId state(const std::string& name, const Shape& shape);  // zeros at first, kept between runs
  void scalar(const std::string& name);
  void output(ValueId value, const std::string& name = "");
  const ValueType& type(ValueId value) const { return graph_->value(value).type; }
  const Shape& shape(ValueId value) const { return type(value).shape; }

  // ---- nodes ---------------------------------------------------------------------------------
  std::vector<ValueId> node(const std::string& kind, const std::vector<ValueId>& inputs, Attrs attrs = {},
                            const std::string& name = "");
  ValueId node1(const std::string& kind, const std::vector<ValueId>& inputs, Attrs attrs = {},
                const std::string& name = "") {
    return node(kind, inputs, std::move(attrs), name).at(0);
  }

  // x @ W^T + b for W [out, in] (in_out: x @ W + b, W [in, out]); bias may be kNoValue.
  ValueId linear(ValueId x, ValueId weight, ValueId bias = kNoValue, bool in_out = false, const std::string& name = "");
  // The same, creating `name`.weight [out, in] (or [in, out]) and `name`.bias [out].
  ValueId linear(ValueId x, int64_t out_features, const std::string& name, bool bias = true, bool in_out = false);
  ValueId matmul(ValueId a, ValueId b, const std::string& name = "");
  ValueId add(ValueId a, ValueId b, const std::string& name = "") { return node1("add", {a, b}, {}, name); }
  ValueId mul(ValueId a, ValueId b, const std::string& name = "") { return node1("mul", {a, b}, {}, name); }
  ValueId relu(ValueId x) { return node1("relu", {x}); }
  ValueId gelu(ValueId x) { return node1("gelu", {x}); }
  ValueId gelu_erf(ValueId x) { return node1("gelu_erf", {x}); }
  ValueId silu(ValueId x) { return node1("silu", {x}); }
  ValueId tanh(ValueId x) { return node1("tanh", {x}); }
  ValueId softmax(ValueId x) { return node1("softmax", {x}); }
  ValueId activation(const std::string& kind, ValueId x) { return node1(kind, {x}); }
  // `name`.weight and `name`.bias over the last axis.
  ValueId layernorm(ValueId x, const std::string& name, double eps = 1e-5, const std::string& weight = "weight",
                    const std::string& bias = "bias");
  ValueId rmsnorm(ValueId x, const std::string& name, double eps = 1e-6, const std::string& weight = "weight");
  // padding_idx >= 0: that row gets no gradient (torch.nn.Embedding's padding_idx; BERT's pad token).
  ValueId embedding(ValueId ids, int64_t vocab, int64_t dim, const std::string& weight_name, int64_t padding_idx = -1);
  ValueId positions(ValueId ids, int64_t max_positions, int64_t dim, const std::string& weight_name,
                    const std::string& offset_scalar = "");
  ValueId rope(ValueId x, double base = 10000.0, const std::string& offset_scalar = "");
  ValueId reshape(ValueId x, const std::vector<int64_t>& shape) { return node1("reshape", {x}, {{"shape", shape}}); }
  ValueId permute(ValueId x, const std::vector<int64_t>& perm) { return node1("permute", {x}, {{"perm", perm}}); }
  ValueId slice(ValueId x, int64_t dim, int64_t start, int64_t stop);
  ValueId concat(const std::vector<ValueId>& xs, int64_t dim) { return node1("concat", xs, {{"dim", dim}}); }
  ValueId attention(ValueId q, ValueId k, ValueId v, const AttentionOptions& options = {}, const std::string& name = "");
  ValueId cache_write(ValueId cache, ValueId x, const std::string& offset_scalar);

  // Name prefix for the nodes added next ("h.3.attn"); parameters take explicit names.
  void set_scope(const std::string& scope) { scope_ = scope; }

 private:
  std::string scoped(const std::string& name) const;
  std::shared_ptr<Graph> graph_;
  DType dtype_;
  std::map<std::string, ParameterInit> inits_;
  std::string scope_;
};

// Parameters drawn from their inits: normal with a stream per parameter derived from the
// seed and the name (adding a layer leaves the others' values unchanged), ones, zeros.
std::map<std::string, Tensor> random_parameters(const Graph& graph, const std::map<std::string, ParameterInit>& inits,
                                                uint64_t seed, Device device = {});

}  // namespace benchsuite::graph
