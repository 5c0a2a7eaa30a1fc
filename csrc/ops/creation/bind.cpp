// Python bindings of the creation ops (benchsuite.ops wraps them for NumPy/torch).
#include "bindings/bindings.h"
#include "core/error.h"
#include "ops/creation/creation.h"

namespace benchsuite::bindings {

namespace {
uint64_t as_seed(int64_t seed) {
  BENCHSUITE_CHECK_ARG(seed >= 0, "seed=", seed, " must be >= 0");
  return static_cast<uint64_t>(seed);
}
}  // namespace

BENCHSUITE_REGISTER_BINDINGS(creation, kBindOps) {
  m.def("fill",
        [](const py::object& shape, double value, const std::string& dtype, const std::string& device,
           const std::string& impl) {
          return ops::fill(as_shape(shape), value, parse_dtype(dtype), parse_device(device), impl);
        },
        py::arg("shape"), py::arg("value"), py::arg("dtype") = "float32", py::arg("device") = "cpu",
        py::arg("impl") = "");
  m.def("randn",
        [](const py::object& shape, int64_t seed, const std::string& dtype, const std::string& device, float mean,
           float std, const std::string& impl) {
          return ops::randn(as_shape(shape), as_seed(seed), parse_dtype(dtype), parse_device(device), mean, std, impl);
        },
        py::arg("shape"), py::arg("seed") = 0, py::arg("dtype") = "float32", py::arg("device") = "cpu",
        py::arg("mean") = 0.0f, py::arg("std") = 1.0f, py::arg("impl") = "");
  m.def("uniform",
        [](const py::object& shape, int64_t seed, const std::string& dtype, const std::string& device, float low,
           float high, const std::string& impl) {
          return ops::uniform(as_shape(shape), as_seed(seed), parse_dtype(dtype), parse_device(device), low, high,
                              impl);
        },
        py::arg("shape"), py::arg("seed") = 0, py::arg("dtype") = "float32", py::arg("device") = "cpu",
        py::arg("low") = 0.0f, py::arg("high") = 1.0f, py::arg("impl") = "");
  m.def("cast",
        [](const py::object& x, const std::string& dtype, const std::string& impl) {
          return ops::cast(as_tensor(x, "x"), parse_dtype(dtype), impl);
        },
        py::arg("x"), py::arg("dtype"), py::arg("impl") = "");
}

}  // namespace benchsuite::bindings
