// Python bindings of the conv family (unfold/fold, max and average pooling, and backwards).
// A window is given as kernel, stride, padding, dilation: each an int or an (h, w) pair.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "core/error.h"
#include "ops/conv/conv.h"

namespace benchsuite::bindings {

namespace {
Window2d window_of(const py::object& kernel, const py::object& stride, const py::object& padding,
                   const py::object& dilation) {
  Window2d w;
  std::tie(w.kh, w.kw) = as_int_pair(kernel, "kernel");
  std::tie(w.sh, w.sw) = stride.is_none() ? std::make_pair(w.kh, w.kw) : as_int_pair(stride, "stride");
  std::tie(w.ph, w.pw) = as_int_pair(padding, "padding");
  std::tie(w.dh, w.dw) = as_int_pair(dilation, "dilation");
  return w;
}
}  // namespace

BENCHSUITE_REGISTER_BINDINGS(conv, kBindOps) {
  // unfold's stride defaults to 1 (a convolution's); the pools' to the kernel (torch's).
  m.def(
      "unfold",
      [](const py::object& x, const py::object& kernel, const py::object& stride, const py::object& padding,
         const py::object& dilation, const std::string& impl) {
        return ops::unfold(as_tensor(x, "x"), window_of(kernel, stride, padding, dilation), impl);
      },
      py::arg("x"), py::arg("kernel"), py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
      py::arg("impl") = "", "x [N, C, H, W] -> cols [N, Ho*Wo, C*kh*kw] (im2col).");
  m.def(
      "fold",
      [](const py::object& cols, int64_t channels, int64_t h, int64_t w, const py::object& kernel,
         const py::object& stride, const py::object& padding, const py::object& dilation, const std::string& impl) {
        return ops::fold(as_tensor(cols, "cols"), channels, h, w, window_of(kernel, stride, padding, dilation), impl);
      },
      py::arg("cols"), py::arg("channels"), py::arg("h"), py::arg("w"), py::arg("kernel"), py::arg("stride") = 1,
      py::arg("padding") = 0, py::arg("dilation") = 1, py::arg("impl") = "",
      "cols [N, Ho*Wo, C*kh*kw] -> x [N, C, H, W], overlapping entries summed (col2im).");
  m.def(
      "max_pool2d",
      [](const py::object& x, const py::object& kernel, const py::object& stride, const py::object& padding,
         const std::string& impl) {
        return ops::max_pool2d(as_tensor(x, "x"), window_of(kernel, stride, padding, py::int_(1)), impl);
      },
      py::arg("x"), py::arg("kernel"), py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("impl") = "",
      "x [N, C, H, W] -> [y, indices (flat argmax into H*W)].");
  m.def(
      "max_pool2d_backward",
      [](const py::object& dy, const py::object& indices, int64_t h, int64_t w, const std::string& impl) {
        return ops::max_pool2d_backward(as_tensor(dy, "dy"), as_tensor(indices, "indices"), h, w, impl);
      },
      py::arg("dy"), py::arg("indices"), py::arg("h"), py::arg("w"), py::arg("impl") = "", "-> dx [N, C, h, w].");
  m.def(
      "avg_pool2d",
      [](const py::object& x, const py::object& kernel, const py::object& stride, const py::object& padding,
         const std::string& impl) {
        return ops::avg_pool2d(as_tensor(x, "x"), window_of(kernel, stride, padding, py::int_(1)), impl);
      },
      py::arg("x"), py::arg("kernel"), py::arg("stride") = py::none(), py::arg("padding") = 0, py::arg("impl") = "",
      "x [N, C, H, W] -> window means (padding counted).");
  m.def(
      "avg_pool2d_backward",
      [](const py::object& dy, int64_t h, int64_t w, const py::object& kernel, const py::object& stride,
         const py::object& padding, const std::string& impl) {
        return ops::avg_pool2d_backward(as_tensor(dy, "dy"), h, w, window_of(kernel, stride, padding, py::int_(1)),
                                        impl);
      },
      py::arg("dy"), py::arg("h"), py::arg("w"), py::arg("kernel"), py::arg("stride") = py::none(),
      py::arg("padding") = 0, py::arg("impl") = "", "-> dx [N, C, h, w].");
  m.def(
      "depthwise_conv1d",
      [](const py::object& x, const py::object& w, const py::object& bias, int64_t pad_left, const std::string& impl) {
        return ops::depthwise_conv1d(as_tensor(x, "x"), as_tensor(w, "w"),
                                     bias.is_none() ? Tensor() : as_tensor(bias, "bias"), pad_left, impl);
      },
      py::arg("x"), py::arg("w"), py::arg("bias") = py::none(), py::arg("pad_left") = 0, py::arg("impl") = "",
      "x [B, C, L], w [C, K] -> y [B, C, L + pad_left - K + 1] (pad_left = K - 1: causal, Mamba's conv).");
  m.def(
      "depthwise_conv1d_backward",
      [](const py::object& dy, const py::object& x, const py::object& w, int64_t pad_left, const std::string& impl) {
        return ops::depthwise_conv1d_backward(as_tensor(dy, "dy"), as_tensor(x, "x"), as_tensor(w, "w"), pad_left,
                                              impl);
      },
      py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("pad_left") = 0, py::arg("impl") = "", "-> [dx, dw, db].");
}

}  // namespace benchsuite::bindings
