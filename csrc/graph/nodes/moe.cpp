// Node kinds of the mixture-of-experts layer (ops/moe): top-k routing, the permutation of
// token rows into expert groups and back, and the grouped linear over the groups, each with
// its gradient. models/layers.cpp builds Mixtral's sparse MoE block from them.
#include "graph/nodes/common.h"
#include "ops/manipulation/manipulation.h"
#include "ops/moe/moe.h"

namespace benchsuite::graph::nodes {
namespace {

void expect_2d(const char* kind, const char* name, const ValueType& t, DType dtype) {
  BENCHSUITE_GRAPH_CHECK(t.shape.size() == 2 && t.dtype == dtype, kind, name, " is ", t.str(), ", must be 2-D ",
                         dtype_name(dtype));
}
// The node's first float operand: float32, or float64 (the references).
void expect_2d(const char* kind, const char* name, const ValueType& t) {
  BENCHSUITE_GRAPH_CHECK(t.shape.size() == 2 && is_full_precision(t.dtype), kind, name, " is ", t.str(),
                         ", must be 2-D float32 or float64");
}

bool out_in(const Attrs& a) {
  const std::string layout = a.text_or("weight_layout", "out_in");
  BENCHSUITE_CHECK_ARG(layout == "out_in" || layout == "in_out", "grouped_linear: weight_layout='", layout,
                       "' must be 'out_in' (W [E, out, in]) or 'in_out' (W [E, in, out])");
  return layout == "out_in";
}

Cost moved(const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
  return streaming_cost(in, out, 1);
}

}  // namespace

BENCHSUITE_REGISTER_NODE_KINDS(moe) {
  NodeKind gate;
  gate.name = "topk_gate";
  gate.doc = "logits [T, E] -> (weights [T, k]: softmax over the k largest, indices [T, k])";
  gate.ops = {"topk_gate"};
  gate.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("topk_gate", in, 1, 1);
    expect_2d("topk_gate", "logits", in[0]);
    const int64_t k = a.integer_or("k", 0);
    BENCHSUITE_GRAPH_CHECK(k >= 1 && k <= in[0].shape[1], "topk_gate", "k=", k, " must be in [1, ",
                           in[0].shape[1], "] (the experts)");
    const Shape out = {in[0].shape[0], k};
    return std::vector<ValueType>{{out, in[0].dtype}, {out, DType::int64}};
  };
  gate.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 4);
  };
  gate.run = [](const NodeRun& r) {
    ops::run_moe<ops::TopkGateOp>(r.version(0), r.stream, r.in[0], r.node.attrs.integer("k"), r.out[0], r.out[1]);
  };
  gate.gradient = [](GradContext& c) -> std::vector<ValueId> {
    return {grad_node(c, "topk_gate_backward", {c.grad_outputs[0], c.node.outputs[0], c.node.outputs[1]},
                      {{"experts", type_of(c, c.node.inputs[0]).shape[1]}})};
  };
  kinds.push_back(gate);

  NodeKind gateb;
  gateb.name = "topk_gate_backward";
  gateb.doc = "(dweights, weights, indices) -> dlogits [T, experts], zero outside the chosen k";
  gateb.ops = {"topk_gate_backward"};
  gateb.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("topk_gate_backward", in, 3, 3);
    return std::vector<ValueType>{{{in[0].shape[0], a.integer_or("experts", 1)}, in[0].dtype}};
  };
  gateb.cost = moved;
  gateb.run = [](const NodeRun& r) {
    ops::run_moe<ops::TopkGateBackwardOp>(r.version(0), r.stream, r.in[0], r.in[1], r.in[2], r.out[0]);
  };
  kinds.push_back(gateb);

  NodeKind perm;
  perm.name = "moe_permute";
  perm.doc = "(x [T, H], indices [T, k]) -> (xs [T*k, H] grouped by expert, order [T*k], offsets [experts + 1])";
  perm.ops = {"moe_permute"};
  perm.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("moe_permute", in, 2, 2);
    expect_2d("moe_permute", "x", in[0]);
    expect_2d("moe_permute", "indices", in[1], DType::int64);
    BENCHSUITE_GRAPH_CHECK(in[1].shape[0] == in[0].shape[0], "moe_permute", "indices ", in[1].str(),
                           " must have a row per token of x ", in[0].str());
    const int64_t experts = a.integer_or("experts", 0), rows = in[1].shape[0] * in[1].shape[1];
    BENCHSUITE_GRAPH_CHECK(experts >= 1, "moe_permute", "experts=", experts, " must be >= 1");
    return std::vector<ValueType>{
        {{rows, in[0].shape[1]}, in[0].dtype}, {{rows}, DType::int64}, {{experts + 1}, DType::int64}};
  };
  perm.cost = moved;
  perm.run = [](const NodeRun& r) {
    ops::run_moe<ops::MoePermuteOp>(r.version(0), r.stream, r.in[0], r.in[1], r.out[0], r.out[1], r.out[2]);
  };
  perm.gradient = [](GradContext& c) -> std::vector<ValueId> {
    return {grad_node(c, "moe_permute_backward", {c.grad_outputs[0], c.node.outputs[1]},
                      {{"tokens", type_of(c, c.node.inputs[0]).shape[0]}}),
            kNoValue};
  };
  kinds.push_back(perm);

  NodeKind permb;
  permb.name = "moe_permute_backward";
  permb.doc = "(dxs [T*k, H], order) -> dx [T, H]: each token's k rows summed";
  permb.ops = {"moe_permute_backward"};
  permb.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("moe_permute_backward", in, 2, 2);
    return std::vector<ValueType>{{{a.integer_or("tokens", 1), in[0].shape[1]}, in[0].dtype}};
  };
  permb.cost = moved;
  permb.run = [](const NodeRun& r) {
    ops::run_moe<ops::MoePermuteBackwardOp>(r.version(0), r.stream, r.in[0], r.in[1], r.out[0]);
  };
  kinds.push_back(permb);

  NodeKind gl;
  gl.name = "grouped_linear";
  gl.doc = "(xs [N, in], offsets [E+1], W [E, out, in] or [E, in, out]) -> ys [N, out]: each expert's rows, its W";
  gl.ops = {"grouped_matmul"};
  gl.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("grouped_linear", in, 3, 3);
    expect_2d("grouped_linear", "xs", in[0]);
    const Shape& w = in[2].shape;
    BENCHSUITE_GRAPH_CHECK(w.size() == 3 && in[2].dtype == in[0].dtype, "grouped_linear", "W is ", in[2].str(),
                           ", must be [experts, out, in] of xs's dtype");
    BENCHSUITE_GRAPH_CHECK(in[1].shape == Shape{w[0] + 1} && in[1].dtype == DType::int64, "grouped_linear",
                           "offsets is ", in[1].str(), ", must be int64 [", w[0] + 1, "]");
    const bool t = out_in(a);
    BENCHSUITE_GRAPH_CHECK(in[0].shape[1] == (t ? w[2] : w[1]), "grouped_linear", "xs ", in[0].str(),
                           " does not match W ", in[2].str(), " (", t ? "out_in" : "in_out", ")");
    return std::vector<ValueType>{{{in[0].shape[0], t ? w[1] : w[2]}, in[0].dtype}};
  };
  gl.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    Cost c = streaming_cost(in, out, 0);
    c.flops = 2.0 * static_cast<double>(numel_of(out[0])) * static_cast<double>(in[0].shape[1]);
    return c;
  };
  // The op takes W [E, in, out]: an [E, out, in] weight is transposed once, at plan time.
  gl.pack = [](int input, const Tensor& w, const Attrs& a) {
    return input == 2 && out_in(a) ? ops::transpose(w) : Tensor();
  };
  gl.run = [](const NodeRun& r) {
    ops::run_moe<ops::GroupedMatmulOp>(r.version(0), r.stream, r.in[0], r.in[1], r.in[2], r.out[0]);
  };
  gl.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& in = c.node.inputs;
    const bool t = out_in(c.node.attrs);
    const ValueId dy = c.grad_outputs[0];
    // dxs = dys W_e^T: the same W read in the other layout.
    const ValueId dx = grad_node(c, "grouped_linear", {dy, in[1], in[2]},
                                 {{"weight_layout", std::string(t ? "in_out" : "out_in")}});
    const ValueId dw = grad_node(c, "grouped_matmul_weight_grad", {in[0], dy, in[1]}, {{"out_in", t}});
    return {dx, kNoValue, dw};
  };
  kinds.push_back(gl);

  NodeKind gw;
  gw.name = "grouped_matmul_weight_grad";
  gw.doc = "(xs [N, in], dys [N, out], offsets) -> dW [E, out, in] (out_in) or [E, in, out]";
  gw.ops = {"grouped_matmul_weight_grad"};
  gw.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("grouped_matmul_weight_grad", in, 3, 3);
    const int64_t experts = in[2].shape[0] - 1, k = in[0].shape[1], m = in[1].shape[1];
    return std::vector<ValueType>{
        {a.flag_or("out_in", true) ? Shape{experts, m, k} : Shape{experts, k, m}, in[0].dtype}};
  };
  gw.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    Cost c = streaming_cost(in, out, 0);
    c.flops = 2.0 * static_cast<double>(in[0].shape[0]) * static_cast<double>(in[0].shape[1]) *
              static_cast<double>(in[1].shape[1]);
    return c;
  };
  gw.run = [](const NodeRun& r) {
    ops::run_moe<ops::GroupedWeightGradOp>(r.version(0), r.stream, r.in[0], r.in[1], r.in[2],
                                           r.node.attrs.flag_or("out_in", true), r.out[0]);
  };
  kinds.push_back(gw);

  NodeKind un;
  un.name = "moe_unpermute";
  un.doc = "(ys [T*k, H], order, weights [T, k]) -> out [T, H]: each token's k rows weighted and summed";
  un.ops = {"moe_unpermute"};
  un.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("moe_unpermute", in, 3, 3);
    expect_2d("moe_unpermute", "ys", in[0]);
    expect_2d("moe_unpermute", "weights", in[2], in[0].dtype);
    BENCHSUITE_GRAPH_CHECK(numel_of(in[2]) == in[0].shape[0] && in[1].shape == Shape{in[0].shape[0]}, "moe_unpermute",
                           "ys ", in[0].str(), ", order ", in[1].str(), " and weights ", in[2].str(), " disagree");
    return std::vector<ValueType>{{{in[2].shape[0], in[0].shape[1]}, in[0].dtype}};
  };
  un.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, static_cast<double>(2 * in[2].shape[1]));
  };
  un.run = [](const NodeRun& r) {
    ops::run_moe<ops::MoeUnpermuteOp>(r.version(0), r.stream, r.in[0], r.in[1], r.in[2], r.out[0]);
  };
  un.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& in = c.node.inputs;
    const auto outs = c.graph.add_node("moe_unpermute_backward", {c.grad_outputs[0], in[0], in[1], in[2]}, {},
                                       c.prefix + ".moe_unpermute_backward");
    return {outs[0], kNoValue, outs[1]};
  };
  kinds.push_back(un);

  NodeKind unb;
  unb.name = "moe_unpermute_backward";
  unb.doc = "(dout, ys, order, weights) -> (dys, dweights)";
  unb.ops = {"moe_unpermute_backward"};
  unb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("moe_unpermute_backward", in, 4, 4);
    return std::vector<ValueType>{in[1], in[3]};
  };
  unb.cost = moved;
  unb.run = [](const NodeRun& r) {
    ops::run_moe<ops::MoeUnpermuteBackwardOp>(r.version(0), r.stream, r.in[0], r.in[1], r.in[2], r.in[3], r.out[0],
                                              r.out[1]);
  };
  kinds.push_back(unb);
}

}  // namespace benchsuite::graph::nodes
