// Python bindings of the manipulation ops (on bs.Tensor; benchsuite.ops_manipulation wraps
// them so NumPy/torch callers get their own array kind back). reshape and slice return
// views that keep the input's memory alive.
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bindings/bindings.h"
#include "core/error.h"
#include "ops/manipulation/manipulation.h"

namespace benchsuite::bindings {

namespace {
std::optional<int64_t> as_index(const py::object& value, const char* name) {
  if (value.is_none()) return std::nullopt;
  BENCHSUITE_CHECK_ARG(py::isinstance<py::int_>(value), "slice: ", name, "=", std::string(py::repr(value)),
                       " must be an integer or None");
  return value.cast<int64_t>();
}
}  // namespace

BENCHSUITE_REGISTER_BINDINGS(manipulation, kBindOps) {
  m.def("transpose",
        [](const py::object& x, const std::string& impl) { return ops::transpose(as_tensor(x, "x"), impl); },
        py::arg("x"), py::arg("impl") = "", "x [..., m, n] -> new contiguous [..., n, m].");
  m.def("contiguous",
        [](const py::object& x, const std::string& impl) { return ops::contiguous(as_tensor(x, "x"), impl); },
        py::arg("x"), py::arg("impl") = "", "A contiguous copy of a strided view (x itself when contiguous).");
  m.def("reshape",
        [](const py::object& x, const py::object& shape) { return ops::reshape(as_tensor(x, "x"), as_shape(shape)); },
        py::arg("x"), py::arg("shape"), "A view in a new shape (one -1 inferred); copies only a non-contiguous x.");
  m.def("slice",
        [](const py::object& x, int64_t dim, const py::object& start, const py::object& stop, int64_t step) {
          return ops::slice(as_tensor(x, "x"), dim, as_index(start, "start"), as_index(stop, "stop"), step);
        },
        py::arg("x"), py::arg("dim"), py::arg("start") = py::none(), py::arg("stop") = py::none(),
        py::arg("step") = 1, "x[start:stop:step] along dim, as a view.");
  m.def("concat",
        [](const py::object& tensors, int64_t dim, const std::string& impl) {
          BENCHSUITE_CHECK_ARG(py::isinstance<py::sequence>(tensors) && !py::isinstance<py::str>(tensors),
                               "concat: tensors must be a list or tuple of arrays, got ",
                               std::string(py::str(py::type::of(tensors).attr("__name__"))));
          std::vector<Tensor> xs;
          size_t i = 0;
          for (py::handle h : tensors) {
            const std::string name = "tensors[" + std::to_string(i++) + "]";
            xs.push_back(as_tensor(h, name.c_str()));
          }
          return ops::concat(xs, dim, impl);
        },
        py::arg("tensors"), py::arg("dim") = 0, py::arg("impl") = "", "A new tensor joining tensors along dim.");
}

}  // namespace benchsuite::bindings
