// Python bindings of the mixture-of-experts ops (routing, permutation, grouped GEMM).
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "ops/moe/moe.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(moe, kBindOps) {
  m.def(
      "topk_gate",
      [](const py::object& logits, int64_t k, const std::string& impl) {
        return ops::topk_gate(as_tensor(logits, "logits"), k, impl);
      },
      py::arg("logits"), py::arg("k"), py::arg("impl") = "",
      "logits [T, E] -> [weights [T, k] (softmax over the k largest), indices [T, k]].");
  m.def(
      "moe_permute",
      [](const py::object& x, const py::object& indices, int64_t experts, const std::string& impl) {
        return ops::moe_permute(as_tensor(x, "x"), as_tensor(indices, "indices"), experts, impl);
      },
      py::arg("x"), py::arg("indices"), py::arg("experts"), py::arg("impl") = "",
      "x [T, H], indices [T, k] -> [xs [T*k, H] grouped by expert, order [T*k], offsets [E+1]].");
  m.def(
      "grouped_matmul",
      [](const py::object& xs, const py::object& offsets, const py::object& w, const std::string& impl) {
        return ops::grouped_matmul(as_tensor(xs, "xs"), as_tensor(offsets, "offsets"), as_tensor(w, "w"), impl);
      },
      py::arg("xs"), py::arg("offsets"), py::arg("w"), py::arg("impl") = "",
      "xs [N, K], offsets [E+1], w [E, K, M] -> ys [N, M], each expert's rows times its weight.");
  m.def(
      "moe_unpermute",
      [](const py::object& ys, const py::object& order, const py::object& weights, const std::string& impl) {
        return ops::moe_unpermute(as_tensor(ys, "ys"), as_tensor(order, "order"), as_tensor(weights, "weights"),
                                  impl);
      },
      py::arg("ys"), py::arg("order"), py::arg("weights"), py::arg("impl") = "",
      "ys [T*k, H] -> out [T, H]: each token's k rows weighted and summed.");
  m.def(
      "topk_gate_backward",
      [](const py::object& dweights, const py::object& weights, const py::object& indices, int64_t experts,
         const std::string& impl) {
        return ops::topk_gate_backward(as_tensor(dweights, "dweights"), as_tensor(weights, "weights"),
                                       as_tensor(indices, "indices"), experts, impl);
      },
      py::arg("dweights"), py::arg("weights"), py::arg("indices"), py::arg("experts"), py::arg("impl") = "",
      "-> dlogits [T, experts] (zero outside the chosen k).");
  m.def(
      "moe_permute_backward",
      [](const py::object& dxs, const py::object& order, int64_t tokens, const std::string& impl) {
        return ops::moe_permute_backward(as_tensor(dxs, "dxs"), as_tensor(order, "order"), tokens, impl);
      },
      py::arg("dxs"), py::arg("order"), py::arg("tokens"), py::arg("impl") = "", "-> dx [tokens, H].");
  m.def(
      "grouped_matmul_weight_grad",
      [](const py::object& xs, const py::object& dys, const py::object& offsets, bool out_in, const std::string& impl) {
        return ops::grouped_matmul_weight_grad(as_tensor(xs, "xs"), as_tensor(dys, "dys"),
                                               as_tensor(offsets, "offsets"), out_in, impl);
      },
      py::arg("xs"), py::arg("dys"), py::arg("offsets"), py::arg("out_in") = false, py::arg("impl") = "",
      "-> dW [E, K, M] = xs_e^T dys_e ([E, M, K] when out_in).");
  m.def(
      "moe_unpermute_backward",
      [](const py::object& dout, const py::object& ys, const py::object& order, const py::object& weights,
         const std::string& impl) {
        return ops::moe_unpermute_backward(as_tensor(dout, "dout"), as_tensor(ys, "ys"), as_tensor(order, "order"),
                                           as_tensor(weights, "weights"), impl);
      },
      py::arg("dout"), py::arg("ys"), py::arg("order"), py::arg("weights"), py::arg("impl") = "",
      "-> [dys, dweights].");
}

}  // namespace benchsuite::bindings
