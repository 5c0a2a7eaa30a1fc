// Python bindings of the scan ops.
#include "bindings/bindings.h"

namespace benchsuite::bindings {

void bind_scan_ops(py::module_& m) { (void)m; }

}  // namespace benchsuite::bindings
