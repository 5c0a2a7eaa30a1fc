// Node kinds that move data without arithmetic: reshape (a view, no buffer), permute and
// slice (copies into a contiguous buffer through the registered `contiguous` op) and concat.
#include <algorithm>
#include <utility>

#include "graph/nodes/common.h"
#include "ops/dispatch.h"
#include "ops/creation/creation.h"
#include "ops/manipulation/manipulation.h"

namespace benchsuite::graph::nodes {
namespace {

// ONNX's Reshape rules: 0 copies the input's dimension at that index, one -1 is inferred.
Shape reshaped(const Shape& in, const std::vector<int64_t>& spec) {
  Shape out(spec.begin(), spec.end());
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0) {
      BENCHSUITE_GRAPH_CHECK(i < in.size(), "reshape", "0 at index ", i, " but the input has ", in.size(), " dims");
      out[i] = in[i];
    }
    if (out[i] == -1) {
      BENCHSUITE_GRAPH_CHECK(infer_at < 0, "reshape", "more than one -1 in ", shape_str(spec));
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    BENCHSUITE_GRAPH_CHECK(out[i] >= 0, "reshape", "dimension ", out[i], " in ", shape_str(spec));
    known *= out[i];
  }
  int64_t total = 1;
  for (int64_t d : in) total *= d;
  if (infer_at >= 0) {
    BENCHSUITE_GRAPH_CHECK(known > 0 && total % known == 0, "reshape", shape_str(in), " cannot become ",
                           shape_str(spec));
    out[infer_at] = total / known;
    known *= out[infer_at];
  }
  BENCHSUITE_GRAPH_CHECK(known == total, "reshape", shape_str(in), " (", total, " elements) cannot become ",
                         shape_str(out));
  return out;
}

int64_t axis_of(int64_t dim, size_t ndim, const char* kind) {
  const int64_t n = static_cast<int64_t>(ndim);
  BENCHSUITE_GRAPH_CHECK(dim >= -n && dim < n, kind, "dim=", dim, " is out of range for ", n, " dims");
  return dim < 0 ? dim + n : dim;
}

// Python's slice rules: negative indices count from the end, both clamped to [0, size].
std::pair<int64_t, int64_t> bounds(const Attrs& a, int64_t size) {
  auto clamp = [size](int64_t i) { return std::min(std::max(i < 0 ? i + size : i, int64_t{0}), size); };
  const int64_t start = clamp(a.integer("start")), stop = clamp(a.integer("stop"));
  return {start, std::max(start, stop)};
}

// The strided view of x that a permute or slice reads, for a contiguous x.
Tensor permuted_view(const Tensor& x, const std::vector<int64_t>& perm) {
  Shape shape(perm.size()), strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    shape[i] = x.shape()[perm[i]];
    strides[i] = x.strides()[perm[i]];
  }
  return x.as_strided(shape, strides, x.byte_offset());
}

}  // namespace

