// Python bindings of the channel normalisations (group_norm, batch_norm and their backwards).
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "ops/channel_norms/channel_norms.h"

namespace benchsuite::bindings {

namespace {
Tensor optional_tensor(const py::object& t, const char* name) { return t.is_none() ? Tensor() : as_tensor(t, name); }
}  // namespace

BENCHSUITE_REGISTER_BINDINGS(channel_norms, kBindOps) {
  m.def(
      "group_norm",
      [](const py::object& x, const py::object& gamma, const py::object& beta, int64_t groups, double eps,
         const std::string& impl) {
        return ops::group_norm(as_tensor(x, "x"), as_tensor(gamma, "gamma"), as_tensor(beta, "beta"), groups, eps,
                               impl);
      },
      py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("groups"), py::arg("eps") = 1e-5, py::arg("impl") = "",
      "x [N, C, ...] -> [y, mean [N*groups], rstd [N*groups]].");
  m.def(
      "group_norm_backward",
      [](const py::object& dy, const py::object& x, const py::object& gamma, const py::object& mean,
         const py::object& rstd, int64_t groups, const std::string& impl) {
        return ops::group_norm_backward(as_tensor(dy, "dy"), as_tensor(x, "x"), as_tensor(gamma, "gamma"),
                                        as_tensor(mean, "mean"), as_tensor(rstd, "rstd"), groups, impl);
      },
      py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"), py::arg("rstd"), py::arg("groups"),
      py::arg("impl") = "", "-> [dx, dgamma, dbeta].");
  m.def(
      "batch_norm",
      [](const py::object& x, const py::object& gamma, const py::object& beta, const py::object& running_mean,
         const py::object& running_var, bool training, double eps, const std::string& impl) {
        return ops::batch_norm(as_tensor(x, "x"), as_tensor(gamma, "gamma"), as_tensor(beta, "beta"),
                               optional_tensor(running_mean, "running_mean"),
                               optional_tensor(running_var, "running_var"), training, eps, impl);
      },
      py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("running_mean") = py::none(),
      py::arg("running_var") = py::none(), py::arg("training") = true, py::arg("eps") = 1e-5, py::arg("impl") = "",
      "x [N, C, ...] -> [y, mean [C], rstd [C]]: batch statistics when training, else the running ones.");
  m.def(
      "batch_norm_backward",
      [](const py::object& dy, const py::object& x, const py::object& gamma, const py::object& mean,
         const py::object& rstd, bool training, const std::string& impl) {
        return ops::batch_norm_backward(as_tensor(dy, "dy"), as_tensor(x, "x"), as_tensor(gamma, "gamma"),
                                        as_tensor(mean, "mean"), as_tensor(rstd, "rstd"), training, impl);
      },
      py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"), py::arg("rstd"), py::arg("training") = true,
      py::arg("impl") = "", "-> [dx, dgamma, dbeta].");
}

}  // namespace benchsuite::bindings
