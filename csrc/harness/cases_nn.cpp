// Case families of the nn ops (filled in with the ops themselves).
#include "harness/case_helpers.h"

namespace benchsuite {

void add_nn_cases(std::vector<CaseFamily>& families) { (void)families; }

}  // namespace benchsuite
