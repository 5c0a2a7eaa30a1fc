// CUDA and cuBLAS status checks. Included only by translation units built with CUDA
// headers available; each failing call throws benchsuite::Error of kind `cuda`.
#pragma once
#include <cuda_runtime_api.h>

#include "core/error.h"

namespace benchsuite::detail {
[[noreturn]] inline void throw_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  cudaGetLastError();  // clear non-sticky errors so the next call is not blamed
  throw_error(ErrorKind::cuda, file, line,
              str_cat("CUDA error ", static_cast<int>(err), " (", cudaGetErrorName(err), ": ",
                      cudaGetErrorString(err), ") in ", expr));
}
}  // namespace benchsuite::detail

#define BENCHSUITE_CUDA_CHECK(expr)                                                  \
  do {                                                                              \
    cudaError_t benchsuite_err_ = (expr);                                           \
    if (benchsuite_err_ != cudaSuccess)                                             \
      ::benchsuite::detail::throw_cuda(benchsuite_err_, #expr, __FILE__, __LINE__); \
  } while (0)

// After every kernel launch: launch-configuration errors surface here.
#define BENCHSUITE_CUDA_CHECK_LAUNCH() BENCHSUITE_CUDA_CHECK(cudaGetLastError())
