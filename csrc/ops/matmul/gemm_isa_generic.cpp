// The fp32 GEMM for any CPU: 4-float vectors (SSE2 on x86-64; CMakeLists.txt compiles this file
// without AVX so it runs on the oldest x86-64), a 4 x 8 tile: 8 accumulators of 16 registers.
#include "ops/matmul/gemm_f32_kernel.h"

namespace benchsuite::cpu {

void gemm_f32_generic(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                      const GemmBlocking& blocking) {
  GemmKernel<4, 4, 2, 8>::run(a, b, c, m, n, k, blocking);
}

}  // namespace benchsuite::cpu
