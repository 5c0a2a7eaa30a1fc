// Node kinds of the pointwise ops: add and mul (equal shapes, or b a row vector over a's
// last axis: a bias, a residual), and the activations, each running the registered op of
// its name.
#include "graph/nodes/common.h"
#include "ops/dispatch.h"
#include "ops/dropout/dropout.h"
#include "ops/elementwise/elementwise.h"

namespace benchsuite::graph::nodes {
namespace {

std::vector<ValueType> infer_binary(const char* kind, const std::vector<ValueType>& in) {
  expect_inputs(kind, in, 2, 2);
  const ValueType &a = in[0], &b = in[1];
  expect_float(kind, "a", a);
  BENCHSUITE_GRAPH_CHECK(a.dtype == b.dtype, kind, "a is ", a.str(), " but b is ", b.str());
  const bool row = b.shape.size() == 1 && !a.shape.empty() && b.shape[0] == a.shape.back();
  BENCHSUITE_GRAPH_CHECK(a.shape == b.shape || row, kind, "b ", b.str(), " must have a's shape ", a.str(),
                         " or be a row vector of its last dimension");
  return {a};
}

NodeKind binary_kind(const char* name, const char* doc) {
  NodeKind k;
  k.name = name;
  k.doc = doc;
  k.ops = {name};
  k.infer = [name](const std::vector<ValueType>& in, const Attrs&) { return infer_binary(name, in); };
  k.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 1);
  };
  k.run = [](const NodeRun& r) { ops::run_binary(r.version(0), r.in[0], r.in[1], r.out[0], r.stream); };
  const std::string op = name;
  k.gradient = [op](GradContext& c) -> std::vector<ValueId> {
    const ValueId a = c.node.inputs[0], b = c.node.inputs[1], dy = c.grad_outputs[0];
    if (op == "add") return {dy, reduce_like(c, dy, b)};
    return {grad_node(c, "mul", {dy, b}), reduce_like(c, grad_node(c, "mul", {dy, a}), b)};  // mul
  };
  return k;
}

// dx = f(x, dy) through the registered backward op `name` (e.g. gelu_backward(x, dy)).
NodeKind backward_kind(const std::string& name, const char* doc) {
  NodeKind k;
  k.name = name;
  k.doc = doc;
  k.ops = {name};
  k.infer = [name](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs(name.c_str(), in, 2, 2);
    BENCHSUITE_GRAPH_CHECK(in[0] == in[1], name.c_str(), "the two inputs differ: ", in[0].str(), ", ", in[1].str());
    return std::vector<ValueType>{in[0]};
  };
  k.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 4);
  };
  k.run = [](const NodeRun& r) { ops::run_binary(r.version(0), r.in[0], r.in[1], r.out[0], r.stream); };
  return k;
}

NodeKind activation_kind(const char* name, const char* doc, double flops) {
  NodeKind k;
  k.name = name;
  k.doc = doc;
  k.ops = {name};
  k.infer = [name](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs(name, in, 1, 1);
    expect_float(name, "x", in[0]);
    return std::vector<ValueType>{in[0]};
  };
  k.cost = [flops](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, flops);
  };
  k.run = [](const NodeRun& r) { ops::run_unary(r.version(0), r.in[0], r.out[0], r.stream); };
  const std::string backward = std::string(name) + "_backward";
  // softmax_backward and sigmoid_backward take the output y, the others x
  const bool from_output = std::string(name) == "softmax" || std::string(name) == "sigmoid";
  k.gradient = [backward, from_output](GradContext& c) -> std::vector<ValueId> {
    const ValueId saved = from_output ? c.node.outputs[0] : c.node.inputs[0];
    return {grad_node(c, backward, {saved, c.grad_outputs[0]})};
  };
  return k;
}

