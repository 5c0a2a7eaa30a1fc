// append_backward: which values need a gradient (on a path from `wrt` to the loss), then the
// nodes in reverse, each kind's gradient emitted and accumulated per input.
#include "graph/autograd.h"

#include <map>
#include <set>

#include "core/error.h"
#include "graph/node_kind.h"

namespace benchsuite::graph {

ValueId grad_node(GradContext& ctx, const std::string& kind, const std::vector<ValueId>& inputs, Attrs attrs,
                  size_t output) {
  return ctx.graph.add_node(kind, inputs, std::move(attrs), ctx.prefix + "." + kind).at(output);
}

BackwardGraph append_backward(Graph& g, ValueId loss, std::vector<ValueId> wrt) {
  BENCHSUITE_CHECK_ARG(loss >= 0 && loss < static_cast<ValueId>(g.values().size()), "backward: loss value ", loss,
                       " does not exist");
  if (wrt.empty()) wrt = g.parameters();
  const size_t forward_nodes = g.nodes().size();
  // Values that depend on something in wrt.
  std::set<ValueId> depends(wrt.begin(), wrt.end());
  for (size_t n = 0; n < forward_nodes; ++n) {
    const Node& node = g.nodes()[n];
    for (ValueId in : node.inputs)
      if (in != kNoValue && depends.count(in)) {
        depends.insert(node.outputs.begin(), node.outputs.end());
        break;
      }
  }
  BackwardGraph out;
  const Value loss_value = g.value(loss);  // a copy: adding values may move the graph's list
  out.seed = g.add_input("grad:" + loss_value.name, loss_value.type);
  std::map<ValueId, ValueId> grad{{loss, out.seed}};
  auto accumulate = [&](ValueId v, ValueId gv, const std::string& at) {
    auto it = grad.find(v);
    if (it == grad.end()) {
      grad[v] = gv;
      return;
    }
    it->second = g.add_node("add", {it->second, gv}, {}, at + ".grad_sum").at(0);
  };
  for (size_t n = forward_nodes; n-- > 0;) {
    const Node node = g.nodes()[n];  // a copy: add_node grows the node list
    std::vector<ValueId> grad_outputs;
    bool any = false;
    for (ValueId o : node.outputs) {
      auto it = grad.find(o);
      grad_outputs.push_back(it == grad.end() ? kNoValue : it->second);
      any |= it != grad.end();
    }
    bool needed = false;
    for (ValueId in : node.inputs) needed |= in != kNoValue && depends.count(in) != 0;
    if (!any || !needed) continue;
    const NodeKind& kind = node_kind(node.kind);
    BENCHSUITE_CHECK_ARG(static_cast<bool>(kind.gradient), "backward: node '", node.name, "' (", node.kind,
                         ") has no gradient, and the loss depends on its inputs through it");
    GradContext ctx{g, node, grad_outputs, "grad." + node.name};
    const std::vector<ValueId> input_grads = kind.gradient(ctx);
    BENCHSUITE_CHECK(input_grads.size() == node.inputs.size(), "gradient of ", node.kind, " returned ",
                     input_grads.size(), " values for ", node.inputs.size(), " inputs");
    for (size_t i = 0; i < input_grads.size(); ++i)
      if (input_grads[i] != kNoValue && node.inputs[i] != kNoValue && depends.count(node.inputs[i]))
        accumulate(node.inputs[i], input_grads[i], ctx.prefix);
  }
  for (ValueId w : wrt) {
    auto it = grad.find(w);
    if (it == grad.end()) continue;
    const std::string name = g.value(w).name;  // a copy, for the same reason
    g.mark_output(it->second, "grad:" + name);
    out.gradients.push_back({name, it->second});
  }
  g.verify();
  return out;
}

}  // namespace benchsuite::graph
