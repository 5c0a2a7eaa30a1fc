// Python bindings of the reductions (benchsuite.ops wraps them for NumPy/torch).
#include <utility>

#include "bindings/bindings.h"
#include "core/error.h"
#include "ops/reduce/reduce.h"

namespace benchsuite::bindings {

BENCHSUITE_REGISTER_BINDINGS(reduce, kBindOps) {
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
}

}  // namespace benchsuite::bindings
