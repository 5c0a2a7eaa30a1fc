// Python bindings of the attention ops.
#include "bindings/bindings.h"

namespace benchsuite::bindings {

void bind_attention_ops(py::module_& m) { (void)m; }

}  // namespace benchsuite::bindings
