// Node kinds of the conv family on x [N, C, H, W]: unfold (im2col) and its adjoint fold,
// max and average pooling and their backwards. Convolutions are built from unfold and a
// linear in models/layers.cpp. Windows are attributes: kernel, stride, padding, dilation,
// each [h, w].
#include "graph/nodes/common.h"
#include "ops/conv/conv.h"

namespace benchsuite::graph::nodes {
namespace {

std::pair<int64_t, int64_t> pair_attr(const Attrs& a, const char* name, int64_t fallback) {
  if (!a.has(name)) return {fallback, fallback};
  const auto& v = a.ints(name);
  BENCHSUITE_CHECK_ARG(v.size() == 2, name, " must be [h, w], got ", v.size(), " values");
  return {v[0], v[1]};
}

Window2d window_of(const Attrs& a) {
  Window2d w;
  std::tie(w.kh, w.kw) = pair_attr(a, "kernel", 1);
  std::tie(w.sh, w.sw) = pair_attr(a, "stride", 1);
  std::tie(w.ph, w.pw) = pair_attr(a, "padding", 0);
  std::tie(w.dh, w.dw) = pair_attr(a, "dilation", 1);
  return w;
}

void expect_nchw(const char* kind, const ValueType& t) {
  BENCHSUITE_GRAPH_CHECK(t.shape.size() == 4 && is_full_precision(t.dtype), kind, "x is ", t.str(),
                         ", must be float32 or float64 [N, C, H, W]");
}

// The attribute "size": what the window's input was ([C, H, W] or [H, W]).
const std::vector<int64_t>& size_attr(const char* kind, const Attrs& a, size_t n) {
  BENCHSUITE_GRAPH_CHECK(a.has("size") && a.ints("size").size() == n, kind, "needs the attribute size with ", n,
                         " values");
  return a.ints("size");
}

Attrs with_size(Attrs a, std::vector<int64_t> size) {
  a.set("size", std::move(size));
  return a;
}

Cost window_cost(const std::vector<ValueType>& in, const std::vector<ValueType>& out, double flops_per_output) {
  return streaming_cost(in, out, flops_per_output);
}

}  // namespace

BENCHSUITE_REGISTER_NODE_KINDS(conv) {
  NodeKind unfold;
  unfold.name = "unfold";
  unfold.doc = "im2col: x [N, C, H, W] -> [N, Ho*Wo, C*kh*kw] (a convolution is then one linear)";
  unfold.ops = {"unfold"};
  unfold.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("unfold", in, 1, 1);
    expect_nchw("unfold", in[0]);
    const Window2d w = window_of(a);
    const Shape& s = in[0].shape;
    ops::check_window("unfold", w, s[2], s[3]);
    return std::vector<ValueType>{{{s[0], w.out_h(s[2]) * w.out_w(s[3]), s[1] * w.kh * w.kw}, in[0].dtype}};
  };
  unfold.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return window_cost(in, out, 0);
  };
  unfold.run = [](const NodeRun& r) {
    ops::run_window(r.version(0), r.in[0], r.out[0], window_of(r.node.attrs), r.stream);
  };
  unfold.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const Shape x = type_of(c, c.node.inputs[0]).shape;
    return {grad_node(c, "fold", {c.grad_outputs[0]}, with_size(c.node.attrs, {x[1], x[2], x[3]}))};
  };
  kinds.push_back(unfold);

  NodeKind fold;
  fold.name = "fold";
  fold.doc = "col2im, unfold's adjoint: cols [N, Ho*Wo, C*kh*kw] -> [N, C, H, W] (size = [C, H, W]), overlaps summed";
  fold.ops = {"fold"};
  fold.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("fold", in, 1, 1);
    const auto& size = size_attr("fold", a, 3);
    const Window2d w = window_of(a);
    ops::check_window("fold", w, size[1], size[2]);
    const Shape want = {in[0].shape.empty() ? -1 : in[0].shape[0], w.out_h(size[1]) * w.out_w(size[2]),
                        size[0] * w.kh * w.kw};
    BENCHSUITE_GRAPH_CHECK(in[0].shape == want && is_full_precision(in[0].dtype), "fold", "cols is ", in[0].str(),
                           ", must be float32 or float64 ", shape_str(want));
    return std::vector<ValueType>{{{want[0], size[0], size[1], size[2]}, in[0].dtype}};
  };
  fold.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    Cost c = window_cost(in, out, 0);
    c.flops = static_cast<double>(numel_of(in[0]));  // one add per column entry
    return c;
  };
  fold.run = [](const NodeRun& r) {
    ops::run_window(r.version(0), r.in[0], r.out[0], window_of(r.node.attrs), r.stream);
  };
  fold.gradient = [](GradContext& c) -> std::vector<ValueId> {
    Attrs window;  // the window alone: unfold reads no size
    for (const char* name : {"kernel", "stride", "padding", "dilation"})
      if (c.node.attrs.has(name)) window.set(name, c.node.attrs.ints(name));
    return {grad_node(c, "unfold", {c.grad_outputs[0]}, window)};
  };
  kinds.push_back(fold);

  NodeKind maxp;
  maxp.name = "max_pool2d";
  maxp.doc = "window maxima of x [N, C, H, W] -> (y, argmax indices into H*W)";
  maxp.ops = {"max_pool2d"};
  maxp.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("max_pool2d", in, 1, 1);
    expect_nchw("max_pool2d", in[0]);
    const Window2d w = window_of(a);
    const Shape& s = in[0].shape;
    ops::check_window("max_pool2d", w, s[2], s[3]);
    const Shape out = {s[0], s[1], w.out_h(s[2]), w.out_w(s[3])};
    return std::vector<ValueType>{{out, in[0].dtype}, {out, DType::int64}};
  };
  maxp.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs& a) {
    const Window2d w = window_of(a);
    return window_cost(in, out, static_cast<double>(w.kh * w.kw));
  };
  maxp.run = [](const NodeRun& r) {
    ops::run_max_pool2d(r.version(0), r.in[0], r.out[0], r.out[1], window_of(r.node.attrs), r.stream);
  };
  maxp.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const Shape x = type_of(c, c.node.inputs[0]).shape;
    return {grad_node(c, "max_pool2d_backward", {c.grad_outputs[0], c.node.outputs[1]},
                      {{"size", std::vector<int64_t>{x[2], x[3]}}})};
  };
  kinds.push_back(maxp);

  NodeKind maxb;
  maxb.name = "max_pool2d_backward";
  maxb.doc = "(dy, indices) -> dx [N, C, H, W] (size = [H, W]): dy added at each argmax";
  maxb.ops = {"max_pool2d_backward"};
  maxb.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("max_pool2d_backward", in, 2, 2);
    expect_nchw("max_pool2d_backward", in[0]);
    const auto& size = size_attr("max_pool2d_backward", a, 2);
    return std::vector<ValueType>{{{in[0].shape[0], in[0].shape[1], size[0], size[1]}, in[0].dtype}};
  };
  maxb.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return window_cost(in, out, 0);
  };
  maxb.run = [](const NodeRun& r) {
    ops::run_max_pool2d_backward(r.version(0), r.in[0], r.in[1], r.out[0], r.stream);
  };
  kinds.push_back(maxb);

  NodeKind avgp;
  avgp.name = "avg_pool2d";
  avgp.doc = "window means of x [N, C, H, W], padding counted (torch's count_include_pad)";
  avgp.ops = {"avg_pool2d"};
  avgp.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("avg_pool2d", in, 1, 1);
    expect_nchw("avg_pool2d", in[0]);
    const Window2d w = window_of(a);
    const Shape& s = in[0].shape;
    ops::check_window("avg_pool2d", w, s[2], s[3]);
    return std::vector<ValueType>{{{s[0], s[1], w.out_h(s[2]), w.out_w(s[3])}, in[0].dtype}};
  };
  avgp.cost = maxp.cost;
  avgp.run = [](const NodeRun& r) {
    ops::run_window(r.version(0), r.in[0], r.out[0], window_of(r.node.attrs), r.stream);
  };
  avgp.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const Shape x = type_of(c, c.node.inputs[0]).shape;
    return {grad_node(c, "avg_pool2d_backward", {c.grad_outputs[0]}, with_size(c.node.attrs, {x[2], x[3]}))};
  };
  kinds.push_back(avgp);

  NodeKind avgb;
  avgb.name = "avg_pool2d_backward";
  avgb.doc = "dy -> dx [N, C, H, W] (size = [H, W]): dy / area spread over each window";
  avgb.ops = {"avg_pool2d_backward"};
  avgb.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("avg_pool2d_backward", in, 1, 1);
    expect_nchw("avg_pool2d_backward", in[0]);
    const auto& size = size_attr("avg_pool2d_backward", a, 2);
    return std::vector<ValueType>{{{in[0].shape[0], in[0].shape[1], size[0], size[1]}, in[0].dtype}};
  };
  avgb.cost = maxb.cost;
  avgb.run = [](const NodeRun& r) {
    ops::run_window(r.version(0), r.in[0], r.out[0], window_of(r.node.attrs), r.stream);
  };
  kinds.push_back(avgb);
}

}  // namespace benchsuite::graph::nodes
