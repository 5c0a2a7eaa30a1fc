// The graph IR of the model layer: values (shape, dtype) and nodes (a registered node kind,
// typed attributes, input and output values) as plain data, so that passes can rewrite a
// graph and executors plan it without the graph knowing about either (DESIGN.md §6).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace benchsuite::graph {

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;

// A node attribute: a flag, an integer, a float, a string or a list of integers.
using AttrValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>>;

// Named attributes of a node; the getters throw an internal error naming the attribute when
// it is missing or of another type (node kinds read only what their builders set).
class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> items) : items_(items) {}
  Attrs& set(const std::string& name, AttrValue value);
  bool has(const std::string& name) const { return items_.count(name) != 0; }
  bool flag(const std::string& name) const;
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  const std::string& text(const std::string& name) const;
  const std::vector<int64_t>& ints(const std::string& name) const;
  bool flag_or(const std::string& name, bool fallback) const { return has(name) ? flag(name) : fallback; }
  int64_t integer_or(const std::string& name, int64_t fallback) const { return has(name) ? integer(name) : fallback; }
  double real_or(const std::string& name, double fallback) const { return has(name) ? real(name) : fallback; }
  std::string text_or(const std::string& name, const std::string& fallback) const {
    return has(name) ? text(name) : fallback;
  }
  const std::map<std::string, AttrValue>& items() const { return items_; }
  bool operator==(const Attrs& other) const { return items_ == other.items_; }
  std::string str() const;  // "causal=true, scale=0.125"

 private:
  const AttrValue& get(const std::string& name) const;
  std::map<std::string, AttrValue> items_;
};

struct ValueType {
  Shape shape;
  DType dtype = DType::float32;
  bool operator==(const ValueType& o) const { return shape == o.shape && dtype == o.dtype; }
  bool operator!=(const ValueType& o) const { return !(*this == o); }
  std::string str() const;  // "float32[2, 8]"
};

// How an optional input left out (kNoValue) appears to a kind's inference.
inline ValueType absent_type() { return {{-1}, DType::uint8}; }
inline bool is_absent(const ValueType& t) { return t.shape.size() == 1 && t.shape[0] == -1; }

enum class ValueKind {
  input,         // given to each run
  parameter,     // a named weight, owned by the model (Hugging Face names for known models)
  state,         // persistent between runs, owned by the executor (a KV cache), zeros at first
  intermediate,  // produced by a node
};
const char* value_kind_name(ValueKind kind);

struct Value {
  std::string name;  // inputs, parameters and states: their name; intermediates: "<node>.<i>"
  ValueType type;
  ValueKind kind = ValueKind::intermediate;
  int32_t producer = -1;  // index of the producing node (intermediates)
};

struct Node {
  std::string kind;  // a registered node kind ("linear", "attention", ...)
  std::string name;  // unique in the graph, e.g. "h.0.attn.c_attn"
  Attrs attrs;
  std::vector<ValueId> inputs;  // kNoValue: an optional input left out
  std::vector<ValueId> outputs;
};

// A graph built for concrete shapes. Runtime integers (a decode step's position) are named
// scalars given to each run, so one plan serves every step of a generation.
class Graph {
 public:
  Graph() = default;

  ValueId add_input(const std::string& name, const ValueType& type);
  ValueId add_parameter(const std::string& name, const ValueType& type);
  ValueId add_state(const std::string& name, const ValueType& type);
  void add_scalar(const std::string& name);
  // Appends a node of a registered kind; its output types come from the kind's inference
  // (an invalid_argument naming the node when the inputs do not fit).
  std::vector<ValueId> add_node(const std::string& kind, const std::vector<ValueId>& inputs, Attrs attrs,
                                const std::string& name = "");
  void mark_output(ValueId value, const std::string& name = "");

  const std::vector<Value>& values() const { return values_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  std::vector<Node>& mutable_nodes() { return nodes_; }  // passes; verify() after a rewrite
  const Value& value(ValueId id) const;
  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  const std::vector<ValueId>& parameters() const { return parameters_; }
  const std::vector<ValueId>& states() const { return states_; }
  const std::vector<std::string>& scalars() const { return scalars_; }
  ValueId find(const std::string& name) const;  // kNoValue when absent
  ValueId parameter(const std::string& name) const;  // invalid_argument when absent

  // Every value produced once, by an earlier node (acyclic), of the type the node kind
  // infers; names unique; outputs defined. internal error naming the first violation.
  void verify() const;
  std::string str() const;  // one line per node

 private:
  ValueId add_value(const std::string& name, const ValueType& type, ValueKind kind);
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<ValueId> inputs_, outputs_, parameters_, states_;
  std::vector<std::string> output_names_, scalars_;
  std::map<std::string, ValueId> by_name_;
  std::map<std::string, int> node_names_;
};

}  // namespace benchsuite::graph