// out = alpha * x + y (equal shapes): with alpha = -1 the difference y - x (a GRU's
// (1 - z) * n + z * h is n + z * (h - n)).
NodeKind axpy_kind() {
  NodeKind k;
  k.name = "axpy";
  k.doc = "alpha * x + y, equal shapes (alpha = -1: y - x)";
  k.ops = {"axpy"};
  k.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("axpy", in, 2, 2);
    expect_float("axpy", "x", in[0]);
    BENCHSUITE_GRAPH_CHECK(in[0] == in[1], "axpy", "x ", in[0].str(), " and y ", in[1].str(), " must match");
    BENCHSUITE_GRAPH_CHECK(a.has("alpha"), "axpy", "needs the attribute alpha");
    return std::vector<ValueType>{in[0]};
  };
  k.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 2);
  };
  k.run = [](const NodeRun& r) {
    r.version(0).fn<ops::AxpySignature>()(static_cast<float>(r.node.attrs.real("alpha")), r.in[0], r.in[1], r.out[0],
                                           r.stream);
  };
  k.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const double alpha = c.node.attrs.real("alpha");
    const ValueId dy = c.grad_outputs[0];
    // d/dx = alpha * dy, formed as (alpha - 1) * dy + dy: exact for alpha = -1 and 1.
    const ValueId dx = alpha == 1.0 ? dy : grad_node(c, "axpy", {dy, dy}, {{"alpha", alpha - 1.0}});
    return {dx, dy};
  };
  return k;
}

// Dropout's stream: the node's seed, moved on by the runtime scalar step_scalar (a training
// step counter) when the node names one, so each step draws a new mask and a rerun of the
// same step the same one.
uint64_t dropout_seed(const NodeRun& r) {
  const uint64_t seed = static_cast<uint64_t>(r.node.attrs.integer_or("seed", 0));
  const std::string step = r.node.attrs.text_or("step_scalar", "");
  return step.empty() ? seed : seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(r.scalar(step) + 1);
}

NodeKind dropout_kind() {
  NodeKind k;
  k.name = "dropout";
  k.doc = "x * keep / (1 - p), keep drawn from (seed, element) [, step_scalar]; its gradient is the same mask on dy";
  k.ops = {"dropout"};
  k.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("dropout", in, 1, 1);
    BENCHSUITE_GRAPH_CHECK(is_full_precision(in[0].dtype), "dropout", "x is ", in[0].str(), ", must be float32 or float64");
    const double p = a.real_or("p", 0.0);
    BENCHSUITE_GRAPH_CHECK(p >= 0.0 && p < 1.0, "dropout", "p=", p, " must be in [0, 1)");
    return std::vector<ValueType>{in[0]};
  };
  k.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 2);
  };
  k.run = [](const NodeRun& r) {
    ops::run_dropout(r.version(0), r.in[0], r.out[0], r.node.attrs.real_or("p", 0.0), dropout_seed(r), r.stream);
  };
  k.gradient = [](GradContext& c) -> std::vector<ValueId> {
    return {grad_node(c, "dropout", {c.grad_outputs[0]}, c.node.attrs)};
  };
  return k;
}

}  // namespace

BENCHSUITE_REGISTER_NODE_KINDS(elementwise) {
  kinds.push_back(dropout_kind());
  kinds.push_back(binary_kind("add", "a + b (b: a's shape, or a row vector over a's last axis)"));
  kinds.push_back(binary_kind("mul", "a * b (b: a's shape, or a row vector over a's last axis)"));
  kinds.push_back(activation_kind("relu", "max(x, 0)", 1));
  kinds.push_back(activation_kind("gelu", "GELU, tanh form (GPT-2's gelu_new)", 8));
  kinds.push_back(activation_kind("gelu_erf", "GELU, exact erf form (BERT)", 8));
  kinds.push_back(activation_kind("silu", "x * sigmoid(x)", 4));
  kinds.push_back(activation_kind("tanh", "tanh(x)", 4));
  kinds.push_back(activation_kind("sigmoid", "1 / (1 + exp(-x))", 4));
  kinds.push_back(activation_kind("softmax", "softmax over the last axis", 5));
  kinds.push_back(axpy_kind());
  for (const char* name : {"relu", "gelu", "gelu_erf", "silu", "tanh"})
    kinds.push_back(backward_kind(std::string(name) + "_backward", "dx = dy * f'(x): inputs (x, dy)"));
  kinds.push_back(backward_kind("softmax_backward", "dx = y * (dy - sum(dy * y)): inputs (y, dy)"));
  kinds.push_back(backward_kind("sigmoid_backward", "dx = dy * y * (1 - y): inputs (y, dy)"));
}

}  // namespace benchsuite::graph::nodes
