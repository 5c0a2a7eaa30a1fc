// The calibration kernels: work of known length for validating the harness (the spin
// and busy_wait cases), not ops.
#pragma once
#include <cstdint>

#include "core/cuda_runtime.h"

namespace benchsuite {

namespace cpu {
// Busy-waits for `nanoseconds` of steady_clock time: a CPU case of known length.
void spin_for(int64_t nanoseconds);
}  // namespace cpu

namespace cuda {
// One thread busy-waits `cycles` SM clock cycles (clock64); when elapsed_ns is non-null
// (device memory) it receives the %globaltimer nanoseconds the wait took.
void spin_cycles(int64_t cycles, unsigned long long* elapsed_ns, StreamHandle stream);
}  // namespace cuda

}  // namespace benchsuite
