// Python bindings of the norms family (benchsuite.ops wraps them for NumPy/torch). gamma
// and beta may be None, as in torch: ones / zeros of shape [cols].
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "ops/norms/norms.h"

namespace benchsuite::bindings {

namespace {
// None: an undefined Tensor (the op's default).
Tensor as_optional_tensor(const py::object& obj, const char* arg) {
  return obj.is_none() ? Tensor() : as_tensor(obj, arg);
}
}  // namespace

BENCHSUITE_REGISTER_BINDINGS(norms, kBindOps) {
  m.def("layernorm",
        [](const py::object& x, const py::object& gamma, const py::object& beta, double eps, const std::string& impl) {
          return ops::layernorm(as_tensor(x, "x"), as_optional_tensor(gamma, "gamma"),
                                as_optional_tensor(beta, "beta"), eps, impl);
        },
        py::arg("x"), py::arg("gamma") = py::none(), py::arg("beta") = py::none(), py::arg("eps") = 1e-5,
        py::arg("impl") = "", "Returns [y, mean, rstd]. gamma / beta None: ones / zeros.");
  m.def("layernorm_backward",
        [](const py::object& dy, const py::object& x, const py::object& gamma, const py::object& mean,
           const py::object& rstd, const std::string& impl) {
          return ops::layernorm_backward(as_tensor(dy, "dy"), as_tensor(x, "x"), as_optional_tensor(gamma, "gamma"),
                                         as_tensor(mean, "mean"), as_tensor(rstd, "rstd"), impl);
        },
        py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"), py::arg("rstd"), py::arg("impl") = "",
        "Returns [dx, dgamma, dbeta]. gamma None: ones.");
  m.def("rmsnorm",
        [](const py::object& x, const py::object& gamma, double eps, const std::string& impl) {
          return ops::rmsnorm(as_tensor(x, "x"), as_optional_tensor(gamma, "gamma"), eps, impl);
        },
        py::arg("x"), py::arg("gamma") = py::none(), py::arg("eps") = 1e-6, py::arg("impl") = "",
        "Returns [y, rstd]. gamma None: ones.");
  m.def("rmsnorm_backward",
        [](const py::object& dy, const py::object& x, const py::object& gamma, const py::object& rstd,
           const std::string& impl) {
          return ops::rmsnorm_backward(as_tensor(dy, "dy"), as_tensor(x, "x"), as_optional_tensor(gamma, "gamma"),
                                       as_tensor(rstd, "rstd"), impl);
        },
        py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("rstd"), py::arg("impl") = "",
        "Returns [dx, dgamma]. gamma None: ones.");
}

}  // namespace benchsuite::bindings
