// The manipulation ops (to come): versions, validation and dispatch.
#include "ops/ops.h"

namespace benchsuite::ops {

void register_manipulation_versions(std::vector<OpVersion>& table) { (void)table; }

}  // namespace benchsuite::ops
