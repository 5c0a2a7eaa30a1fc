// Reverse-mode differentiation over the graph: the backward of a value is appended to the same
// graph as nodes (each kind declares its gradient in terms of other kinds), so the executor
// plans and runs it like any forward, and passes see one graph.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "graph/ir.h"

namespace benchsuite::graph {

struct BackwardGraph {
  ValueId seed = kNoValue;  // the new input "grad:<loss>": d(objective)/d(loss), loss's shape
  // (name, gradient) for each value asked for; the gradients are also graph outputs "grad:<name>".
  std::vector<std::pair<std::string, ValueId>> gradients;
};

// Appends the gradients of `loss` with respect to `wrt` (default: every parameter). A value
// the loss does not depend on gets no gradient (left out). invalid_argument naming the node
// when the path to the loss crosses a kind without a gradient.
BackwardGraph append_backward(Graph& graph, ValueId loss, std::vector<ValueId> wrt = {});

// Emits a node inside a gradient function (GradContext::prefix names it) and returns output i.
struct GradContext;
ValueId grad_node(GradContext& ctx, const std::string& kind, const std::vector<ValueId>& inputs, Attrs attrs = {},
                  size_t output = 0);

}  // namespace benchsuite::graph
