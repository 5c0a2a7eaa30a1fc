// Case families of the manipulation ops (filled in with the ops themselves).
#include "harness/case_helpers.h"

namespace benchsuite {

void add_manipulation_cases(std::vector<CaseFamily>& families) { (void)families; }

}  // namespace benchsuite
