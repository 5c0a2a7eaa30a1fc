// Python bindings of the nn ops: embedding, cross-entropy and RoPE, forward and backward
// (benchsuite.ops_nn wraps them for NumPy / torch / cupy callers).
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "ops/nn/nn.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(nn, kBindOps) {
  m.def("embedding",
        [](const py::object& weight, const py::object& ids, const std::string& impl) {
          return ops::embedding(as_tensor(weight, "weight"), as_tensor(ids, "ids"), impl);
        },
        py::arg("weight"), py::arg("ids"), py::arg("impl") = "", "weight [V, D], int64 ids [...] -> [..., D].");
  m.def("embedding_backward",
        [](const py::object& dout, const py::object& ids, int64_t num_embeddings, const std::string& impl) {
          return ops::embedding_backward(as_tensor(dout, "dout"), as_tensor(ids, "ids"), num_embeddings, impl);
        },
        py::arg("dout"), py::arg("ids"), py::arg("num_embeddings"), py::arg("impl") = "",
        "dout [..., D], int64 ids [...] -> dweight [num_embeddings, D].");
  m.def("cross_entropy",
        [](const py::object& logits, const py::object& targets, int64_t ignore_index, const std::string& impl) {
          return ops::cross_entropy(as_tensor(logits, "logits"), as_tensor(targets, "targets"), ignore_index, impl);
        },
        py::arg("logits"), py::arg("targets"), py::arg("ignore_index") = -100, py::arg("impl") = "",
        "Returns [loss (mean over kept rows, shape []), per-row loss [N]].");
  m.def("cross_entropy_backward",
        [](const py::object& logits, const py::object& targets, int64_t ignore_index, double dloss,
           const std::string& impl) {
          return ops::cross_entropy_backward(as_tensor(logits, "logits"), as_tensor(targets, "targets"), ignore_index,
                                             dloss, impl);
        },
        py::arg("logits"), py::arg("targets"), py::arg("ignore_index") = -100, py::arg("dloss") = 1.0,
        py::arg("impl") = "", "dlogits of the mean loss, scaled by dloss.");
  m.def("rope",
        [](const py::object& x, double base, int64_t position_offset, const std::string& impl) {
          return ops::rope(as_tensor(x, "x"), base, position_offset, impl);
        },
        py::arg("x"), py::arg("base") = 10000.0, py::arg("position_offset") = 0, py::arg("impl") = "",
        "Rotary position embedding (rotate-half form) of x [B, T, H, Dh].");
  m.def("rope_backward",
        [](const py::object& dy, double base, int64_t position_offset, const std::string& impl) {
          return ops::rope_backward(as_tensor(dy, "dy"), base, position_offset, impl);
        },
        py::arg("dy"), py::arg("base") = 10000.0, py::arg("position_offset") = 0, py::arg("impl") = "",
        "The inverse rotation: dx from dy.");
  m.def(
      "sinusoidal_positions",
      [](int64_t seq_len, int64_t dim, double base, int64_t position_offset, const std::string& device,
         const std::string& impl) {
        return ops::sinusoidal_positions(seq_len, dim, base, position_offset, parse_device(device), impl);
      },
      py::arg("seq_len"), py::arg("dim"), py::arg("base") = 10000.0, py::arg("position_offset") = 0,
      py::arg("device") = "cpu", py::arg("impl") = "",
      "[seq_len, dim]: sin at even columns, cos at odd, angle (s + offset) * base^(-2i/dim).");
}

}  // namespace benchsuite::bindings
