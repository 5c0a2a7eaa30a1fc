// A host wait of known length for validating the harness: a steady_clock loop, not a
// sleep, so the thread stays busy for the whole time.
#include <chrono>

#include "ops/calibration/calibration.h"

namespace benchsuite::cpu {

void spin_for(int64_t nanoseconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(nanoseconds);
  while (std::chrono::steady_clock::now() < end) {
  }
}

}  // namespace benchsuite::cpu
