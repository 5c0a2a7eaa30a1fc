// Graph construction (each node's outputs inferred by its kind) and verification.
#include "graph/ir.h"

#include <sstream>

#include "core/error.h"
#include "graph/node_kind.h"

namespace benchsuite::graph {

// ---- attributes ---------------------------------------------------------------------------------
Attrs& Attrs::set(const std::string& name, AttrValue value) {
  items_[name] = std::move(value);
  return *this;
}

const AttrValue& Attrs::get(const std::string& name) const {
  auto it = items_.find(name);
  BENCHSUITE_CHECK(it != items_.end(), "node attribute '", name, "' is missing (has: ", str(), ")");
  return it->second;
}

namespace {
template <class T>
const T& attr_as(const AttrValue& v, const std::string& name, const char* type) {
  const T* p = std::get_if<T>(&v);
  BENCHSUITE_CHECK(p != nullptr, "node attribute '", name, "' is not ", type);
  return *p;
}
}  // namespace

bool Attrs::flag(const std::string& name) const { return attr_as<bool>(get(name), name, "a flag"); }
int64_t Attrs::integer(const std::string& name) const { return attr_as<int64_t>(get(name), name, "an integer"); }
double Attrs::real(const std::string& name) const {
  const AttrValue& v = get(name);
  if (const int64_t* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return attr_as<double>(v, name, "a number");
}
const std::string& Attrs::text(const std::string& name) const {
  return attr_as<std::string>(get(name), name, "a string");
}
const std::vector<int64_t>& Attrs::ints(const std::string& name) const {
  return attr_as<std::vector<int64_t>>(get(name), name, "a list of integers");
}

std::string Attrs::str() const {
  std::ostringstream out;
  bool first = true;
  for (const auto& [name, value] : items_) {
    out << (first ? "" : ", ") << name << "=";
    first = false;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>)
            out << (v ? "true" : "false");
          else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
            out << shape_str(v);
          else
            out << v;
        },
        value);
  }
  return out.str();
}

std::string ValueType::str() const { return std::string(dtype_name(dtype)) + shape_str(shape); }

const char* value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::input: return "input";
    case ValueKind::parameter: return "parameter";
    case ValueKind::state: return "state";
    case ValueKind::intermediate: return "intermediate";
  }
  return "?";
}

// ---- graph --------------------------------------------------------------------------------------
ValueId Graph::add_value(const std::string& name_in, const ValueType& type_in, ValueKind kind) {
  // Copies: a caller may pass a value's own name or type, which push_back below can move.
  const std::string name = name_in;
  const ValueType type = type_in;
  BENCHSUITE_CHECK_ARG(!name.empty(), "graph: a ", value_kind_name(kind), " needs a name");
  BENCHSUITE_CHECK_ARG(by_name_.count(name) == 0, "graph: the name '", name, "' is already used (by a ",
                       value_kind_name(values_[by_name_.at(name)].kind), ")");
  checked_nbytes(type.shape, type.dtype);  // negative or overflowing dimensions are an error here
  const auto id = static_cast<ValueId>(values_.size());
  values_.push_back({name, type, kind, -1});
  by_name_[name] = id;
  return id;
}

ValueId Graph::add_input(const std::string& name, const ValueType& type) {
  const ValueId id = add_value(name, type, ValueKind::input);
  inputs_.push_back(id);
  return id;
}
ValueId Graph::add_parameter(const std::string& name, const ValueType& type) {
  const ValueId id = add_value(name, type, ValueKind::parameter);
  parameters_.push_back(id);
  return id;
}
ValueId Graph::add_state(const std::string& name, const ValueType& type) {
  const ValueId id = add_value(name, type, ValueKind::state);
  states_.push_back(id);
  return id;
}
void Graph::add_scalar(const std::string& name) {
  for (const auto& s : scalars_)
    if (s == name) return;
  scalars_.push_back(name);
}

