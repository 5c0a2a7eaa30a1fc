// Python binding of the dropout op.
#include "bindings/bindings.h"
#include "ops/dropout/dropout.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(dropout, kBindOps) {
  m.def(
      "dropout",
      [](const py::object& x, double p, uint64_t seed, const std::string& impl) {
        return ops::dropout(as_tensor(x, "x"), p, seed, impl);
      },
      py::arg("x"), py::arg("p"), py::arg("seed"), py::arg("impl") = "",
      "y = x * keep / (1 - p), element i kept when its Philox draw from `seed` is >= p; the backward is the same "
      "op on dy with the same seed.");
}

}  // namespace benchsuite::bindings
