// The fp32 GEMM for AVX2 + FMA (CMakeLists.txt: -mavx2 -mfma -mno-avx512f): 8-float vectors,
// a 6 x 16 tile (12 accumulators, 2 B vectors and a broadcast: 15 of 16 ymm registers).
#include "ops/matmul/gemm_f32_kernel.h"

namespace benchsuite::cpu {

void gemm_f32_avx2(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                   const GemmBlocking& blocking) {
  GemmKernel<8, 6, 2, 12>::run(a, b, c, m, n, k, blocking);
}

}  // namespace benchsuite::cpu
