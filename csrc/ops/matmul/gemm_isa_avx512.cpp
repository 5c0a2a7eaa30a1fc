// The fp32 GEMM for AVX-512 (CMakeLists.txt: -mavx512f -mavx512vl -mavx512bw -mavx512dq): 16-float
// vectors, a 12 x 32 tile (24 accumulators, 2 B vectors and a broadcast: 27 of 32 zmm registers),
// so each B vector loaded feeds 12 FMAs.
#include "ops/matmul/gemm_f32_kernel.h"

namespace benchsuite::cpu {

void gemm_f32_avx512(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                     const GemmBlocking& blocking) {
  GemmKernel<16, 12, 2, 16>::run(a, b, c, m, n, k, blocking);
}

}  // namespace benchsuite::cpu
