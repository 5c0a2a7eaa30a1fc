// Python bindings of the elementwise ops (benchsuite.ops wraps them for NumPy/torch).
#include "bindings/bindings.h"
#include "ops/elementwise/elementwise.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(elementwise, kBindOps) {
  m.def("add",
        [](const py::object& a, const py::object& b, const std::string& impl) {
          return ops::add(as_tensor(a, "a"), as_tensor(b, "b"), impl);
        },
        py::arg("a"), py::arg("b"), py::arg("impl") = "");
  m.def("mul",
        [](const py::object& a, const py::object& b, const std::string& impl) {
          return ops::mul(as_tensor(a, "a"), as_tensor(b, "b"), impl);
        },
        py::arg("a"), py::arg("b"), py::arg("impl") = "");
  m.def("axpy",
        [](double alpha, const py::object& x, const py::object& y, const std::string& impl) {
          return ops::axpy(alpha, as_tensor(x, "x"), as_tensor(y, "y"), impl);
        },
        py::arg("alpha"), py::arg("x"), py::arg("y"), py::arg("impl") = "");
  for (Activation kind : {Activation::relu, Activation::gelu, Activation::silu, Activation::gelu_erf, Activation::tanh}) {
    const std::string name = activation_name(kind);
    m.def(name.c_str(),
          [kind](const py::object& x, const std::string& impl) { return ops::activation(kind, as_tensor(x, "x"), impl); },
          py::arg("x"), py::arg("impl") = "");
    m.def((name + "_backward").c_str(),
          [kind](const py::object& x, const py::object& dy, const std::string& impl) {
            return ops::activation_backward(kind, as_tensor(x, "x"), as_tensor(dy, "dy"), impl);
          },
          py::arg("x"), py::arg("dy"), py::arg("impl") = "");
  }
}

}  // namespace benchsuite::bindings
