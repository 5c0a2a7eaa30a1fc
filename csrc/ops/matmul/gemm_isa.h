// Run-time instruction-set selection for the fp32 GEMM (matmul v2): one build of the kernel per
// ISA (gemm_f32_kernel.h compiled under each ISA's flags), the best one the CPU has chosen
// once per process. BENCHSUITE_CPU_ISA=generic|avx2|avx512 names one instead (to test each
// path on one machine, or compare them); one the CPU lacks is refused with the reason.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace benchsuite::cpu {

enum class GemmIsa { generic, avx2, avx512 };

// Cache blocking of the packed path: KC rows of B per panel (a kc x NR strip stays in L1),
// MC rows of A per block (kc x MC in half of L2), NC columns per panel (kc x NC in a share
// of L3); from the caches sysconf reports, defaults where it reports none.
struct GemmBlocking {
  int64_t kc, mc, nc;
};

const char* gemm_isa_name(GemmIsa isa);
// The ISAs this CPU (and this build) can run, oldest first.
std::vector<GemmIsa> gemm_isas_available();
// The one in use: BENCHSUITE_CPU_ISA, else the newest available (read once).
GemmIsa gemm_isa();
GemmBlocking gemm_blocking(GemmIsa isa);

// C[M,N] = A[M,K] @ B[K,N], row-major, contiguous float32, on the ISA in use.
void gemm_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);

// One per ISA file; each exists only where its file is compiled (x86-64 for avx2/avx512).
void gemm_f32_generic(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                      const GemmBlocking& blocking);
void gemm_f32_avx2(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                   const GemmBlocking& blocking);
void gemm_f32_avx512(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                     const GemmBlocking& blocking);

}  // namespace benchsuite::cpu
