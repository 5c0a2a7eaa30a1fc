// Python bindings of the attention ops, forward and backward (benchsuite.ops_attention
// wraps them for NumPy / torch / cupy callers).
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "ops/attention/attention.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(attention, kBindOps) {
  m.def("attention",
        [](const py::object& q, const py::object& k, const py::object& v, bool causal, std::optional<double> scale,
           const std::string& impl) {
          return ops::attention(as_tensor(q, "q"), as_tensor(k, "k"), as_tensor(v, "v"), causal, scale, impl);
        },
        py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal") = false, py::arg("scale") = py::none(),
        py::arg("impl") = "",
        "q, k, v [B, H, S, D] (float32/float16/bfloat16) -> [o [B, H, S, D] of q's dtype, lse [B, H, S] float32].");
  m.def("attention_backward",
        [](const py::object& dout, const py::object& q, const py::object& k, const py::object& v,
           const py::object& o, const py::object& lse, bool causal, std::optional<double> scale,
           const std::string& impl) {
          return ops::attention_backward(as_tensor(dout, "do"), as_tensor(q, "q"), as_tensor(k, "k"),
                                         as_tensor(v, "v"), as_tensor(o, "o"), as_tensor(lse, "lse"), causal, scale,
                                         impl);
        },
        py::arg("do"), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("o"), py::arg("lse"),
        py::arg("causal") = false, py::arg("scale") = py::none(), py::arg("impl") = "",
        "do, o of q's dtype, lse float32 -> [dq, dk, dv], each [B, H, S, D] of q's dtype.");
  m.def(
      "attention_kv",
      [](const py::object& q, const py::object& k, const py::object& v, const py::object& key_mask, bool causal,
         std::optional<double> scale, int64_t q_offset, int64_t kv_len, int64_t window, const std::string& impl) {
        const Tensor mask = key_mask.is_none() ? Tensor() : as_tensor(key_mask, "key_mask");
        return ops::attention_kv(as_tensor(q, "q"), as_tensor(k, "k"), as_tensor(v, "v"), mask, causal, scale,
                                 q_offset, kv_len, window, impl);
      },
      py::arg("q"), py::arg("k"), py::arg("v"), py::arg("key_mask") = py::none(), py::arg("causal") = false,
      py::arg("scale") = py::none(), py::arg("q_offset") = 0, py::arg("kv_len") = -1, py::arg("window") = 0,
      py::arg("impl") = "",
      "q [B, Hq, Sq, D], k/v [B, Hkv, cap, D] (Hq a multiple of Hkv), key_mask [B, cap] or None -> o [B, Hq, Sq, D];"
      " query i at position q_offset + i sees keys j < kv_len, unmasked, j <= its position when causal, within the"
      " window when window > 0.");
  m.def(
      "attention_kv_backward",
      [](const py::object& dout, const py::object& q, const py::object& k, const py::object& v,
         const py::object& key_mask, bool causal, std::optional<double> scale, int64_t q_offset, int64_t kv_len,
         int64_t window, const std::string& impl) {
        const Tensor mask = key_mask.is_none() ? Tensor() : as_tensor(key_mask, "key_mask");
        return ops::attention_kv_backward(as_tensor(dout, "do"), as_tensor(q, "q"), as_tensor(k, "k"),
                                          as_tensor(v, "v"), mask, causal, scale, q_offset, kv_len, window, impl);
      },
      py::arg("do"), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("key_mask") = py::none(),
      py::arg("causal") = false, py::arg("scale") = py::none(), py::arg("q_offset") = 0, py::arg("kv_len") = -1,
      py::arg("window") = 0, py::arg("impl") = "",
      "The gradients of attention_kv (same arguments) for do [B, Hq, Sq, D] -> [dq, dk, dv]; dk, dv summed over "
      "each kv head's query heads, zero at keys past kv_len.");
}

}  // namespace benchsuite::bindings
