// Node kinds: what a graph node of each kind means. A kind infers its output types, runs on
// the tensors its plan assigned (through registered op versions, so a benchmark can name a
// version per op), counts its FLOPs and bytes, and may declare its gradient. Files under
// graph/nodes/ register kinds at static initialization; nothing central lists them.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/registration.h"
#include "core/tensor.h"
#include "graph/ir.h"
#include "ops/registry.h"

namespace benchsuite::graph {

// Everything a kind's run function sees for one step of a plan.
struct NodeRun {
  const Node& node;
  const std::vector<Tensor>& in;   // undefined for an optional input left out
  const std::vector<Tensor>& out;
  const Tensor& workspace;         // workspace_bytes of the kind, or undefined
  const std::vector<const ops::OpVersion*>& versions;  // one per NodeKind::ops, chosen at plan time
  const std::map<std::string, int64_t>& scalars;
  StreamHandle stream;
  const ops::OpVersion& version(size_t i) const { return *versions.at(i); }
  int64_t scalar(const std::string& name) const;  // invalid_argument naming the scalar when not given
};

struct Cost {
  double flops = 0;
  double bytes = 0;  // read + written, each tensor once
};

// Output gradients in, input gradients out, emitted as nodes of the same graph.
struct GradContext {
  Graph& graph;
  const Node& node;
  std::vector<ValueId> grad_outputs;  // kNoValue where an output has no gradient
  std::string prefix;                 // name prefix for the nodes it adds
};

struct NodeKind {
  std::string name;
  std::string doc;  // one line
  // The registered ops this kind runs; the plan selects one version of each (by name when the
  // executor is told one, else the default) for the node's device and dtype.
  std::vector<std::string> ops;
  std::function<std::vector<ValueType>(const std::vector<ValueType>& in, const Attrs& attrs)> infer;
  std::function<void(const NodeRun& run)> run;
  std::function<Cost(const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs& attrs)> cost;
  // Bytes of scratch the step needs (live only during it); null: none.
  std::function<size_t(const std::vector<ValueType>& in, const Attrs& attrs)> workspace_bytes;
  // Gradient of each input (kNoValue: none); null: not differentiable.
  std::function<std::vector<ValueId>(GradContext& ctx)> gradient;
  // >= 0: output 0 is a view of that input (reshape) and takes no buffer of its own.
  int alias_input = -1;
  // Re-lays a parameter input once for the kernels (a weight transposed for the GEMM): the
  // packed tensor, or an undefined one to use the parameter as it is. null: never.
  std::function<Tensor(int input, const Tensor& parameter, const Attrs& attrs)> pack;
};

using NodeKindRegistration = void (*)(std::vector<NodeKind>& kinds);

const NodeKind& node_kind(const std::string& name);  // invalid_argument listing the known kinds
const std::vector<NodeKind>& node_kinds();

// Shape checks for inference: invalid_argument "<kind>: <message>" when cond fails.
#define BENCHSUITE_GRAPH_CHECK(cond, kind, ...) BENCHSUITE_CHECK_ARG(cond, kind, ": ", __VA_ARGS__)

}  // namespace benchsuite::graph

// Registers a file's node kinds: BENCHSUITE_REGISTER_NODE_KINDS(norms) { kinds.push_back(...); }
#define BENCHSUITE_REGISTER_NODE_KINDS(area)                                                       \
  BENCHSUITE_REGISTER_FUNCTION(::benchsuite::graph::NodeKindRegistration, #area, 0,               \
                               BENCHSUITE_CONCAT(register_node_kinds_, area),                     \
                               std::vector<::benchsuite::graph::NodeKind>& kinds)