BENCHSUITE_REGISTER_NODE_KINDS(shape) {
  NodeKind reshape;
  reshape.name = "reshape";
  reshape.doc = "the same elements in another shape (0 copies a dimension, -1 is inferred); a view";
  reshape.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("reshape", in, 1, 1);
    return std::vector<ValueType>{{reshaped(in[0].shape, a.ints("shape")), in[0].dtype}};
  };
  reshape.cost = [](const std::vector<ValueType>&, const std::vector<ValueType>&, const Attrs&) { return Cost{}; };
  reshape.run = [](const NodeRun&) {};  // the plan made out[0] a view of in[0]
  reshape.alias_input = 0;
  reshape.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const Shape back = type_of(c, c.node.inputs[0]).shape;
    return {grad_node(c, "reshape", {c.grad_outputs[0]}, {{"shape", std::vector<int64_t>(back.begin(), back.end())}})};
  };
  kinds.push_back(reshape);

  NodeKind zeros;
  zeros.name = "zeros";
  zeros.doc = "a tensor of zeros of attrs shape and dtype";
  zeros.ops = {"fill"};
  zeros.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("zeros", in, 0, 0);
    const auto& shape = a.ints("shape");
    return std::vector<ValueType>{{Shape(shape.begin(), shape.end()), parse_dtype(a.text_or("dtype", "float32"))}};
  };
  zeros.cost = [](const std::vector<ValueType>&, const std::vector<ValueType>& out, const Attrs&) {
    return Cost{0, bytes_of(out[0])};
  };
  zeros.run = [](const NodeRun& r) { ops::run_creation(r.version(0), r.out[0], ops::CreationParams{}, r.stream); };
  kinds.push_back(zeros);

  NodeKind permute;
  permute.name = "permute";
  permute.doc = "axes reordered (out dim i = in dim perm[i]), copied contiguous";
  permute.ops = {"contiguous"};
  permute.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("permute", in, 1, 1);
    const auto& perm = a.ints("perm");
    BENCHSUITE_GRAPH_CHECK(perm.size() == in[0].shape.size(), "permute", "perm ", shape_str(perm), " for ",
                           in[0].shape.size(), " dims");
    std::vector<bool> seen(perm.size(), false);
    Shape out(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      BENCHSUITE_GRAPH_CHECK(perm[i] >= 0 && perm[i] < static_cast<int64_t>(perm.size()) && !seen[perm[i]],
                             "permute", "perm ", shape_str(perm), " is not a permutation");
      seen[perm[i]] = true;
      out[i] = in[0].shape[perm[i]];
    }
    return std::vector<ValueType>{{out, in[0].dtype}};
  };
  permute.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 0);
  };
  permute.run = [](const NodeRun& r) {
    ops::run_unary(r.version(0), permuted_view(r.in[0], r.node.attrs.ints("perm")), r.out[0], r.stream);
  };
  permute.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& perm = c.node.attrs.ints("perm");
    std::vector<int64_t> inverse(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
    return {grad_node(c, "permute", {c.grad_outputs[0]}, {{"perm", inverse}})};
  };
  kinds.push_back(permute);

  NodeKind slice;
  slice.name = "slice";
  slice.doc = "x[..., start:stop, ...] along dim, copied contiguous";
  slice.ops = {"contiguous"};
  slice.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("slice", in, 1, 1);
    const int64_t d = axis_of(a.integer("dim"), in[0].shape.size(), "slice");
    const auto [start, stop] = bounds(a, in[0].shape[d]);
    ValueType out = in[0];
    out.shape[d] = stop - start;
    return std::vector<ValueType>{out};
  };
  slice.cost = permute.cost;
  slice.run = [](const NodeRun& r) {
    const Tensor& x = r.in[0];
    const int64_t d = axis_of(r.node.attrs.integer("dim"), x.shape().size(), "slice");
    const int64_t start = bounds(r.node.attrs, x.shape()[d]).first;
    const int64_t offset = x.byte_offset() + start * x.strides()[d] * static_cast<int64_t>(x.element_size());
    ops::run_unary(r.version(0), x.as_strided(r.out[0].shape(), x.strides(), offset), r.out[0], r.stream);
  };
  // The gradient of a slice: dy between zeros, joined along the sliced axis.
  slice.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const ValueType x = type_of(c, c.node.inputs[0]);
    const int64_t d = axis_of(c.node.attrs.integer("dim"), x.shape.size(), "slice");
    const auto [start, stop] = bounds(c.node.attrs, x.shape[d]);
    std::vector<ValueId> parts;
    auto zeros_of = [&](int64_t len) {
      std::vector<int64_t> shape(x.shape.begin(), x.shape.end());
      shape[d] = len;
      return grad_node(c, "zeros", {}, {{"shape", shape}, {"dtype", std::string(dtype_name(x.dtype))}});
    };
    if (start > 0) parts.push_back(zeros_of(start));
    parts.push_back(c.grad_outputs[0]);
    if (stop < x.shape[d]) parts.push_back(zeros_of(x.shape[d] - stop));
    return {parts.size() == 1 ? parts[0] : grad_node(c, "concat", parts, {{"dim", d}})};
  };
  kinds.push_back(slice);

  NodeKind concat;
  concat.name = "concat";
  concat.doc = "inputs joined along dim";
  concat.ops = {"concat"};
  concat.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    BENCHSUITE_GRAPH_CHECK(!in.empty(), "concat", "needs at least one input");
    const int64_t d = axis_of(a.integer("dim"), in[0].shape.size(), "concat");
    ValueType out = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      Shape s = in[i].shape;
      BENCHSUITE_GRAPH_CHECK(s.size() == out.shape.size() && in[i].dtype == out.dtype, "concat", "input ", i, " ",
                             in[i].str(), " does not match ", in[0].str());
      for (size_t j = 0; j < s.size(); ++j)
        if (static_cast<int64_t>(j) != d)
          BENCHSUITE_GRAPH_CHECK(s[j] == out.shape[j], "concat", "input ", i, " ", in[i].str(), " differs from ",
                                 in[0].str(), " outside dim ", d);
      out.shape[d] += s[d];
    }
    return std::vector<ValueType>{out};
  };
  concat.cost = permute.cost;
  concat.run = [](const NodeRun& r) {
    const int64_t d = axis_of(r.node.attrs.integer("dim"), r.out[0].shape().size(), "concat");
    ops::run_concat(r.version(0), r.in, d, r.out[0], r.stream);
  };
  concat.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const int64_t d = axis_of(c.node.attrs.integer("dim"), type_of(c, c.node.outputs[0]).shape.size(), "concat");
    std::vector<ValueId> grads;
    int64_t at = 0;
    for (ValueId in : c.node.inputs) {
      const int64_t len = type_of(c, in).shape[d];
      grads.push_back(grad_node(c, "slice", {c.grad_outputs[0]}, {{"dim", d}, {"start", at}, {"stop", at + len}}));
      at += len;
    }
    return grads;
  };
  kinds.push_back(concat);
}

}  // namespace benchsuite::graph::nodes
