// Plans (types, versions, buffers by liveness, packed weights) and runs them.
#include "graph/executor.h"

#include <algorithm>
#include <cstring>

#include "core/cuda_runtime.h"
#include "core/error.h"
#include "ops/dispatch.h"

namespace benchsuite::graph {

namespace {
constexpr size_t kAlign = 64;  // every buffer starts on a cache line (and a 16-byte vector load)

size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A buffer to place: bytes live over steps [first, last].
struct Interval {
  size_t bytes;
  int first, last;
  size_t offset = 0;
};

// Greedy placement, largest first, each at the lowest offset that does not overlap a placed
// buffer alive at the same time (the classic offset planner of TFLite and XLA).
size_t place(std::vector<Interval>& buffers) {
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<size_t> placed;
  size_t total = 0;
  for (size_t i : order) {
    Interval& b = buffers[i];
    std::vector<std::pair<size_t, size_t>> busy;  // [start, end) of buffers alive with b
    for (size_t j : placed) {
      const Interval& o = buffers[j];
      if (o.first <= b.last && b.first <= o.last) busy.push_back({o.offset, o.offset + align_up(o.bytes)});
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [start, end] : busy) {
      if (offset + align_up(b.bytes) <= start) break;
      offset = std::max(offset, end);
    }
    b.offset = offset;
    total = std::max(total, offset + align_up(b.bytes));
    placed.push_back(i);
  }
  return total;
}
}  // namespace

void zero_fill(const Tensor& t) {
  if (t.nbytes() == 0) return;
  if (t.device().is_cuda()) {
    const std::vector<uint8_t> zeros(t.nbytes(), 0);
    cuda_set_device(t.device().index);
    cuda_memcpy_h2d(t.data_ptr(), zeros.data(), zeros.size());
  } else {
    std::memset(t.data_ptr(), 0, t.nbytes());
  }
}

void copy_into(const Tensor& src, const Tensor& dst, StreamHandle stream) {
  BENCHSUITE_CHECK(src.shape() == dst.shape() && src.dtype() == dst.dtype(), "copy_into ", src.describe(), " -> ",
                   dst.describe());
  const Tensor from = src.device() == dst.device() ? src : src.to(dst.device());
  ops::run_unary(ops::select_version("contiguous", dst.device(), dst.dtype(), ""), from, dst, stream);
}

Executor::Executor(std::shared_ptr<const Graph> graph, std::map<std::string, Tensor> parameters, Device device,
                   std::map<std::string, std::string> versions)
    : graph_(std::move(graph)), device_(device), versions_(std::move(versions)) {
  BENCHSUITE_CHECK_ARG(graph_ != nullptr, "executor: graph is null");
  if (device_.is_cuda()) require_cuda("a graph on CUDA");
  graph_->verify();
  for (const auto& [op, version] : versions_) {
    const auto names = ops::op_names();
    BENCHSUITE_CHECK_ARG(std::find(names.begin(), names.end(), op) != names.end(), "versions: unknown op '", op,
                         "' (given version '", version, "')");
  }
  for (ValueId id : graph_->parameters()) {
    const Value& v = graph_->value(id);
    auto it = parameters.find(v.name);
    BENCHSUITE_CHECK_ARG(it != parameters.end(), "parameters: missing tensor '", v.name, "' (expected ",
                         v.type.str(), ")");
    const Tensor& t = it->second;
    BENCHSUITE_CHECK_ARG(t.shape() == v.type.shape, "parameters: tensor '", v.name, "' has shape ",
                         shape_str(t.shape()), ", the model expects ", shape_str(v.type.shape));
    BENCHSUITE_CHECK_ARG(t.dtype() == v.type.dtype, "parameters: tensor '", v.name, "' is ", dtype_name(t.dtype()),
                         ", the model expects ", dtype_name(v.type.dtype));
    Tensor on_device = t.to(device_).contiguous();
    stats_.parameter_bytes += on_device.nbytes();
    parameters_[v.name] = on_device;
    parameters.erase(it);
  }
  if (!parameters.empty()) {
    std::string extra;
    for (const auto& [name, t] : parameters) extra += (extra.empty() ? "'" : ", '") + name + "' " + t.describe();
    BENCHSUITE_THROW_ARG("parameters: ", parameters.size(), " tensor(s) the model does not have: ", extra);
  }
  for (ValueId id : graph_->states()) {
    const Value& v = graph_->value(id);
    Tensor t = Tensor::empty(v.type.shape, v.type.dtype, device_);
    zero_fill(t);
    stats_.state_bytes += t.nbytes();
    states_[v.name] = t;
  }
}

Tensor Executor::state(const std::string& name) const {
  auto it = states_.find(name);
  BENCHSUITE_CHECK_ARG(it != states_.end(), "executor: no state named '", name, "'");
  return it->second;
}

void Executor::reset_states() {
  for (auto& [name, t] : states_) zero_fill(t);
}

void Executor::set_parameter(const std::string& name, const Tensor& value) {
  auto it = parameters_.find(name);
  BENCHSUITE_CHECK_ARG(it != parameters_.end(), "set_parameter: the model has no parameter '", name, "'");
  BENCHSUITE_CHECK_ARG(value.shape() == it->second.shape() && value.dtype() == it->second.dtype(),
                       "set_parameter: tensor '", name, "' is ", value.describe(), ", the model expects ",
                       it->second.describe());
  // Rebound, as the constructor binds: no copy of a weight already on the device, and the
  // caller's earlier array is never written (it may be the weights a test restores).
  it->second = value.to(device_).contiguous();
  for (auto p = packed_.begin(); p != packed_.end();) {
    if (p->first.rfind(name + "|", 0) == 0) {
      stats_.packed_bytes -= p->second.nbytes();
      p = packed_.erase(p);
    } else {
      ++p;
    }
  }
  plans_.clear();  // plans hold the packed tensors
}

Tensor Executor::packed(const Node& node, int input, const Tensor& param, const std::string& parameter) {
  const NodeKind& kind = node_kind(node.kind);
  if (!kind.pack) return param;
  // Starts with the parameter's name: set_parameter drops what was packed from it.
  const std::string key = parameter + "|" + graph_->value(node.inputs[input]).name + "|" + node.kind + "|" +
                          std::to_string(input) + "|" + node.attrs.str();
  auto it = packed_.find(key);
  if (it != packed_.end()) return it->second;
  Tensor p = kind.pack(input, param, node.attrs);
  if (!p.defined()) return param;
  stats_.packed_bytes += p.nbytes();
  packed_[key] = p;
  return p;
}

const Plan& Executor::plan(const std::vector<Shape>& input_shapes) {
  auto it = plans_.find(input_shapes);
  if (it == plans_.end()) {
    it = plans_.emplace(input_shapes, compile(input_shapes)).first;
    ++stats_.plans;
    stats_.compile_seconds = it->second->compile_seconds;
    stats_.arena_bytes = it->second->arena_bytes;
    stats_.unshared_bytes = it->second->unshared_bytes;
  }
  return *it->second;
}

std::unique_ptr<Plan> Executor::compile(const std::vector<Shape>& input_shapes) {
  const auto t0 = std::chrono::steady_clock::now();
  const Graph& g = *graph_;
  const auto& nodes = g.nodes();
  const int n_steps = static_cast<int>(nodes.size());
  BENCHSUITE_CHECK_ARG(input_shapes.size() == g.inputs().size(), "run: the graph takes ", g.inputs().size(),
                       " input(s), got ", input_shapes.size());
  auto plan = std::make_unique<Plan>();
  plan->input_shapes = input_shapes;

  // Types for these shapes: the graph's own, re-inferred from the inputs on.
  plan->types.resize(g.values().size());
  for (size_t i = 0; i < g.values().size(); ++i) plan->types[i] = g.values()[i].type;
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    checked_nbytes(input_shapes[i], g.value(g.inputs()[i]).type.dtype);
    plan->types[g.inputs()[i]].shape = input_shapes[i];
  }
  for (const Node& node : nodes) {
    std::vector<ValueType> in;
    for (ValueId id : node.inputs) in.push_back(id == kNoValue ? absent_type() : plan->types[id]);
    std::vector<ValueType> out;
    try {
      out = node_kind(node.kind).infer(in, node.attrs);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::invalid_argument) throw;
      BENCHSUITE_THROW_ARG("graph node '", node.name, "' (", node.kind, ") for these input shapes: ", e.message());
    }
    for (size_t i = 0; i < out.size(); ++i) plan->types[node.outputs[i]] = out[i];
  }

  // Storage roots (an alias output shares its input's root) and liveness in steps; graph
  // inputs are written before step 0, graph outputs live past the last step.
  std::vector<ValueId> root(g.values().size());
  for (size_t i = 0; i < root.size(); ++i) root[i] = static_cast<ValueId>(i);
  for (const Node& node : nodes) {
    const NodeKind& kind = node_kind(node.kind);
    if (kind.alias_input >= 0) root[node.outputs[0]] = root[node.inputs[kind.alias_input]];
  }
  std::vector<int> first(root.size(), 0), last(root.size(), -1);
  for (int s = 0; s < n_steps; ++s) {
    for (ValueId id : nodes[s].inputs)
      if (id != kNoValue) last[root[id]] = std::max(last[root[id]], s);
    for (ValueId id : nodes[s].outputs) {
      if (root[id] == id) first[id] = s;
      last[root[id]] = std::max(last[root[id]], s);
    }
  }
  for (ValueId id : g.outputs()) last[root[id]] = n_steps;

  std::vector<Interval> buffers;
  std::vector<int> buffer_of(root.size(), -1);
  auto add_buffer = [&](size_t bytes, int a, int b) {
    buffers.push_back({bytes, a, b});
    return static_cast<int>(buffers.size() - 1);
  };
  for (size_t i = 0; i < root.size(); ++i) {
    const Value& v = g.values()[i];
    if (root[i] != static_cast<ValueId>(i)) continue;
    if (v.kind == ValueKind::input)
      buffer_of[i] = add_buffer(checked_nbytes(plan->types[i].shape, plan->types[i].dtype), -1, std::max(last[i], -1));
    else if (v.kind == ValueKind::intermediate)
      buffer_of[i] = add_buffer(checked_nbytes(plan->types[i].shape, plan->types[i].dtype), first[i],
                                std::max(last[i], first[i]));
  }
  std::vector<int> workspace_of(nodes.size(), -1);
  for (int s = 0; s < n_steps; ++s) {
    const NodeKind& kind = node_kind(nodes[s].kind);
    if (!kind.workspace_bytes) continue;
    std::vector<ValueType> in;
    for (ValueId id : nodes[s].inputs) in.push_back(id == kNoValue ? absent_type() : plan->types[id]);
    const size_t bytes = kind.workspace_bytes(in, nodes[s].attrs);
    if (bytes) workspace_of[s] = add_buffer(bytes, s, s);
  }
  // Buffers live before step 0 (the inputs) start at -1; shift so intervals compare as steps.
  for (auto& b : buffers) plan->unshared_bytes += align_up(b.bytes);
  plan->arena_bytes = place(buffers);
  plan->arena = Tensor::empty({static_cast<int64_t>(std::max<size_t>(plan->arena_bytes, 1))}, DType::uint8, device_);

  // Tensors of every value for this plan.
  std::vector<Tensor> tensor(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const Value& v = g.values()[i];
    if (v.kind == ValueKind::parameter)
      tensor[i] = parameters_.at(v.name);
    else if (v.kind == ValueKind::state)
      tensor[i] = states_.at(v.name);
    else if (buffer_of[i] >= 0)
      tensor[i] = plan->arena.storage_view(plan->types[i].shape, plan->types[i].dtype,
                                           static_cast<int64_t>(buffers[buffer_of[i]].offset));
  }
  for (const Node& node : nodes) {  // aliases, in order (an alias of an alias)
    const NodeKind& kind = node_kind(node.kind);
    if (kind.alias_input < 0) continue;
    const Tensor& base = tensor[node.inputs[kind.alias_input]];
    const ValueType& t = plan->types[node.outputs[0]];
    tensor[node.outputs[0]] = base.storage_view(t.shape, t.dtype, base.byte_offset());
  }

  for (int s = 0; s < n_steps; ++s) {
    const Node& node = nodes[s];
    const NodeKind& kind = node_kind(node.kind);
    PlanStep step;
    step.kind = &kind;
    step.node = &node;
    DType dtype = DType::float32;
    bool found = false;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ValueId id = node.inputs[i];
      if (id == kNoValue) {
        step.in.emplace_back();
        continue;
      }
      // A parameter, or a view of one (a conv weight reshaped to 2-D), is packed once;
      // a computed input the kind packs is packed at every run.
      if (g.value(root[id]).kind == ValueKind::parameter) {
        step.in.push_back(packed(node, static_cast<int>(i), tensor[id], g.value(root[id]).name));
      } else {
        step.in.push_back(tensor[id]);
        // Only the inputs the kind re-lays (asked once on the planned buffer): the others
        // (activations, biases) cost nothing per run.
        if (kind.pack && kind.pack(static_cast<int>(i), tensor[id], node.attrs).defined())
          step.runtime_pack.push_back(static_cast<int>(i));
      }
      if (!found && is_floating(plan->types[id].dtype)) {
        dtype = plan->types[id].dtype;
        found = true;
      }
    }
    for (ValueId id : node.outputs) {
      step.out.push_back(tensor[id]);
      // No floating input (positions from ids): the versions are chosen by what is made.
      if (!found && is_floating(plan->types[id].dtype)) {
        dtype = plan->types[id].dtype;
        found = true;
      }
    }
    if (workspace_of[s] >= 0)
      step.workspace = plan->arena.storage_view({static_cast<int64_t>(buffers[workspace_of[s]].bytes)}, DType::uint8,
                                                static_cast<int64_t>(buffers[workspace_of[s]].offset));
    for (const std::string& op : kind.ops) {
      auto v = versions_.find(op);
      step.versions.push_back(&ops::select_version(op, device_, dtype, v == versions_.end() ? "" : v->second));
    }
    plan->steps.push_back(std::move(step));
  }
  for (ValueId id : g.inputs()) plan->inputs.push_back(tensor[id]);
  for (ValueId id : g.outputs()) plan->outputs.push_back(tensor[id]);
  plan->compile_seconds = seconds_since(t0);
  return plan;
}

