// Python bindings of the sigmoid ops (benchsuite.ops wraps them for NumPy/torch).
#include "bindings/bindings.h"
#include "ops/sigmoid/sigmoid.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(sigmoid, kBindOps) {
  m.def(
      "sigmoid", [](const py::object& x, const std::string& impl) { return ops::sigmoid(as_tensor(x, "x"), impl); },
      py::arg("x"), py::arg("impl") = "", "y = 1 / (1 + exp(-x)), elementwise.");
  m.def(
      "sigmoid_backward",
      [](const py::object& y, const py::object& dy, const std::string& impl) {
        return ops::sigmoid_backward(as_tensor(y, "y"), as_tensor(dy, "dy"), impl);
      },
      py::arg("y"), py::arg("dy"), py::arg("impl") = "", "dx = dy * y * (1 - y), from the forward's output y.");
}

}  // namespace benchsuite::bindings
