// Case families of the scan ops (filled in with the ops themselves).
#include "harness/case_helpers.h"

namespace benchsuite {

void add_scan_cases(std::vector<CaseFamily>& families) { (void)families; }

}  // namespace benchsuite