std::vector<ValueId> Graph::add_node(const std::string& kind_name, const std::vector<ValueId>& inputs, Attrs attrs,
                                     const std::string& name) {
  const NodeKind& kind = node_kind(kind_name);
  std::string node_name = name.empty() ? kind_name : name;
  if (node_names_.count(node_name)) node_name += "_" + std::to_string(node_names_[node_name]++);
  node_names_.emplace(node_name, 1);
  std::vector<ValueType> in;
  for (ValueId id : inputs) {
    if (id == kNoValue) {
      in.push_back(absent_type());
      continue;
    }
    BENCHSUITE_CHECK_ARG(id >= 0 && id < static_cast<ValueId>(values_.size()), node_name, ": input value ", id,
                         " does not exist");
    in.push_back(values_[id].type);
  }
  std::vector<ValueType> out;
  try {
    out = kind.infer(in, attrs);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::invalid_argument) throw;
    std::ostringstream inputs_desc;
    for (size_t i = 0; i < inputs.size(); ++i)
      inputs_desc << (i ? ", " : "") << (inputs[i] == kNoValue ? "-" : values_[inputs[i]].name + " " + in[i].str());
    BENCHSUITE_THROW_ARG("graph node '", node_name, "' (", kind_name, "): ", e.message(), " [inputs: ",
                         inputs_desc.str(), "]");
  }
  Node node{kind_name, node_name, std::move(attrs), inputs, {}};
  const auto index = static_cast<int32_t>(nodes_.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const std::string value_name = out.size() == 1 ? node_name : node_name + "." + std::to_string(i);
    const ValueId id = add_value(value_name, out[i], ValueKind::intermediate);
    values_[id].producer = index;
    node.outputs.push_back(id);
  }
  nodes_.push_back(std::move(node));
  return nodes_.back().outputs;
}

void Graph::mark_output(ValueId value, const std::string& name) {
  BENCHSUITE_CHECK_ARG(value >= 0 && value < static_cast<ValueId>(values_.size()), "graph: output value ", value,
                       " does not exist");
  outputs_.push_back(value);
  output_names_.push_back(name.empty() ? values_[value].name : name);
}

const Value& Graph::value(ValueId id) const {
  BENCHSUITE_CHECK(id >= 0 && id < static_cast<ValueId>(values_.size()), "no value ", id);
  return values_[id];
}

ValueId Graph::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? kNoValue : it->second;
}

ValueId Graph::parameter(const std::string& name) const {
  const ValueId id = find(name);
  BENCHSUITE_CHECK_ARG(id != kNoValue && values_[id].kind == ValueKind::parameter, "graph: no parameter named '",
                       name, "'");
  return id;
}

void Graph::verify() const {
  std::vector<int32_t> produced_at(values_.size(), -2);  // -1: before any node
  for (size_t i = 0; i < values_.size(); ++i)
    if (values_[i].kind != ValueKind::intermediate) produced_at[i] = -1;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    const NodeKind& kind = node_kind(node.kind);
    std::vector<ValueType> in;
    for (ValueId id : node.inputs) {
      if (id == kNoValue) {
        in.push_back(absent_type());
        continue;
      }
      BENCHSUITE_CHECK(id >= 0 && id < static_cast<ValueId>(values_.size()), "node ", node.name, " reads value ", id,
                       " that does not exist");
      BENCHSUITE_CHECK(produced_at[id] != -2 && produced_at[id] < static_cast<int32_t>(n), "node ", node.name,
                       " reads ", values_[id].name, " before it is produced (a cycle or a misordered rewrite)");
      in.push_back(values_[id].type);
    }
    const std::vector<ValueType> out = kind.infer(in, node.attrs);
    BENCHSUITE_CHECK(out.size() == node.outputs.size(), "node ", node.name, " has ", node.outputs.size(),
                     " outputs, its kind infers ", out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const ValueId id = node.outputs[i];
      BENCHSUITE_CHECK(produced_at[id] == -2, "value ", values_[id].name, " is produced twice (node ", node.name, ")");
      BENCHSUITE_CHECK(values_[id].type == out[i], "value ", values_[id].name, " is ", values_[id].type.str(),
                       " but node ", node.name, " infers ", out[i].str());
      produced_at[id] = static_cast<int32_t>(n);
    }
  }
  for (ValueId id : outputs_)
    BENCHSUITE_CHECK(produced_at[id] != -2, "graph output ", values_[id].name, " is never produced");
}

std::string Graph::str() const {
  std::ostringstream out;
  for (ValueId id : inputs_) out << "input " << values_[id].name << ": " << values_[id].type.str() << "\n";
  for (const Node& node : nodes_) {
    out << node.name << " = " << node.kind << "(";
    for (size_t i = 0; i < node.inputs.size(); ++i)
      out << (i ? ", " : "") << (node.inputs[i] == kNoValue ? "-" : values_[node.inputs[i]].name);
    out << ")";
    if (!node.attrs.items().empty()) out << " {" << node.attrs.str() << "}";
    out << " -> ";
    for (size_t i = 0; i < node.outputs.size(); ++i) out << (i ? ", " : "") << values_[node.outputs[i]].type.str();
    out << "\n";
  }
  return out.str();
}

}  // namespace benchsuite::graph
