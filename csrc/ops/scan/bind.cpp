// Python bindings of the scan ops (benchsuite.ops_scan wraps them for NumPy/torch).
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "ops/scan/scan.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(scan, kBindOps) {
  m.def("selective_scan",
        [](const py::object& x, const py::object& a, const py::object& b, const py::object& c, const py::object& h0,
           int64_t chunk, const std::string& impl) {
          return ops::selective_scan(as_tensor(x, "x"), as_tensor(a, "a"), as_tensor(b, "b"), as_tensor(c, "c"),
                                     h0.is_none() ? Tensor() : as_tensor(h0, "h0"), chunk, impl);
        },
        py::arg("x"), py::arg("a"), py::arg("b"), py::arg("c"), py::arg("h0") = py::none(), py::arg("chunk") = 64,
        py::arg("impl") = "",
        "h_t = a_t * h_{t-1} + b_t * x_t, y_t = sum_n c_t[n] h_t[n]; x [B,T,D], a, b [B,T,D,N], c [B,T,N], "
        "h0 [B,D,N] or None. Returns [y [B,T,D], h_last [B,D,N]].");
}

}  // namespace benchsuite::bindings
