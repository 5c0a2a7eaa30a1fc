// The executor: runs a graph on one device. A plan per set of input shapes (cached) holds the
// inferred types, the op version of every node, one arena with every intermediate and
// workspace placed by liveness (buffers reused; no allocation in steady state) and the
// weights packed once. The graph is never modified: a plan is separate from it.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "graph/ir.h"
#include "graph/node_kind.h"

namespace benchsuite::graph {

struct PlanStep {
  const NodeKind* kind = nullptr;
  const Node* node = nullptr;
  std::vector<Tensor> in, out;
  Tensor workspace;
  std::vector<const ops::OpVersion*> versions;
  // Inputs the kind packs that are computed, not constant: packed again on every run.
  std::vector<int> runtime_pack;
};

struct Plan {
  std::vector<Shape> input_shapes;
  std::vector<ValueType> types;  // per value, inferred for these input shapes
  std::vector<PlanStep> steps;
  std::vector<Tensor> inputs, outputs;  // views into the arena / parameters / states
  Tensor arena;
  size_t arena_bytes = 0;     // after reuse
  size_t unshared_bytes = 0;  // what the same tensors would take without reuse
  double compile_seconds = 0;
};

// The executor's account of one model, for records and summaries.
struct ExecutorStats {
  double compile_seconds = 0;     // the latest plan: verify, infer, version choice, buffers, packing
  double first_call_seconds = 0;  // the first run of the latest plan
  size_t arena_bytes = 0;         // the latest plan
  size_t unshared_bytes = 0;
  size_t parameter_bytes = 0;
  size_t packed_bytes = 0;  // weights re-laid once for the kernels
  size_t state_bytes = 0;   // KV caches
  int64_t plans = 0;
};

class Executor {
 public:
  // parameters: one tensor per graph parameter, by name, of its shape and dtype (moved to
  // `device`). A missing, extra or mis-shaped tensor is an invalid_argument naming it and both
  // shapes. versions: op name -> version name for every node running that op.
  Executor(std::shared_ptr<const Graph> graph, std::map<std::string, Tensor> parameters, Device device,
           std::map<std::string, std::string> versions = {});

  // Runs on inputs in the graph's input order (copied into the plan's buffers; any device).
  // Returns the outputs as views into the plan: valid until the next run.
  const std::vector<Tensor>& run(const std::vector<Tensor>& inputs,
                                 const std::map<std::string, int64_t>& scalars = {}, StreamHandle stream = nullptr);
  // One run with every step timed (synchronized on CUDA), for a per-node / per-layer profile:
  // seconds per step in plan order (the nodes of plan(shapes).steps).
  std::vector<double> run_profiled(const std::vector<Tensor>& inputs,
                                   const std::map<std::string, int64_t>& scalars = {});
  // The plan for these input shapes, compiled on first use.
  const Plan& plan(const std::vector<Shape>& input_shapes);

  const Graph& graph() const { return *graph_; }
  const std::shared_ptr<const Graph>& graph_ptr() const { return graph_; }
  Device device() const { return device_; }
  const ExecutorStats& stats() const { return stats_; }
  const std::map<std::string, Tensor>& parameters() const { return parameters_; }
  Tensor state(const std::string& name) const;
  void reset_states();  // zeros
  // Replaces a parameter's values (same shape and dtype) and drops what was packed from it.
  void set_parameter(const std::string& name, const Tensor& value);

 private:
  std::unique_ptr<Plan> compile(const std::vector<Shape>& input_shapes);
  // Checks the inputs and scalars, finds (or compiles) their plan and copies the inputs in.
  const Plan& prepare(const std::vector<Tensor>& inputs, const std::map<std::string, int64_t>& scalars,
                      StreamHandle stream, bool* compiled);
  void run_step(const PlanStep& step, const std::map<std::string, int64_t>& scalars, StreamHandle stream) const;
  // `parameter`: the parameter param is, or is a view of (the packed copy is keyed by it).
  Tensor packed(const Node& node, int input, const Tensor& param, const std::string& parameter);
  std::shared_ptr<const Graph> graph_;
  Device device_;
  std::map<std::string, std::string> versions_;
  std::map<std::string, Tensor> parameters_, states_;
  std::map<std::string, Tensor> packed_;  // "<param>|<kind>|<input>"
  std::map<std::vector<Shape>, std::unique_ptr<Plan>> plans_;
  ExecutorStats stats_;
};

// Zero-fills a tensor on its device.
void zero_fill(const Tensor& t);
// Copies src (any layout, any device) into the contiguous dst of the same shape and dtype.
void copy_into(const Tensor& src, const Tensor& dst, StreamHandle stream = nullptr);

}  // namespace benchsuite::graph
