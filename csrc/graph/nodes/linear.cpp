// Node kinds of the matrix products: matmul (A [..., m, k] @ B, B a shared [k, n] weight or
// batched like A) and linear (x W^T + b with W [out, in] as torch.nn.Linear, or x W + b with
// W [in, out] as GPT-2's Conv1D; an [out, in] weight is transposed once when the plan packs it).
#include "graph/nodes/common.h"
#include "ops/dispatch.h"
#include "ops/manipulation/manipulation.h"
#include "ops/reduce/reduce.h"

namespace benchsuite::graph::nodes {
namespace {

bool out_in(const Attrs& a) {
  const std::string layout = a.text_or("weight_layout", "out_in");
  BENCHSUITE_CHECK_ARG(layout == "out_in" || layout == "in_out", "linear: weight_layout='", layout,
                       "' must be 'out_in' (torch.nn.Linear) or 'in_out' (GPT-2's Conv1D)");
  return layout == "out_in";
}

std::vector<ValueType> infer_matmul(const std::vector<ValueType>& in, const Attrs&) {
  expect_inputs("matmul", in, 2, 2);
  const ValueType &a = in[0], &b = in[1];
  expect_float("matmul", "a", a);
  BENCHSUITE_GRAPH_CHECK(a.dtype == b.dtype, "matmul", "a is ", a.str(), " but b is ", b.str());
  BENCHSUITE_GRAPH_CHECK(a.shape.size() >= 2 && b.shape.size() >= 2, "matmul", "a and b must be at least 2-D");
  const int64_t k = a.shape.back();
  BENCHSUITE_GRAPH_CHECK(b.shape[b.shape.size() - 2] == k, "matmul", "a ", a.str(), " and b ", b.str(),
                         " disagree in k");
  BENCHSUITE_GRAPH_CHECK(b.shape.size() == 2 || b.shape.size() == a.shape.size(), "matmul",
                         "b must be 2-D (shared) or batched like a");
  Shape out = a.shape;
  out.back() = b.shape.back();
  return {{out, a.dtype}};
}

std::vector<ValueType> infer_linear(const std::vector<ValueType>& in, const Attrs& attrs) {
  expect_inputs("linear", in, 2, 3);
  const ValueType &x = in[0], &w = in[1];
  expect_float("linear", "x", x);
  BENCHSUITE_GRAPH_CHECK(w.shape.size() == 2 && w.dtype == x.dtype, "linear", "weight is ", w.str(),
                         ", must be 2-D of x's dtype");
  BENCHSUITE_GRAPH_CHECK(!x.shape.empty(), "linear", "x must be at least 1-D");
  const bool t = out_in(attrs);
  const int64_t in_features = t ? w.shape[1] : w.shape[0], out_features = t ? w.shape[0] : w.shape[1];
  BENCHSUITE_GRAPH_CHECK(x.shape.back() == in_features, "linear", "x ", x.str(), " has ", x.shape.back(),
                         " features, the weight ", w.str(), " takes ", in_features);
  if (present(in, 2))
    BENCHSUITE_GRAPH_CHECK(in[2].shape == Shape{out_features} && in[2].dtype == x.dtype, "linear", "bias is ",
                           in[2].str(), ", must be [", out_features, "]");
  Shape out = x.shape;
  out.back() = out_features;
  return {{out, x.dtype}};
}

Cost gemm_cost(const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
  Cost c = streaming_cost(in, out, 0);
  c.flops = 2.0 * static_cast<double>(numel_of(out[0])) * static_cast<double>(in[0].shape.back());
  return c;
}

// A [rows, k] view of x (contiguous) for the 2-D GEMM with a shared weight.
Tensor rows_view(const Tensor& t) {
  const int64_t cols = t.shape().empty() ? 1 : t.shape().back();
  return t.view({cols == 0 ? 0 : t.numel() / cols, cols});
}

// [rows, last] view for the weight gradients: reshape to {-1, last}.
ValueId flat(GradContext& c, ValueId v) {
  return grad_node(c, "reshape", {v}, {{"shape", std::vector<int64_t>{-1, type_of(c, v).shape.back()}}});
}
ValueId t(GradContext& c, ValueId v) { return grad_node(c, "transpose", {v}); }

std::vector<ValueId> matmul_gradient(GradContext& c) {
  const ValueId a = c.node.inputs[0], b = c.node.inputs[1], dy = c.grad_outputs[0];
  const ValueId da = grad_node(c, "matmul", {dy, t(c, b)});
  const bool shared = type_of(c, b).shape.size() == 2 && type_of(c, a).shape.size() > 2;
  const ValueId db = shared ? grad_node(c, "matmul", {t(c, flat(c, a)), flat(c, dy)})
                            : grad_node(c, "matmul", {t(c, a), dy});
  return {da, db};
}

std::vector<ValueId> linear_gradient(GradContext& c) {
  const ValueId x = c.node.inputs[0], w = c.node.inputs[1], dy = c.grad_outputs[0];
  const bool weight_out_in = out_in(c.node.attrs);
  const ValueId dx = grad_node(c, "matmul", {dy, weight_out_in ? w : t(c, w)});
  const ValueId dw = weight_out_in ? grad_node(c, "matmul", {t(c, flat(c, dy)), flat(c, x)})
                                   : grad_node(c, "matmul", {t(c, flat(c, x)), flat(c, dy)});
  std::vector<ValueId> grads = {dx, dw};
  if (c.node.inputs.size() > 2) grads.push_back(c.node.inputs[2] == kNoValue ? kNoValue : grad_node(c, "sum_to_row", {dy}));
  return grads;
}

}  // namespace

BENCHSUITE_REGISTER_NODE_KINDS(linear) {
  NodeKind matmul;
  matmul.name = "matmul";
  matmul.doc = "C[..., m, n] = A[..., m, k] @ B (B [k, n] shared, or batched like A)";
  matmul.ops = {"matmul"};
  matmul.infer = infer_matmul;
  matmul.cost = gemm_cost;
  matmul.run = [](const NodeRun& r) { ops::run_binary(r.version(0), r.in[0], r.in[1], r.out[0], r.stream); };
  matmul.gradient = matmul_gradient;
  kinds.push_back(matmul);

  NodeKind transpose;
  transpose.name = "transpose";
  transpose.doc = "the last two axes swapped, copied contiguous";
  transpose.ops = {"transpose"};
  transpose.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("transpose", in, 1, 1);
    BENCHSUITE_GRAPH_CHECK(in[0].shape.size() >= 2, "transpose", "x must be at least 2-D, is ", in[0].str());
    ValueType out = in[0];
    std::swap(out.shape[out.shape.size() - 1], out.shape[out.shape.size() - 2]);
    return std::vector<ValueType>{out};
  };
  transpose.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 0);
  };
  transpose.run = [](const NodeRun& r) { ops::run_unary(r.version(0), r.in[0], r.out[0], r.stream); };
  transpose.gradient = [](GradContext& c) -> std::vector<ValueId> { return {t(c, c.grad_outputs[0])}; };
  kinds.push_back(transpose);

  NodeKind row_sum;
  row_sum.name = "sum_to_row";
  row_sum.doc = "x [..., n] summed over every leading axis -> [n] (a bias gradient)";
  row_sum.ops = {"transpose", "sum"};
  row_sum.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("sum_to_row", in, 1, 1);
    expect_float("sum_to_row", "x", in[0]);
    BENCHSUITE_GRAPH_CHECK(!in[0].shape.empty(), "sum_to_row", "x must be at least 1-D");
    return std::vector<ValueType>{{{in[0].shape.back()}, in[0].dtype}};
  };
  row_sum.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    Cost c = streaming_cost(in, out, 0);
    c.flops = static_cast<double>(numel_of(in[0]));
    return c;
  };
  row_sum.workspace_bytes = [](const std::vector<ValueType>& in, const Attrs&) {
    return static_cast<size_t>(bytes_of(in[0]));
  };
  row_sum.run = [](const NodeRun& r) {
    // x [rows, n] -> x^T [n, rows] in the workspace, then the rows of x^T summed.
    const Tensor x2 = rows_view(r.in[0]);
    const Tensor xt = r.workspace.storage_view({x2.size(1), x2.size(0)}, x2.dtype(), r.workspace.byte_offset());
    ops::run_unary(r.version(0), x2, xt, r.stream);
    ops::run_reduce(r.version(1), Reduction::sum, xt, r.out[0], ops::reduce_workspace(r.out[0].device()), false,
                    r.stream);
  };
  kinds.push_back(row_sum);

  NodeKind linear;
  linear.name = "linear";
  linear.doc = "y = x W^T + b (W [out, in]) or x W + b (weight_layout=in_out); bias optional";
  linear.ops = {"matmul", "add"};
  linear.infer = infer_linear;
  linear.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs& a) {
    Cost c = gemm_cost(in, out, a);
    if (present(in, 2)) c.flops += static_cast<double>(numel_of(out[0]));
    return c;
  };
  linear.pack = [](int input, const Tensor& w, const Attrs& attrs) {
    // The GEMM takes B [in, out]: an [out, in] weight is transposed once, at plan time.
    return input == 1 && out_in(attrs) ? ops::transpose(w) : Tensor();
  };
  linear.run = [](const NodeRun& r) {
    // in[1] is the packed [in, out] weight whatever the graph's layout.
    const Tensor x2 = rows_view(r.in[0]), y2 = rows_view(r.out[0]);
    ops::run_binary(r.version(0), x2, r.in[1], y2, r.stream);
    if (r.in.size() > 2 && r.in[2].defined()) ops::run_binary(r.version(1), y2, r.in[2], y2, r.stream);
  };
  linear.gradient = linear_gradient;
  kinds.push_back(linear);
}

}  // namespace benchsuite::graph::nodes
