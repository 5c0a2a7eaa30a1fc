// A kernel of known length for validating the harness: one thread waits a fixed number
// of SM cycles, so its duration is cycles / SM clock whatever the timing mode.
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
__device__ __forceinline__ unsigned long long global_timer_ns() {
#if defined(BENCHSUITE_CUDA_EMU)
  return ::emu::global_timer_ns();
#else
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
#endif
}

__global__ void spin_kernel(long long cycles, unsigned long long* elapsed_ns) {
  const unsigned long long t0 = global_timer_ns();
  const long long start = clock64();
  while (clock64() - start < cycles) {
  }
  if (elapsed_ns != nullptr) *elapsed_ns = global_timer_ns() - t0;
}
}  // namespace

void spin_cycles(int64_t cycles, unsigned long long* elapsed_ns, StreamHandle stream) {
  BENCHSUITE_CHECK_ARG(cycles >= 0, "spin: cycles=", cycles, " must be >= 0");
  spin_kernel<<<1, 1, 0, detail::as_stream(stream)>>>(static_cast<long long>(cycles), elapsed_ns);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
