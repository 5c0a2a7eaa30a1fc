// CUDA kernel of dropout (formula in dropout.h): a thread per Philox block of four
// consecutive elements (grid-stride), as the CPU's v2: one philox_block call (core/rng.h,
// host and device code alike, integer arithmetic only) gives the four 24-bit uniforms, so
// element i is kept exactly when the CPU keeps it; the kept value x * (1 / (1 - p)) is
// formed in double and rounded once, as on the CPU, so the outputs match bit for bit.
#include "core/cuda/launch.cuh"
#include "core/rng.h"
#include "ops/dropout/dropout.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

__global__ void dropout_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, double p, double scale,
                               uint64_t seed) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks;
       b += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dropout_block(x, y, n, p, scale, seed, b);
  }
}
}  // namespace

void dropout_f32(const float* x, float* y, int64_t n, double p, uint64_t seed, StreamHandle stream) {
  if (n == 0) return;
  dropout_kernel<<<detail::grid_for((n + 3) / 4, kThreads), kThreads, 0, detail::as_stream(stream)>>>(
      x, y, n, p, 1.0 / (1.0 - p), seed);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
