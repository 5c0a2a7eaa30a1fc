// The op-version registry as Python sees it (op_versions), and shapes from Python.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "core/error.h"
#include "ops/registry.h"

namespace benchsuite::bindings {

Shape as_shape(const py::object& shape) {
  if (py::isinstance<py::int_>(shape)) return {shape.cast<int64_t>()};
  Shape out;
  for (py::handle h : shape) {
    BENCHSUITE_CHECK_ARG(py::isinstance<py::int_>(h), "shape=", std::string(py::repr(shape)),
                         ": dimensions must be integers");
    out.push_back(h.cast<int64_t>());
  }
  return out;
}

std::pair<int64_t, int64_t> as_int_pair(const py::object& value, const char* name) {
  if (py::isinstance<py::int_>(value)) return {value.cast<int64_t>(), value.cast<int64_t>()};
  const bool pair = py::isinstance<py::sequence>(value) && !py::isinstance<py::str>(value) && py::len(value) == 2;
  BENCHSUITE_CHECK_ARG(pair && py::isinstance<py::int_>(value[py::int_(0)]) &&
                           py::isinstance<py::int_>(value[py::int_(1)]),
                       name, "=", std::string(py::repr(value)), " must be an int or a pair of ints");
  return {value[py::int_(0)].cast<int64_t>(), value[py::int_(1)].cast<int64_t>()};
}

BENCHSUITE_REGISTER_BINDINGS(registry, kBindHarness) {
  m.def("op_versions", [] {
    py::list out;
    for (const ops::OpVersion& v : ops::op_versions()) {
      py::dict d;
      d["op"] = v.op;
      d["version"] = v.version;
      d["description"] = v.description;
      d["device"] = v.device == DeviceType::cpu ? "cpu" : "cuda";
      py::list dtypes;
      for (DType t : v.dtypes) dtypes.append(dtype_name(t));
      d["dtypes"] = dtypes;
      d["reference"] = v.reference;
      py::list default_for;  // the dtypes this version runs for when no version is named
      for (DType t : v.default_for) default_for.append(dtype_name(t));
      d["default_for"] = default_for;
      out.append(d);
    }
    return out;
  }, "Every registered version of every op, on every backend compiled in.");
}

}  // namespace benchsuite::bindings
