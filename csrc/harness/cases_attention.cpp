// Case families of the attention ops.
#include "harness/case_helpers.h"

namespace benchsuite {

void add_attention_cases(std::vector<CaseFamily>& families) { (void)families; }

}  // namespace benchsuite
