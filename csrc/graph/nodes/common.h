// Helpers shared by the node-kind files: input checks for inference and the usual costs.
#pragma once
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/autograd.h"
#include "graph/node_kind.h"

namespace benchsuite::graph::nodes {

inline int64_t numel_of(const ValueType& t) {
  int64_t n = 1;
  for (int64_t d : t.shape) n *= d;
  return n;
}
inline double bytes_of(const ValueType& t) { return static_cast<double>(numel_of(t)) * dtype_size(t.dtype); }
inline bool present(const std::vector<ValueType>& in, size_t i) { return i < in.size() && !is_absent(in[i]); }

inline void expect_inputs(const char* kind, const std::vector<ValueType>& in, size_t lo, size_t hi) {
  BENCHSUITE_GRAPH_CHECK(in.size() >= lo && in.size() <= hi, kind, "takes ", lo, lo == hi ? "" : "..", hi,
                         " inputs, got ", in.size());
}
inline void expect_float(const char* kind, const char* name, const ValueType& t) {
  BENCHSUITE_GRAPH_CHECK(is_floating(t.dtype), kind,
                         name, " is ", t.str(), ", must be a floating type");
}

// The position of a step's first new token: the runtime scalar named by the node's
// offset_scalar attribute, else 0 (a graph without a cache).
inline int64_t offset_of(const NodeRun& r) {
  const std::string name = r.node.attrs.text_or("offset_scalar", "");
  return name.empty() ? 0 : r.scalar(name);
}

// Gradient helpers: a value's type, and a gradient summed down to a row vector when the
// forward broadcast a row (a bias, a row-vector operand).
// By value: emitting a node grows the graph's value list, which would leave a reference dangling.
inline ValueType type_of(const GradContext& ctx, ValueId v) { return ctx.graph.value(v).type; }
inline ValueId reduce_like(GradContext& ctx, ValueId grad, ValueId like) {
  return type_of(ctx, grad).shape == type_of(ctx, like).shape ? grad : grad_node(ctx, "sum_to_row", {grad});
}

// Reads and writes every tensor once, `flops_per_element` per output element.
inline Cost streaming_cost(const std::vector<ValueType>& in, const std::vector<ValueType>& out,
                           double flops_per_element) {
  Cost c;
  for (const auto& t : in)
    if (!is_absent(t)) c.bytes += bytes_of(t);
  for (const auto& t : out) c.bytes += bytes_of(t);
  if (!out.empty()) c.flops = flops_per_element * static_cast<double>(numel_of(out[0]));
  return c;
}

}  // namespace benchsuite::graph::nodes
