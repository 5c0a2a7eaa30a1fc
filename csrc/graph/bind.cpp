// Python bindings of the model layer's graph: the builder (same names as in C++), graphs with
// their summary, and the executor (benchsuite.graph wraps them for notebooks).
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "core/error.h"
#include "graph/autograd.h"
#include "graph/builder.h"
#include "graph/executor.h"
#include "graph/py_inits.h"

namespace benchsuite::bindings {

namespace {
using graph::Attrs;
using graph::AttrValue;
using graph::Builder;
using graph::Executor;
using graph::Graph;
using graph::ValueId;

AttrValue attr_from_python(const std::string& name, const py::handle& v) {
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  if (py::isinstance<py::int_>(v)) return v.cast<int64_t>();
  if (py::isinstance<py::float_>(v)) return v.cast<double>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::sequence>(v)) return v.cast<std::vector<int64_t>>();
  BENCHSUITE_THROW_ARG("attrs: '", name, "' must be a bool, int, float, str or a list of ints, got ",
                       std::string(py::str(v.get_type())));
}

Attrs attrs_from_python(const py::dict& d) {
  Attrs a;
  for (const auto& [k, v] : d) {
    const std::string name = k.cast<std::string>();
    a.set(name, attr_from_python(name, v));
  }
  return a;
}

py::object attr_to_python(const AttrValue& v) {
  return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

std::map<std::string, Tensor> tensors_from_python(const py::dict& d) {
  std::map<std::string, Tensor> out;
  for (const auto& [k, v] : d) {
    const std::string name = k.cast<std::string>();
    out[name] = as_tensor(v, name.c_str());
  }
  return out;
}


std::map<std::string, graph::ParameterInit> inits_from_python(const py::dict& d) {
  std::map<std::string, graph::ParameterInit> out;
  for (const auto& [k, v] : d) {
    const auto t = v.cast<std::pair<std::string, double>>();
    graph::ParameterInit init;
    init.kind = t.first == "ones"    ? graph::ParameterInit::Kind::ones
                : t.first == "zeros" ? graph::ParameterInit::Kind::zeros
                                     : graph::ParameterInit::Kind::normal;
    init.std = t.second;
    out[k.cast<std::string>()] = init;
  }
  return out;
}

// One dict per node: name, kind, attrs, input names, output types, parameters read, FLOPs, bytes.
py::list graph_summary(const Graph& g) {
  py::list rows;
  for (const graph::Node& node : g.nodes()) {
    const graph::NodeKind& kind = graph::node_kind(node.kind);
    std::vector<graph::ValueType> in, out;
    py::list inputs, outputs, params;
    int64_t param_elems = 0;
    for (ValueId id : node.inputs) {
      if (id == graph::kNoValue) {
        in.push_back(graph::absent_type());
        inputs.append(py::none());
        continue;
      }
      const graph::Value& v = g.value(id);
      in.push_back(v.type);
      inputs.append(v.name);
      if (v.kind == graph::ValueKind::parameter) {
        params.append(v.name);
        int64_t n = 1;
        for (int64_t d : v.type.shape) n *= d;
        param_elems += n;
      }
    }
    for (ValueId id : node.outputs) {
      out.push_back(g.value(id).type);
      outputs.append(py::make_tuple(py::tuple(py::cast(g.value(id).type.shape)), dtype_name(g.value(id).type.dtype)));
    }
    const graph::Cost cost = kind.cost ? kind.cost(in, out, node.attrs) : graph::Cost{};
    py::dict attrs;
    for (const auto& [k, v] : node.attrs.items()) attrs[py::str(k)] = attr_to_python(v);
    py::dict row;
    row["name"] = node.name;
    row["kind"] = node.kind;
    row["attrs"] = attrs;
    row["inputs"] = inputs;
    row["outputs"] = outputs;
    row["parameters"] = params;
    row["parameter_elements"] = param_elems;
    row["flops"] = cost.flops;
    row["bytes"] = cost.bytes;
    rows.append(row);
  }
  return rows;
}

py::dict value_dict(const graph::Value& v) {
  py::dict d;
  d["name"] = v.name;
  d["shape"] = py::tuple(py::cast(v.type.shape));
  d["dtype"] = dtype_name(v.type.dtype);
  d["kind"] = graph::value_kind_name(v.kind);
  return d;
}
}  // namespace

py::dict inits_to_python(const std::map<std::string, graph::ParameterInit>& inits) {
  py::dict d;
  for (const auto& [name, init] : inits) {
    const char* kind = init.kind == graph::ParameterInit::Kind::normal ? "normal"
                       : init.kind == graph::ParameterInit::Kind::ones ? "ones"
                                                                       : "zeros";
    d[py::str(name)] = py::make_tuple(kind, init.std);
  }
  return d;
}

BENCHSUITE_REGISTER_BINDINGS(graph, kBindOps) {
  py::class_<Graph, std::shared_ptr<Graph>>(m, "Graph", "A model graph: values, nodes, parameters (model layer).")
      .def("verify", &Graph::verify)
      .def("summary", &graph_summary, "One dict per node: kind, shapes, parameters, FLOPs and bytes.")
      .def("__str__", &Graph::str)
      .def_property_readonly("inputs",
                             [](const Graph& g) {
                               py::list l;
                               for (ValueId id : g.inputs()) l.append(value_dict(g.value(id)));
                               return l;
                             })
      .def_property_readonly("outputs", [](const Graph& g) { return g.output_names(); })
      .def_property_readonly("parameters",
                             [](const Graph& g) {
                               py::list l;
                               for (ValueId id : g.parameters()) l.append(value_dict(g.value(id)));
                               return l;
                             })
      .def_property_readonly("states",
                             [](const Graph& g) {
                               py::list l;
                               for (ValueId id : g.states()) l.append(value_dict(g.value(id)));
                               return l;
                             })
      .def_property_readonly("scalars", [](const Graph& g) { return g.scalars(); })
      .def_property_readonly("node_count", [](const Graph& g) { return g.nodes().size(); })
      .def("find", &Graph::find, "The value named `name` (-1 when none).")
      .def("add_input", [](Graph& g, const std::string& name, const py::object& shape, const std::string& dtype) {
             return g.add_input(name, {as_shape(shape), parse_dtype(dtype)});
           }, py::arg("name"), py::arg("shape"), py::arg("dtype") = "float32")
      .def("add_node",
           [](Graph& g, const std::string& kind, const std::vector<ValueId>& inputs, const py::dict& attrs,
              const std::string& name) { return g.add_node(kind, inputs, attrs_from_python(attrs), name); },
           py::arg("kind"), py::arg("inputs"), py::arg("attrs") = py::dict(), py::arg("name") = "")
      .def("mark_output", &Graph::mark_output, py::arg("value"), py::arg("name") = "");

  py::class_<Builder>(m, "GraphBuilder", "Builds a graph one node at a time (benchsuite.graph.Builder).")
      .def(py::init([](const std::string& dtype) { return Builder(parse_dtype(dtype)); }), py::arg("dtype") = "float32")
      .def("input", [](Builder& b, const std::string& name, const py::object& shape,
                       const std::string& dtype) { return b.input(name, as_shape(shape), parse_dtype(dtype)); },
           py::arg("name"), py::arg("shape"), py::arg("dtype") = "float32")
      .def("parameter",
           [](Builder& b, const std::string& name, const py::object& shape, const std::string& init, double std) {
             graph::ParameterInit i;
             i.kind = init == "ones"    ? graph::ParameterInit::Kind::ones
                      : init == "zeros" ? graph::ParameterInit::Kind::zeros
                                        : graph::ParameterInit::Kind::normal;
             BENCHSUITE_CHECK_ARG(init == "ones" || init == "zeros" || init == "normal", "parameter: init='", init,
                                  "' must be normal, ones or zeros");
             i.std = std;
             return b.parameter(name, as_shape(shape), i);
           },
           py::arg("name"), py::arg("shape"), py::arg("init") = "normal", py::arg("std") = 0.02)
      .def("state", [](Builder& b, const std::string& name, const py::object& shape) { return b.state(name, as_shape(shape)); })
      .def("scalar", &Builder::scalar)
      .def("output", &Builder::output, py::arg("value"), py::arg("name") = "")
      .def("shape", [](const Builder& b, ValueId v) { return py::tuple(py::cast(b.shape(v))); })
      .def("node",
           [](Builder& b, const std::string& kind, const std::vector<ValueId>& inputs, const py::dict& attrs,
              const std::string& name) { return b.node(kind, inputs, attrs_from_python(attrs), name); },
           py::arg("kind"), py::arg("inputs"), py::arg("attrs") = py::dict(), py::arg("name") = "")
      .def("linear",
           [](Builder& b, ValueId x, int64_t out_features, const std::string& name, bool bias, bool in_out) {
             return b.linear(x, out_features, name, bias, in_out);
           },
           py::arg("x"), py::arg("out_features"), py::arg("name"), py::arg("bias") = true, py::arg("in_out") = false)
      .def("matmul", &Builder::matmul, py::arg("a"), py::arg("b"), py::arg("name") = "")
      .def("add", &Builder::add, py::arg("a"), py::arg("b"), py::arg("name") = "")
      .def("mul", &Builder::mul, py::arg("a"), py::arg("b"), py::arg("name") = "")
      .def("relu", &Builder::relu)
      .def("gelu", &Builder::gelu)
      .def("gelu_erf", &Builder::gelu_erf)
      .def("silu", &Builder::silu)
      .def("tanh", &Builder::tanh)
      .def("softmax", &Builder::softmax)
      .def("layernorm", &Builder::layernorm, py::arg("x"), py::arg("name"), py::arg("eps") = 1e-5,
           py::arg("weight") = "weight", py::arg("bias") = "bias")
      .def("rmsnorm", &Builder::rmsnorm, py::arg("x"), py::arg("name"), py::arg("eps") = 1e-6,
           py::arg("weight") = "weight")
      .def("embedding", &Builder::embedding, py::arg("ids"), py::arg("vocab"), py::arg("dim"), py::arg("weight_name"),
           py::arg("padding_idx") = -1)
      .def("positions", &Builder::positions, py::arg("ids"), py::arg("max_positions"), py::arg("dim"),
           py::arg("weight_name"), py::arg("offset_scalar") = "")
      .def("rope", &Builder::rope, py::arg("x"), py::arg("base") = 10000.0, py::arg("offset_scalar") = "")
      .def("reshape", &Builder::reshape)
      .def("permute", &Builder::permute)
      .def("slice", &Builder::slice, py::arg("x"), py::arg("dim"), py::arg("start"), py::arg("stop"))
      .def("concat", &Builder::concat)
      .def("attention",
           [](Builder& b, ValueId q, ValueId k, ValueId v, bool causal, std::optional<double> scale, int64_t window,
              std::optional<ValueId> key_mask, const std::string& offset_scalar) {
             graph::AttentionOptions o;
             o.causal = causal;
             o.scale = scale;
             o.window = window;
             o.key_mask = key_mask.value_or(graph::kNoValue);
             o.offset_scalar = offset_scalar;
             return b.attention(q, k, v, o);
           },
           py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal") = false, py::arg("scale") = py::none(),
           py::arg("window") = 0, py::arg("key_mask") = py::none(), py::arg("offset_scalar") = "")
      .def("cache_write", &Builder::cache_write)
      .def("set_scope", &Builder::set_scope)
      .def_property_readonly("inits", [](const Builder& b) { return inits_to_python(b.inits()); })
      .def("finish", &Builder::finish, "The graph, verified.");

  m.def(
      "graph_backward",
      [](const std::shared_ptr<Graph>& g, ValueId loss, const std::vector<std::string>& wrt) {
        std::vector<ValueId> ids;
        for (const std::string& name : wrt) {
          const ValueId id = g->find(name);
          BENCHSUITE_CHECK_ARG(id != graph::kNoValue, "backward: wrt names no value '", name, "'");
          ids.push_back(id);
        }
        const graph::BackwardGraph b = graph::append_backward(*g, loss, ids);
        py::dict d;
        d["seed"] = g->value(b.seed).name;
        py::list grads;
        for (const auto& [name, id] : b.gradients) grads.append(name);
        d["gradients"] = grads;
        return d;
      },
      py::arg("graph"), py::arg("loss"), py::arg("wrt") = std::vector<std::string>{},
      "Appends the backward of `loss` (seed input 'grad:<loss>'; outputs 'grad:<name>' for each of `wrt`, "
      "default every parameter) to the graph.");
  m.def("graph_node_kinds", [] {
    py::list l;
    for (const auto& k : graph::node_kinds()) {
      py::dict d;
      d["name"] = k.name;
      d["doc"] = k.doc;
      d["ops"] = k.ops;
      d["differentiable"] = static_cast<bool>(k.gradient);
      l.append(d);
    }
    return l;
  });
  m.def("graph_random_parameters",
        [](const Graph& g, const py::dict& inits, uint64_t seed, const std::string& device) {
          return graph::random_parameters(g, inits_from_python(inits), seed, parse_device(device));
        },
        py::arg("graph"), py::arg("inits"), py::arg("seed"), py::arg("device") = "cpu");

  py::class_<Executor>(m, "Executor", "Runs a graph on one device with plans cached by input shapes.")
      .def(py::init([](std::shared_ptr<Graph> g, const py::dict& params, const std::string& device,
                       const std::map<std::string, std::string>& versions) {
             return std::make_unique<Executor>(std::move(g), tensors_from_python(params), parse_device(device),
                                               versions);
           }),
           py::arg("graph"), py::arg("parameters"), py::arg("device") = "cpu",
           py::arg("versions") = std::map<std::string, std::string>{})
      .def("run",
           [](Executor& e, const py::list& inputs, const std::map<std::string, int64_t>& scalars, bool copy) {
             std::vector<Tensor> in;
             for (size_t i = 0; i < inputs.size(); ++i) in.push_back(as_tensor(inputs[i], "inputs"));
             std::vector<Tensor> out;
             {
               py::gil_scoped_release release;
               const auto& views = e.run(in, scalars);
               for (const Tensor& t : views) out.push_back(copy ? t.to(Device{}).clone() : t);
             }
             return out;
           },
           py::arg("inputs"), py::arg("scalars") = std::map<std::string, int64_t>{}, py::arg("copy") = true,
           "Outputs in the graph's order: copies on the CPU, or (copy=False) views valid until the next run.")
      .def("run_profiled",
           [](Executor& e, const py::list& inputs, const std::map<std::string, int64_t>& scalars) {
             std::vector<Tensor> in;
             for (size_t i = 0; i < inputs.size(); ++i) in.push_back(as_tensor(inputs[i], "inputs"));
             std::vector<Shape> shapes;
             for (const Tensor& t : in) shapes.push_back(t.shape());
             std::vector<double> seconds;
             {
               py::gil_scoped_release release;
               seconds = e.run_profiled(in, scalars);
             }
             py::list rows;
             const auto& steps = e.plan(shapes).steps;
             for (size_t i = 0; i < steps.size(); ++i)
               rows.append(py::make_tuple(steps[i].node->name, steps[i].node->kind, seconds[i]));
             return rows;
           },
           py::arg("inputs"), py::arg("scalars") = std::map<std::string, int64_t>{},
           "One run with each step timed: (node, kind, seconds) in plan order.")
      .def("reset_states", &Executor::reset_states)
      .def("state", &Executor::state)
      .def("set_parameter", [](Executor& e, const std::string& name, const py::object& t) {
        e.set_parameter(name, as_tensor(t, name.c_str()));
      })
      .def_property_readonly("stats", [](const Executor& e) {
        const graph::ExecutorStats& s = e.stats();
        py::dict d;
        d["compile_seconds"] = s.compile_seconds;
        d["first_call_seconds"] = s.first_call_seconds;
        d["arena_bytes"] = s.arena_bytes;
        d["unshared_bytes"] = s.unshared_bytes;
        d["parameter_bytes"] = s.parameter_bytes;
        d["packed_bytes"] = s.packed_bytes;
        d["state_bytes"] = s.state_bytes;
        d["plans"] = s.plans;
        return d;
      });
}

}  // namespace benchsuite::bindings
