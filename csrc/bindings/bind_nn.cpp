// Python bindings of the nn ops.
#include "bindings/bindings.h"

namespace benchsuite::bindings {

void bind_nn_ops(py::module_& m) { (void)m; }

}  // namespace benchsuite::bindings
