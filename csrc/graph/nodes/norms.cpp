// Node kinds of the normalisations over the last axis: layernorm -> (y, mean, rstd) and
// rmsnorm -> (y, rstd); the row statistics are outputs so that the backward can reuse them.
#include "graph/nodes/common.h"
#include "ops/norms/norms.h"

namespace benchsuite::graph::nodes {
namespace {

Shape rows_shape(const Shape& x) { return Shape(x.begin(), x.end() - 1); }

void check_param(const char* kind, const char* name, const std::vector<ValueType>& in, size_t i) {
  if (!present(in, i)) return;
  BENCHSUITE_GRAPH_CHECK(in[i].shape == Shape{in[0].shape.back()} && in[i].dtype == in[0].dtype, kind, name, " is ",
                         in[i].str(), ", must be [", in[0].shape.back(), "] of x's dtype");
}

double eps_of(const Attrs& a) { return a.real_or("eps", 1e-5); }

}  // namespace

BENCHSUITE_REGISTER_NODE_KINDS(norms) {
  NodeKind ln;
  ln.name = "layernorm";
  ln.doc = "y = (x - mean) * rstd * gamma + beta over the last axis -> (y, mean, rstd); gamma, beta optional";
  ln.ops = {"layernorm"};
  ln.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("layernorm", in, 1, 3);
    expect_float("layernorm", "x", in[0]);
    BENCHSUITE_GRAPH_CHECK(!in[0].shape.empty(), "layernorm", "x must be at least 1-D");
    check_param("layernorm", "gamma", in, 1);
    check_param("layernorm", "beta", in, 2);
    BENCHSUITE_GRAPH_CHECK(eps_of(a) > 0, "layernorm", "eps=", eps_of(a), " must be > 0");
    const ValueType stats{rows_shape(in[0].shape), stats_dtype(in[0].dtype)};
    return std::vector<ValueType>{in[0], stats, stats};
  };
  ln.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 8);
  };
  ln.run = [](const NodeRun& r) {
    const Tensor gamma = r.in.size() > 1 ? r.in[1] : Tensor(), beta = r.in.size() > 2 ? r.in[2] : Tensor();
    BENCHSUITE_CHECK_ARG(gamma.defined() && beta.defined(), "layernorm node: gamma and beta are required to run");
    ops::run_layernorm(r.version(0), r.in[0], gamma, beta, eps_of(r.node.attrs), r.out[0], r.out[1], r.out[2],
                       r.stream);
  };
  ln.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& in = c.node.inputs;
    BENCHSUITE_CHECK_ARG(in.size() == 3 && in[1] != kNoValue && in[2] != kNoValue, "backward: layernorm node '",
                         c.node.name, "' without gamma and beta");
    const auto outs = c.graph.add_node("layernorm_backward",
                                       {c.grad_outputs[0], in[0], in[1], c.node.outputs[1], c.node.outputs[2]}, {},
                                       c.prefix + ".layernorm_backward");
    return {outs[0], outs[1], outs[2]};
  };
  kinds.push_back(ln);

  NodeKind rms;
  rms.name = "rmsnorm";
  rms.doc = "y = x * rsqrt(mean(x^2) + eps) * gamma over the last axis -> (y, rstd)";
  rms.ops = {"rmsnorm"};
  rms.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("rmsnorm", in, 2, 2);
    expect_float("rmsnorm", "x", in[0]);
    BENCHSUITE_GRAPH_CHECK(!in[0].shape.empty(), "rmsnorm", "x must be at least 1-D");
    check_param("rmsnorm", "gamma", in, 1);
    BENCHSUITE_GRAPH_CHECK(eps_of(a) > 0, "rmsnorm", "eps=", eps_of(a), " must be > 0");
    return std::vector<ValueType>{in[0], {rows_shape(in[0].shape), stats_dtype(in[0].dtype)}};
  };
  rms.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 4);
  };
  rms.run = [](const NodeRun& r) {
    ops::run_rmsnorm(r.version(0), r.in[0], r.in[1], eps_of(r.node.attrs), r.out[0], r.out[1], r.stream);
  };
  rms.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& in = c.node.inputs;
    const auto outs = c.graph.add_node("rmsnorm_backward", {c.grad_outputs[0], in[0], in[1], c.node.outputs[1]}, {},
                                       c.prefix + ".rmsnorm_backward");
    return {outs[0], outs[1]};
  };
  kinds.push_back(rms);

  NodeKind lnb;
  lnb.name = "layernorm_backward";
  lnb.doc = "(dy, x, gamma, mean, rstd) -> (dx, dgamma, dbeta)";
  lnb.ops = {"layernorm_backward"};
  lnb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("layernorm_backward", in, 5, 5);
    BENCHSUITE_GRAPH_CHECK(in[0] == in[1], "layernorm_backward", "dy ", in[0].str(), " must match x ", in[1].str());
    return std::vector<ValueType>{in[1], in[2], in[2]};
  };
  lnb.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 10);
  };
  lnb.run = [](const NodeRun& r) {
    ops::run_layernorm_backward(r.version(0), r.in[0], r.in[1], r.in[2], r.in[3], r.in[4], r.out[0], r.out[1],
                                r.out[2], r.stream);
  };
  kinds.push_back(lnb);

  NodeKind rmsb;
  rmsb.name = "rmsnorm_backward";
  rmsb.doc = "(dy, x, gamma, rstd) -> (dx, dgamma)";
  rmsb.ops = {"rmsnorm_backward"};
  rmsb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("rmsnorm_backward", in, 4, 4);
    BENCHSUITE_GRAPH_CHECK(in[0] == in[1], "rmsnorm_backward", "dy ", in[0].str(), " must match x ", in[1].str());
    return std::vector<ValueType>{in[1], in[2]};
  };
  rmsb.cost = lnb.cost;
  rmsb.run = [](const NodeRun& r) {
    ops::run_rmsnorm_backward(r.version(0), r.in[0], r.in[1], r.in[2], r.in[3], r.out[0], r.out[1], r.stream);
  };
  kinds.push_back(rmsb);
}

}  // namespace benchsuite::graph::nodes
