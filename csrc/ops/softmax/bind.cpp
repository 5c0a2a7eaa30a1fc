// Python bindings of the softmax family (benchsuite.ops wraps them for NumPy/torch).
#include "bindings/bindings.h"
#include "ops/softmax/softmax.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(softmax, kBindOps) {
  m.def("softmax", [](const py::object& x, const std::string& impl) { return ops::softmax(as_tensor(x, "x"), impl); },
        py::arg("x"), py::arg("impl") = "");
  m.def("softmax_backward",
        [](const py::object& y, const py::object& dy, const std::string& impl) {
          return ops::softmax_backward(as_tensor(y, "y"), as_tensor(dy, "dy"), impl);
        },
        py::arg("y"), py::arg("dy"), py::arg("impl") = "");
  m.def("log_softmax",
        [](const py::object& x, const std::string& impl) { return ops::log_softmax(as_tensor(x, "x"), impl); },
        py::arg("x"), py::arg("impl") = "");
  m.def("log_softmax_backward",
        [](const py::object& y, const py::object& dy, const std::string& impl) {
          return ops::log_softmax_backward(as_tensor(y, "y"), as_tensor(dy, "dy"), impl);
        },
        py::arg("y"), py::arg("dy"), py::arg("impl") = "");
}

}  // namespace benchsuite::bindings
