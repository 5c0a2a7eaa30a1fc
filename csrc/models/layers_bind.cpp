// Python bindings of the composite layers (benchsuite.models.layers wraps them): free
// functions taking the builder first, as in C++.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "core/error.h"
#include "models/layers.h"

namespace benchsuite::bindings {

namespace {
py::tuple recurrent_tuple(const models::RecurrentOutput& r) {
  if (r.c == graph::kNoValue) return py::make_tuple(r.output, r.h);
  return py::make_tuple(r.output, r.h, r.c);
}
}  // namespace

BENCHSUITE_REGISTER_BINDINGS(layers, kBindOps) {
  using graph::Builder;
  m.def(
      "layer_conv2d",
      [](Builder& b, int64_t x, int64_t out_channels, const py::object& kernel, const std::string& name,
         const py::object& stride, const py::object& padding, const py::object& dilation, bool bias) {
        models::Conv2dOptions o;
        o.kernel = as_int_pair(kernel, "kernel");
        o.stride = as_int_pair(stride, "stride");
        o.padding = as_int_pair(padding, "padding");
        o.dilation = as_int_pair(dilation, "dilation");
        o.bias = bias;
        return models::conv2d(b, x, out_channels, o, name);
      },
      py::arg("builder"), py::arg("x"), py::arg("out_channels"), py::arg("kernel"), py::arg("name"),
      py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("bias") = true);
  m.def("layer_conv1d", &models::conv1d, py::arg("builder"), py::arg("x"), py::arg("out_channels"), py::arg("kernel"),
        py::arg("name"), py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
        py::arg("bias") = true);
  m.def(
      "layer_pool2d",
      [](Builder& b, const std::string& mode, int64_t x, const py::object& kernel, const py::object& stride,
         const py::object& padding) {
        BENCHSUITE_CHECK_ARG(mode == "max" || mode == "avg", "mode='", mode, "' must be 'max' or 'avg'");
        const auto k = as_int_pair(kernel, "kernel");
        const auto s = stride.is_none() ? std::make_pair(int64_t{0}, int64_t{0}) : as_int_pair(stride, "stride");
        const auto p = as_int_pair(padding, "padding");
        return mode == "max" ? models::max_pool2d(b, x, k, s, p) : models::avg_pool2d(b, x, k, s, p);
      },
      py::arg("builder"), py::arg("mode"), py::arg("x"), py::arg("kernel"), py::arg("stride") = py::none(),
      py::arg("padding") = 0);
  m.def("layer_batch_norm", &models::batch_norm, py::arg("builder"), py::arg("x"), py::arg("name"),
        py::arg("training") = false, py::arg("eps") = 1e-5);
  m.def("layer_group_norm", &models::group_norm, py::arg("builder"), py::arg("x"), py::arg("groups"), py::arg("name"),
        py::arg("eps") = 1e-5);
  m.def("layer_dropout", &models::dropout, py::arg("builder"), py::arg("x"), py::arg("p"), py::arg("seed"),
        py::arg("step_scalar") = "");
  m.def("layer_sinusoidal_positions", &models::sinusoidal_positions, py::arg("builder"), py::arg("ids"),
        py::arg("dim"), py::arg("base") = 10000.0, py::arg("offset_scalar") = "");
  m.def("layer_mlp", &models::mlp, py::arg("builder"), py::arg("x"), py::arg("hidden"), py::arg("activation"),
        py::arg("name"));
  m.def("layer_moe", &models::moe, py::arg("builder"), py::arg("x"), py::arg("experts"), py::arg("k"),
        py::arg("hidden"), py::arg("name"));
  m.def(
      "layer_mamba",
      [](Builder& b, int64_t x, const std::string& name, int64_t intermediate, int64_t state, int64_t conv_kernel,
         int64_t dt_rank) {
        models::MambaOptions o;
        o.intermediate = intermediate;
        o.state = state;
        o.conv_kernel = conv_kernel;
        o.dt_rank = dt_rank;
        return models::mamba(b, x, o, name);
      },
      py::arg("builder"), py::arg("x"), py::arg("name"), py::arg("intermediate") = 0, py::arg("state") = 16,
      py::arg("conv_kernel") = 4, py::arg("dt_rank") = 0);
  m.def("layer_swiglu", &models::swiglu, py::arg("builder"), py::arg("x"), py::arg("hidden"), py::arg("name"));
  m.def(
      "layer_lstm",
      [](Builder& b, int64_t x, int64_t hidden, const std::string& name, int64_t layers) {
        return recurrent_tuple(models::lstm(b, x, hidden, name, layers));
      },
      py::arg("builder"), py::arg("x"), py::arg("hidden"), py::arg("name"), py::arg("layers") = 1);
  m.def(
      "layer_gru",
      [](Builder& b, int64_t x, int64_t hidden, const std::string& name, int64_t layers) {
        return recurrent_tuple(models::gru(b, x, hidden, name, layers));
      },
      py::arg("builder"), py::arg("x"), py::arg("hidden"), py::arg("name"), py::arg("layers") = 1);
}

}  // namespace benchsuite::bindings
