// Python bindings of the manipulation ops.
#include "bindings/bindings.h"

namespace benchsuite::bindings {

void bind_manipulation_ops(py::module_& m) { (void)m; }

}  // namespace benchsuite::bindings
