// The attention ops: versions, validation and dispatch.
#include "ops/ops.h"

namespace benchsuite::ops {

void register_attention_versions(std::vector<OpVersion>& table) { (void)table; }

}  // namespace benchsuite::ops
