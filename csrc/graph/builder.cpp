// The builder's node wrappers and random parameters.
#include "graph/builder.h"

#include "core/error.h"
#include "ops/dispatch.h"

namespace benchsuite::graph {

std::shared_ptr<Graph> Builder::finish() {
  graph_->verify();
  return graph_;
}

std::string Builder::scoped(const std::string& name) const {
  if (scope_.empty()) return name;
  return name.empty() ? scope_ : scope_ + "." + name;
}

ValueId Builder::input(const std::string& name, const Shape& shape, DType dtype) {
  return graph_->add_input(name, {shape, dtype});
}

ValueId Builder::parameter(const std::string& name, const Shape& shape, ParameterInit init) {
  const ValueId existing = graph_->find(name);
  if (existing != kNoValue) {
    const Value& v = graph_->value(existing);
    BENCHSUITE_CHECK_ARG(v.kind == ValueKind::parameter && v.type.shape == shape, "parameter '", name,
                         "' already exists as ", value_kind_name(v.kind), " ", v.type.str(), ", asked for ",
                         shape_str(shape));
    return existing;
  }
  inits_[name] = init;
  return graph_->add_parameter(name, {shape, dtype_});
}

ValueId Builder::state(const std::string& name, const Shape& shape) { return graph_->add_state(name, {shape, dtype_}); }

void Builder::scalar(const std::string& name) { graph_->add_scalar(name); }

void Builder::output(ValueId value, const std::string& name) { graph_->mark_output(value, name); }

std::vector<ValueId> Builder::node(const std::string& kind, const std::vector<ValueId>& inputs, Attrs attrs,
                                   const std::string& name) {
  return graph_->add_node(kind, inputs, std::move(attrs), scoped(name.empty() ? kind : name));
}

ValueId Builder::linear(ValueId x, ValueId weight, ValueId bias, bool in_out, const std::string& name) {
  std::vector<ValueId> in = {x, weight};
  if (bias != kNoValue) in.push_back(bias);
  return node1("linear", in, {{"weight_layout", std::string(in_out ? "in_out" : "out_in")}},
               name.empty() ? "linear" : name);
}

ValueId Builder::linear(ValueId x, int64_t out_features, const std::string& name, bool bias, bool in_out) {
  const int64_t in_features = shape(x).empty() ? 1 : shape(x).back();
  const Shape w_shape = in_out ? Shape{in_features, out_features} : Shape{out_features, in_features};
  const ValueId w = parameter(name + ".weight", w_shape);
  const ValueId b = bias ? parameter(name + ".bias", {out_features}, {ParameterInit::Kind::zeros}) : kNoValue;
  std::vector<ValueId> in = {x, w};
  if (b != kNoValue) in.push_back(b);
  return graph_->add_node("linear", in, {{"weight_layout", std::string(in_out ? "in_out" : "out_in")}}, name).at(0);
}

ValueId Builder::matmul(ValueId a, ValueId b, const std::string& name) { return node1("matmul", {a, b}, {}, name); }

ValueId Builder::layernorm(ValueId x, const std::string& name, double eps, const std::string& weight,
                           const std::string& bias) {
  const Shape dim = {shape(x).back()};
  const ValueId g = parameter(name + "." + weight, dim, {ParameterInit::Kind::ones});
  const ValueId b = parameter(name + "." + bias, dim, {ParameterInit::Kind::zeros});
  return graph_->add_node("layernorm", {x, g, b}, {{"eps", eps}}, name).at(0);
}

ValueId Builder::rmsnorm(ValueId x, const std::string& name, double eps, const std::string& weight) {
  const ValueId g = parameter(name + "." + weight, {shape(x).back()}, {ParameterInit::Kind::ones});
  return graph_->add_node("rmsnorm", {x, g}, {{"eps", eps}}, name).at(0);
}

ValueId Builder::embedding(ValueId ids, int64_t vocab, int64_t dim, const std::string& weight_name,
                           int64_t padding_idx) {
  const ValueId w = parameter(weight_name, {vocab, dim});
  Attrs attrs;
  if (padding_idx >= 0) attrs.set("padding_idx", padding_idx);
  return graph_->add_node("embedding", {w, ids}, attrs, weight_name.substr(0, weight_name.rfind('.'))).at(0);
}

ValueId Builder::positions(ValueId ids, int64_t max_positions, int64_t dim, const std::string& weight_name,
                           const std::string& offset_scalar) {
  const ValueId w = parameter(weight_name, {max_positions, dim});
  Attrs attrs;
  if (!offset_scalar.empty()) attrs.set("offset_scalar", offset_scalar);
  return graph_->add_node("positions", {w, ids}, attrs, weight_name.substr(0, weight_name.rfind('.'))).at(0);
}

ValueId Builder::rope(ValueId x, double base, const std::string& offset_scalar) {
  Attrs attrs{{"base", base}};
  if (!offset_scalar.empty()) attrs.set("offset_scalar", offset_scalar);
  return node1("rope", {x}, attrs);
}

ValueId Builder::slice(ValueId x, int64_t dim, int64_t start, int64_t stop) {
  return node1("slice", {x}, {{"dim", dim}, {"start", start}, {"stop", stop}});
}

ValueId Builder::attention(ValueId q, ValueId k, ValueId v, const AttentionOptions& o, const std::string& name) {
  Attrs attrs{{"causal", o.causal}, {"window", o.window}};
  if (o.scale) attrs.set("scale", *o.scale);
  if (!o.offset_scalar.empty()) attrs.set("offset_scalar", o.offset_scalar);
  std::vector<ValueId> in = {q, k, v};
  if (o.key_mask != kNoValue) in.push_back(o.key_mask);
  return node1("attention", in, attrs, name.empty() ? "attention" : name);
}

ValueId Builder::cache_write(ValueId cache, ValueId x, const std::string& offset_scalar) {
  return node1("cache_write", {cache, x}, {{"offset_scalar", offset_scalar}});
}

std::map<std::string, Tensor> random_parameters(const Graph& graph, const std::map<std::string, ParameterInit>& inits,
                                                uint64_t seed, Device device) {
  std::map<std::string, Tensor> out;
  for (ValueId id : graph.parameters()) {
    const Value& v = graph.value(id);
    auto it = inits.find(v.name);
    const ParameterInit init = it == inits.end() ? ParameterInit{} : it->second;
    Tensor t = Tensor::empty(v.type.shape, v.type.dtype, device);
    ops::CreationParams p;
    if (init.kind == ParameterInit::Kind::normal) {
      // FNV-1a of the name: a stream per parameter, stable when others are added.
      uint64_t h = 1469598103934665603ull;
      for (unsigned char c : v.name) h = (h ^ c) * 1099511628211ull;
      p.seed = seed ^ h;
      p.a = 0.0f;
      p.b = static_cast<float>(init.std);
      ops::run_creation(ops::select_version("randn", device, v.type.dtype, ""), t, p);
    } else {
      p.value = init.kind == ParameterInit::Kind::ones ? 1.0 : 0.0;
      ops::run_creation(ops::select_version("fill", device, v.type.dtype, ""), t, p);
    }
    out[v.name] = t;
  }
  return out;
}

}  // namespace benchsuite::graph
