// The system's CBLAS (OpenBLAS or BLIS), loaded at run time with dlopen: no header, no link-time
// dependency, so a module built anywhere runs everywhere, and the vendor GEMM is a named matmul
// version on every machine that has the library (Debian: libopenblas0 or libblis4) - measured
// beside ours in the same process, as cuBLAS is on CUDA. The OpenMP build of OpenBLAS is
// preferred (one thread pool with ours); a pthreads build gets OPENBLAS_THREAD_TIMEOUT=4 (its
// workers sleep after a call instead of spinning on the cores ours run on next).
// BENCHSUITE_BLAS_LIBRARY names another library file; "none" turns the vendor version off.
#pragma once
#include <cstdint>
#include <string>

namespace benchsuite::cpu {

struct VendorBlas {
  std::string name;     // "openblas" or "blis": the version's name
  std::string library;  // the file that loaded
  std::string config;   // the library's own description (OpenBLAS: version, target, threading)
};

// The loaded library, or null when none is present (why: vendor_blas_reason()).
const VendorBlas* vendor_blas();
std::string vendor_blas_reason();

// C[M,N] = A[M,K] @ B[K,N], row-major, contiguous float32, through cblas_sgemm with the library's
// threads set to this process's OpenMP thread count. unsupported when a size passes int32 (the
// CBLAS interface's integers) or no library is loaded.
void matmul_f32_vendor(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k);

}  // namespace benchsuite::cpu
