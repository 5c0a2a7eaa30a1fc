// Node kinds of the channel normalisations on x [N, C, ...]: group_norm -> (y, mean, rstd)
// and batch_norm -> (y, mean, rstd) (batch statistics when the attribute training is true,
// else the running ones given as inputs), with their backwards (ops/channel_norms).
#include "graph/nodes/common.h"
#include "ops/channel_norms/channel_norms.h"

namespace benchsuite::graph::nodes {
namespace {

void check_channels(const char* kind, const std::vector<ValueType>& in, size_t first, size_t last) {
  for (size_t i = first; i <= last && i < in.size(); ++i) {
    if (is_absent(in[i])) continue;
    BENCHSUITE_GRAPH_CHECK(in[i].shape == Shape{in[0].shape[1]} && in[i].dtype == in[0].dtype, kind, "input ", i,
                           " is ", in[i].str(), ", must be [", in[0].shape[1], "] of x's dtype (x's channels)");
  }
}

void check_x(const char* kind, const ValueType& x, double eps) {
  BENCHSUITE_GRAPH_CHECK(x.shape.size() >= 2 && is_full_precision(x.dtype), kind, "x is ", x.str(),
                         ", must be float32 or float64 [N, C, ...]");
  BENCHSUITE_GRAPH_CHECK(eps > 0, kind, "eps=", eps, " must be > 0");
}

Cost norm_cost(const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
  return streaming_cost(in, out, 8);
}

bool training_of(const Attrs& a) { return a.flag_or("training", true); }

}  // namespace

BENCHSUITE_REGISTER_NODE_KINDS(channel_norms) {
  NodeKind gn;
  gn.name = "group_norm";
  gn.doc = "(x [N, C, ...], gamma, beta) -> (y, mean, rstd): statistics per sample and group of C/groups channels";
  gn.ops = {"group_norm"};
  gn.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("group_norm", in, 3, 3);
    check_x("group_norm", in[0], a.real_or("eps", 1e-5));
    const int64_t groups = a.integer_or("groups", 1);
    BENCHSUITE_GRAPH_CHECK(groups >= 1 && in[0].shape[1] % groups == 0, "group_norm", "groups=", groups,
                           " must divide the channels (", in[0].shape[1], ")");
    check_channels("group_norm", in, 1, 2);
    const ValueType stats{{in[0].shape[0] * groups}, in[0].dtype};
    return std::vector<ValueType>{in[0], stats, stats};
  };
  gn.cost = norm_cost;
  gn.run = [](const NodeRun& r) {
    const Attrs& a = r.node.attrs;
    ops::run_group_norm(r.version(0), r.in[0], r.in[1], r.in[2], a.integer_or("groups", 1), a.real_or("eps", 1e-5),
                        r.out[0], r.out[1], r.out[2], r.stream);
  };
  gn.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& in = c.node.inputs;
    const auto outs = c.graph.add_node("group_norm_backward",
                                       {c.grad_outputs[0], in[0], in[1], c.node.outputs[1], c.node.outputs[2]},
                                       {{"groups", c.node.attrs.integer_or("groups", 1)}},
                                       c.prefix + ".group_norm_backward");
    return {outs[0], outs[1], outs[2]};
  };
  kinds.push_back(gn);

  NodeKind gnb;
  gnb.name = "group_norm_backward";
  gnb.doc = "(dy, x, gamma, mean, rstd) -> (dx, dgamma, dbeta)";
  gnb.ops = {"group_norm_backward"};
  gnb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("group_norm_backward", in, 5, 5);
    BENCHSUITE_GRAPH_CHECK(in[0] == in[1], "group_norm_backward", "dy ", in[0].str(), " must match x ", in[1].str());
    return std::vector<ValueType>{in[1], in[2], in[2]};
  };
  gnb.cost = norm_cost;
  gnb.run = [](const NodeRun& r) {
    ops::run_group_norm_backward(r.version(0), r.in[0], r.in[1], r.in[2], r.in[3], r.in[4],
                                 r.node.attrs.integer_or("groups", 1), r.out[0], r.out[1], r.out[2], r.stream);
  };
  kinds.push_back(gnb);

  NodeKind bn;
  bn.name = "batch_norm";
  bn.doc = "(x [N, C, ...], gamma, beta, running_mean, running_var) -> (y, mean, rstd); training: batch statistics "
           "(the running ones may be absent)";
  bn.ops = {"batch_norm"};
  bn.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("batch_norm", in, 3, 5);
    check_x("batch_norm", in[0], a.real_or("eps", 1e-5));
    check_channels("batch_norm", in, 1, 4);
    BENCHSUITE_GRAPH_CHECK(training_of(a) || (present(in, 3) && present(in, 4)), "batch_norm",
                           "inference (training=false) needs running_mean and running_var");
    const ValueType stats{{in[0].shape[1]}, in[0].dtype};
    return std::vector<ValueType>{in[0], stats, stats};
  };
  bn.cost = norm_cost;
  bn.run = [](const NodeRun& r) {
    const bool training = training_of(r.node.attrs);
    const Tensor none;
    ops::run_batch_norm(r.version(0), r.in[0], r.in[1], r.in[2], training ? none : r.in[3],
                        training ? none : r.in[4], training, r.node.attrs.real_or("eps", 1e-5), r.out[0], r.out[1],
                        r.out[2], r.stream);
  };
  bn.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& in = c.node.inputs;
    const auto outs = c.graph.add_node("batch_norm_backward",
                                       {c.grad_outputs[0], in[0], in[1], c.node.outputs[1], c.node.outputs[2]},
                                       {{"training", training_of(c.node.attrs)}}, c.prefix + ".batch_norm_backward");
    std::vector<ValueId> grads = {outs[0], outs[1], outs[2]};
    grads.resize(in.size(), kNoValue);  // the running statistics get none
    return grads;
  };
  kinds.push_back(bn);

  NodeKind bnb;
  bnb.name = "batch_norm_backward";
  bnb.doc = "(dy, x, gamma, mean, rstd) -> (dx, dgamma, dbeta); training: the statistics depend on x";
  bnb.ops = {"batch_norm_backward"};
  bnb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("batch_norm_backward", in, 5, 5);
    BENCHSUITE_GRAPH_CHECK(in[0] == in[1], "batch_norm_backward", "dy ", in[0].str(), " must match x ", in[1].str());
    return std::vector<ValueType>{in[1], in[2], in[2]};
  };
  bnb.cost = norm_cost;
  bnb.run = [](const NodeRun& r) {
    ops::run_batch_norm_backward(r.version(0), r.in[0], r.in[1], r.in[2], r.in[3], r.in[4],
                                 training_of(r.node.attrs), r.out[0], r.out[1], r.out[2], r.stream);
  };
  kinds.push_back(bnb);
}

}  // namespace benchsuite::graph::nodes
