// A kernel of known length for validating the harness: one thread waits a fixed number
// of SM cycles, so its duration is cycles / SM clock whatever the timing mode.
#include "core/cuda/launch.cuh"
#include "core/cuda/ptx.cuh"
#include "ops/calibration/calibration.h"

namespace benchsuite::cuda {

namespace {
__global__ void spin_kernel(long long cycles, unsigned long long* elapsed_ns) {
  const unsigned long long t0 = ptx::global_timer_ns();
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
  if (elapsed_ns != nullptr) *elapsed_ns = ptx::global_timer_ns() - t0;
}
}  // namespace

void spin_cycles(int64_t cycles, unsigned long long* elapsed_ns, StreamHandle stream) {
  BENCHSUITE_CHECK_ARG(cycles >= 0, "spin: cycles=", cycles, " must be >= 0");
  spin_kernel<<<1, 1, 0, detail::as_stream(stream)>>>(static_cast<long long>(cycles), elapsed_ns);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
