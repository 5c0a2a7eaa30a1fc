// Ops as Python sees them (on bs.Tensor; benchsuite.ops wraps them for NumPy/torch) and
// the op-version registry.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "common/error.h"
#include "ops/ops.h"

namespace benchsuite::bindings {

Shape as_shape(const py::object& shape) {
  if (py::isinstance<py::int_>(shape)) return {shape.cast<int64_t>()};
  Shape out;
  for (py::handle h : shape) {
    BENCHSUITE_CHECK_ARG(py::isinstance<py::int_>(h), "shape=", std::string(py::repr(shape)),
                         ": dimensions must be integers");
    out.push_back(h.cast<int64_t>());
  }
  return out;
}

namespace {
uint64_t as_seed(int64_t seed) {
  BENCHSUITE_CHECK_ARG(seed >= 0, "seed=", seed, " must be >= 0");
  return static_cast<uint64_t>(seed);
}
}  // namespace

void bind_ops(py::module_& m) {
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
  for (Activation kind : {Activation::relu, Activation::gelu, Activation::silu}) {
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
  for (auto [name, kind] : {std::pair<const char*, Reduction>{"sum", Reduction::sum}, {"mean", Reduction::mean},
                            {"max", Reduction::max}}) {
    m.def(name,
          [kind = kind](const py::object& x, const py::object& axis, const std::string& impl) {
            bool all = axis.is_none();
            if (!all) {
              const int64_t a = axis.cast<int64_t>();
              BENCHSUITE_CHECK_ARG(a == -1, "axis=", a, " is not supported (use -1 for the last axis or None)");
            }
            return ops::reduce(kind, as_tensor(x, "x"), all, impl);
          },
          py::arg("x"), py::arg("axis") = -1, py::arg("impl") = "");
  }
  m.def("softmax", [](const py::object& x, const std::string& impl) { return ops::softmax(as_tensor(x, "x"), impl); },
        py::arg("x"), py::arg("impl") = "");
  m.def("matmul",
        [](const py::object& a, const py::object& b, const std::string& impl) {
          return ops::matmul(as_tensor(a, "a"), as_tensor(b, "b"), impl);
        },
        py::arg("a"), py::arg("b"), py::arg("impl") = "");
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
  m.def("layernorm",
        [](const py::object& x, const py::object& gamma, const py::object& beta, double eps, const std::string& impl) {
          return ops::layernorm(as_tensor(x, "x"), as_tensor(gamma, "gamma"), as_tensor(beta, "beta"), eps, impl);
        },
        py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("eps") = 1e-5, py::arg("impl") = "",
        "Returns [y, mean, rstd].");
  m.def("layernorm_backward",
        [](const py::object& dy, const py::object& x, const py::object& gamma, const py::object& mean,
           const py::object& rstd, const std::string& impl) {
          return ops::layernorm_backward(as_tensor(dy, "dy"), as_tensor(x, "x"), as_tensor(gamma, "gamma"),
                                         as_tensor(mean, "mean"), as_tensor(rstd, "rstd"), impl);
        },
        py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"), py::arg("rstd"), py::arg("impl") = "",
        "Returns [dx, dgamma, dbeta].");
  m.def("rmsnorm",
        [](const py::object& x, const py::object& gamma, double eps, const std::string& impl) {
          return ops::rmsnorm(as_tensor(x, "x"), as_tensor(gamma, "gamma"), eps, impl);
        },
        py::arg("x"), py::arg("gamma"), py::arg("eps") = 1e-6, py::arg("impl") = "", "Returns [y, rstd].");
  m.def("rmsnorm_backward",
        [](const py::object& dy, const py::object& x, const py::object& gamma, const py::object& rstd,
           const std::string& impl) {
          return ops::rmsnorm_backward(as_tensor(dy, "dy"), as_tensor(x, "x"), as_tensor(gamma, "gamma"),
                                       as_tensor(rstd, "rstd"), impl);
        },
        py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("rstd"), py::arg("impl") = "",
        "Returns [dx, dgamma].");
  m.def("op_versions", [] {
    py::list out;
    for (const ops::OpVersion& v : ops::op_versions()) {
      py::dict d;
      d["op"] = v.op;
      d["version"] = v.version;
      d["description"] = v.description;
      d["device"] = v.device == DeviceType::cpu ? "cpu" : "cuda";
      py::list dtypes;
      for (DType t : v.dtypes) dtypes.append(dtype_name(t));
      d["dtypes"] = dtypes;
      d["reference"] = v.reference;
      out.append(d);
    }
    return out;
  }, "Every registered version of every op, on every backend compiled in.");
}

}  // namespace benchsuite::bindings