const Plan& Executor::prepare(const std::vector<Tensor>& inputs, const std::map<std::string, int64_t>& scalars,
                             StreamHandle stream, bool* compiled) {
  const Graph& g = *graph_;
  BENCHSUITE_CHECK_ARG(inputs.size() == g.inputs().size(), "run: the graph takes ", g.inputs().size(),
                       " input(s), got ", inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value& v = g.value(g.inputs()[i]);
    BENCHSUITE_CHECK_ARG(inputs[i].defined(), "run: input '", v.name, "' is undefined");
    BENCHSUITE_CHECK_ARG(inputs[i].dtype() == v.type.dtype, "run: input '", v.name, "' is ",
                         dtype_name(inputs[i].dtype()), ", the graph takes ", dtype_name(v.type.dtype));
  }
  for (const std::string& name : g.scalars())
    BENCHSUITE_CHECK_ARG(scalars.count(name), "run: the runtime scalar '", name, "' is missing");
  std::vector<Shape> shapes;
  shapes.reserve(inputs.size());
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  *compiled = plans_.count(shapes) == 0;
  const Plan& p = plan(shapes);
  for (size_t i = 0; i < inputs.size(); ++i) copy_into(inputs[i], p.inputs[i], stream);
  return p;
}

void Executor::run_step(const PlanStep& step, const std::map<std::string, int64_t>& scalars,
                        StreamHandle stream) const {
  std::vector<Tensor> repacked;
  if (!step.runtime_pack.empty()) {  // rare: a computed weight in a layout the kernel does not take
    repacked = step.in;
    for (int i : step.runtime_pack) {
      Tensor p = step.kind->pack(i, repacked[i], step.node->attrs);
      if (p.defined()) repacked[i] = p;
    }
  }
  NodeRun r{*step.node, step.runtime_pack.empty() ? step.in : repacked, step.out, step.workspace, step.versions,
            scalars, stream};
  try {
    step.kind->run(r);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::invalid_argument) throw;
    BENCHSUITE_THROW_ARG("graph node '", step.node->name, "' (", step.node->kind, "): ", e.message());
  }
}

