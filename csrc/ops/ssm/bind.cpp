// Python bindings of the Mamba SSM core and its backward.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "ops/ssm/ssm.h"

namespace benchsuite::bindings {

namespace {
std::vector<Tensor> tensors(const py::object& x, const py::object& dt, const py::object& a_log, const py::object& b,
                            const py::object& c, const py::object& d) {
  return {as_tensor(x, "x"), as_tensor(dt, "dt"), as_tensor(a_log, "A_log"),
          as_tensor(b, "B"), as_tensor(c, "C"),   as_tensor(d, "D")};
}
}  // namespace

BENCHSUITE_REGISTER_BINDINGS(ssm, kBindOps) {
  m.def(
      "mamba_ssm",
      [](const py::object& x, const py::object& dt, const py::object& a_log, const py::object& b, const py::object& c,
         const py::object& d, const std::string& impl) { return ops::mamba_ssm(tensors(x, dt, a_log, b, c, d), impl); },
      py::arg("x"), py::arg("dt"), py::arg("A_log"), py::arg("B"), py::arg("C"), py::arg("D"), py::arg("impl") = "",
      "Mamba's selective SSM (softplus(dt) discretisation, zero initial state): y [batch, len, dim].");
  m.def(
      "mamba_ssm_backward",
      [](const py::object& dy, const py::object& x, const py::object& dt, const py::object& a_log,
         const py::object& b, const py::object& c, const py::object& d, const std::string& impl) {
        return ops::mamba_ssm_backward(as_tensor(dy, "dy"), tensors(x, dt, a_log, b, c, d), impl);
      },
      py::arg("dy"), py::arg("x"), py::arg("dt"), py::arg("A_log"), py::arg("B"), py::arg("C"), py::arg("D"),
      py::arg("impl") = "", "-> [dx, ddt, dA_log, dB, dC, dD].");
}

}  // namespace benchsuite::bindings
