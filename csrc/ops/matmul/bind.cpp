// Python bindings of matmul (benchsuite.ops wraps it for NumPy/torch).
#include "bindings/bindings.h"
#include "ops/matmul/matmul.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(matmul, kBindOps) {
  m.def("matmul",
        [](const py::object& a, const py::object& b, const std::string& impl) {
          return ops::matmul(as_tensor(a, "a"), as_tensor(b, "b"), impl);
        },
        py::arg("a"), py::arg("b"), py::arg("impl") = "");
}

}  // namespace benchsuite::bindings