const std::vector<Tensor>& Executor::run(const std::vector<Tensor>& inputs,
                                         const std::map<std::string, int64_t>& scalars, StreamHandle stream) {
  const auto t0 = std::chrono::steady_clock::now();
  bool compiled = false;
  const Plan& p = prepare(inputs, scalars, stream, &compiled);
  const auto t1 = std::chrono::steady_clock::now();
  for (const PlanStep& step : p.steps) run_step(step, scalars, stream);
  if (compiled) {  // the first call of a new plan: cold caches, first touch of its arena
    if (device_.is_cuda()) cuda_synchronize(device_.index);
    stats_.first_call_seconds = seconds_since(t1) + std::chrono::duration<double>(t1 - t0).count() -
                                p.compile_seconds;
  }
  return p.outputs;
}

std::vector<double> Executor::run_profiled(const std::vector<Tensor>& inputs,
                                           const std::map<std::string, int64_t>& scalars) {
  bool compiled = false;
  const Plan& p = prepare(inputs, scalars, nullptr, &compiled);
  std::vector<double> seconds;
  seconds.reserve(p.steps.size());
  for (const PlanStep& step : p.steps) {
    const auto t0 = std::chrono::steady_clock::now();
    run_step(step, scalars, nullptr);
    if (device_.is_cuda()) cuda_synchronize(device_.index);
    seconds.push_back(seconds_since(t0));
  }
  return seconds;
}

}  // namespace benchsuite::graph
