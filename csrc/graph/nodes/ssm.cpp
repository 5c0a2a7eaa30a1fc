// Node kinds of the Mamba block's pieces: the causal depthwise conv1d and the selective SSM
// core (ops/conv, ops/ssm), each with its gradient. models/layers.cpp builds the block.
#include "graph/nodes/common.h"
#include "ops/conv/conv.h"
#include "ops/ssm/ssm.h"

namespace benchsuite::graph::nodes {

BENCHSUITE_REGISTER_NODE_KINDS(ssm) {
  NodeKind dw;
  dw.name = "depthwise_conv1d";
  dw.doc = "(x [B, C, L], w [C, K], bias [C] optional) -> y [B, C, L + pad_left - K + 1], per channel";
  dw.ops = {"depthwise_conv1d"};
  dw.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("depthwise_conv1d", in, 2, 3);
    const ValueType &x = in[0], &w = in[1];
    BENCHSUITE_GRAPH_CHECK(x.shape.size() == 3 && is_full_precision(x.dtype), "depthwise_conv1d", "x is ", x.str(),
                           ", must be float32 or float64 [B, C, L]");
    BENCHSUITE_GRAPH_CHECK(w.shape.size() == 2 && w.shape[0] == x.shape[1], "depthwise_conv1d", "w is ", w.str(),
                           ", must be [", x.shape[1], ", kernel]");
    if (present(in, 2))
      BENCHSUITE_GRAPH_CHECK(in[2].shape == Shape{x.shape[1]}, "depthwise_conv1d", "bias is ", in[2].str(),
                             ", must be [", x.shape[1], "]");
    const int64_t pad = a.integer_or("pad_left", 0), out = x.shape[2] + pad - w.shape[1] + 1;
    BENCHSUITE_GRAPH_CHECK(pad >= 0 && out >= 1, "depthwise_conv1d", "pad_left=", pad, " with kernel ", w.shape[1],
                           " over length ", x.shape[2], " leaves no output");
    return std::vector<ValueType>{{{x.shape[0], x.shape[1], out}, x.dtype}};
  };
  dw.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    Cost c = streaming_cost(in, out, 0);
    c.flops = 2.0 * static_cast<double>(numel_of(out[0]) * in[1].shape[1]);
    return c;
  };
  dw.run = [](const NodeRun& r) {
    ops::run_depthwise_conv1d(r.version(0), r.in[0], r.in[1], r.in.size() > 2 ? r.in[2] : Tensor(),
                              r.node.attrs.integer_or("pad_left", 0), r.out[0], r.stream);
  };
  dw.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& in = c.node.inputs;
    const auto g = c.graph.add_node("depthwise_conv1d_backward", {c.grad_outputs[0], in[0], in[1]},
                                    {{"pad_left", c.node.attrs.integer_or("pad_left", 0)}},
                                    c.prefix + ".depthwise_conv1d_backward");
    std::vector<ValueId> grads = {g[0], g[1], g[2]};
    grads.resize(in.size());
    return grads;
  };
  kinds.push_back(dw);

  NodeKind dwb;
  dwb.name = "depthwise_conv1d_backward";
  dwb.doc = "(dy, x, w) -> (dx, dw, dbias)";
  dwb.ops = {"depthwise_conv1d_backward"};
  dwb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("depthwise_conv1d_backward", in, 3, 3);
    return std::vector<ValueType>{in[1], in[2], {{in[1].shape[1]}, in[1].dtype}};
  };
  dwb.cost = dw.cost;
  dwb.run = [](const NodeRun& r) {
    ops::run_depthwise_conv1d_backward(r.version(0), r.in[0], r.in[1], r.in[2], r.node.attrs.integer_or("pad_left", 0),
                                       r.out[0], r.out[1], r.out[2], r.stream);
  };
  kinds.push_back(dwb);

  NodeKind ssm;
  ssm.name = "mamba_ssm";
  ssm.doc = "Mamba's selective SSM: (x, dt, A_log, B, C, D) -> y [B, T, D] (formulas in ops/ssm/ssm.h)";
  ssm.ops = {"mamba_ssm"};
  ssm.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("mamba_ssm", in, 6, 6);
    BENCHSUITE_GRAPH_CHECK(in[0].shape.size() == 3 && in[2].shape.size() == 2, "mamba_ssm", "x is ", in[0].str(),
                           " and A_log ", in[2].str(), ": must be [B, T, D] and [D, N]");
    const int64_t b = in[0].shape[0], t = in[0].shape[1], d = in[0].shape[2], n = in[2].shape[1];
    const Shape want[] = {{b, t, d}, {b, t, d}, {d, n}, {b, t, n}, {b, t, n}, {d}};
    const char* names[] = {"x", "dt", "A_log", "B", "C", "D"};
    for (size_t i = 0; i < 6; ++i)
      BENCHSUITE_GRAPH_CHECK(in[i].shape == want[i] && in[i].dtype == in[0].dtype && is_full_precision(in[i].dtype), "mamba_ssm", names[i], " is ",
                             in[i].str(), ", must be ", shape_str(want[i]), " of x's dtype (float32 or float64)");
    return std::vector<ValueType>{in[0]};
  };
  ssm.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    Cost c = streaming_cost(in, out, 0);
    c.flops = 8.0 * static_cast<double>(numel_of(in[0]) * in[2].shape[1]);
    return c;
  };
  ssm.run = [](const NodeRun& r) {
    r.version(0).fn<ops::MambaSsmSignature>()(r.in, r.out[0], r.stream);
  };
  ssm.gradient = [](GradContext& c) -> std::vector<ValueId> {
    std::vector<ValueId> in = {c.grad_outputs[0]};
    in.insert(in.end(), c.node.inputs.begin(), c.node.inputs.end());
    return c.graph.add_node("mamba_ssm_backward", in, {}, c.prefix + ".mamba_ssm_backward");
  };
  kinds.push_back(ssm);

  NodeKind ssmb;
  ssmb.name = "mamba_ssm_backward";
  ssmb.doc = "(dy, x, dt, A_log, B, C, D) -> (dx, ddt, dA_log, dB, dC, dD)";
  ssmb.ops = {"mamba_ssm_backward"};
  ssmb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("mamba_ssm_backward", in, 7, 7);
    return std::vector<ValueType>(in.begin() + 1, in.end());
  };
  ssmb.cost = ssm.cost;
  ssmb.run = [](const NodeRun& r) {
    const std::vector<Tensor> in(r.in.begin() + 1, r.in.end());
    r.version(0).fn<ops::MambaSsmBackwardSignature>()(r.in[0], in, r.out, r.stream);
  };
  kinds.push_back(ssmb);
}

}  // namespace benchsuite::graph::nodes
