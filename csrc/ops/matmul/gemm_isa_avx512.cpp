// The fp32 GEMM for AVX-512 (CMakeLists.txt: -mavx512f -mavx512vl -mavx512bw -mavx512dq): 16-float
// vectors, an 8 x 32 tile (16 accumulators, 2 B vectors and a broadcast). Measured on Zen 4
// against 6x32, 12x32, 14x32, 4x48 and 8x48: 12 and 14 rows ran 5-10% slower (the A strip
// and its broadcasts), 8 x 32 at or above the AVX2 build at every shape but 2048^3 (-4%).
#include "ops/matmul/gemm_f32_kernel.h"

namespace benchsuite::cpu {

void gemm_f32_avx512(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                     const GemmBlocking& blocking) {
  GemmKernel<16, 8, 2, 16>::run(a, b, c, m, n, k, blocking);
}

}  // namespace benchsuite::cpu
