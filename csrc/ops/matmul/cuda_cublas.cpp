// The vendor GEMM: cuBLAS cublasGemmStridedBatchedEx with fp32 accumulation (TF32 products on request). Row-major C = A @ B is
// computed as column-major C^T = B^T @ A^T, so no transposes are materialised.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <mutex>
#include <unordered_map>

#include "core/cuda_check.h"
#include "ops/matmul/matmul.h"

namespace benchsuite::cuda {

namespace {

const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

#define BENCHSUITE_CUBLAS_CHECK(expr)                                                                     \
  do {                                                                                                   \
    cublasStatus_t benchsuite_status_ = (expr);                                                          \
    if (benchsuite_status_ != CUBLAS_STATUS_SUCCESS)                                                     \
      ::benchsuite::detail::throw_error(::benchsuite::ErrorKind::cuda, __FILE__, __LINE__,                \
                                        ::benchsuite::detail::str_cat("cuBLAS error ",                    \
                                                                      cublas_status_name(benchsuite_status_), \
                                                                      " in ", #expr));                   \
  } while (0)

// One handle per device, created on first use and kept for the process: creating a
// handle costs milliseconds and must stay out of every measurement.
cublasHandle_t handle_for(int device) {
  static std::mutex mutex;
  static std::unordered_map<int, cublasHandle_t> handles;
  std::lock_guard<std::mutex> lock(mutex);
  auto found = handles.find(device);
  if (found != handles.end()) return found->second;
  BENCHSUITE_CUDA_CHECK(cudaSetDevice(device));
  cublasHandle_t handle = nullptr;
  BENCHSUITE_CUBLAS_CHECK(cublasCreate(&handle));
  handles.emplace(device, handle);
  return handle;
}

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::float32: return CUDA_R_32F;
    case DType::float16: return CUDA_R_16F;
    case DType::bfloat16: return CUDA_R_16BF;
    default:
      BENCHSUITE_UNSUPPORTED("unsupported_dtype", "matmul (cublas): dtype=", dtype_name(dtype),
                             " is not supported (float32, float16, bfloat16)");
  }
}
}  // namespace

void gemm_cublas(DType dtype, const void* a, const void* b, void* c, int64_t m, int64_t n, int64_t k, int64_t batch,
                 bool b_shared, bool tf32, int device, StreamHandle stream) {
  if (m == 0 || n == 0 || batch == 0) return;
  const cudaDataType_t type = cuda_type(dtype);
  BENCHSUITE_CHECK_ARG(m <= 2147483647LL && n <= 2147483647LL && k <= 2147483647LL && batch <= 2147483647LL,
                       "matmul (cublas): m=", m, ", n=", n, ", k=", k, ", batch=", batch,
                       " exceed the 32-bit sizes cuBLAS takes");
  if (k == 0) {  // C = A @ B with an empty inner dimension is all zeros
    BENCHSUITE_CUDA_CHECK(cudaMemsetAsync(c, 0, static_cast<size_t>(batch * m * n) * dtype_size(dtype),
                                          static_cast<cudaStream_t>(stream)));
    return;
  }
  cublasHandle_t handle = handle_for(device);
  BENCHSUITE_CUBLAS_CHECK(cublasSetStream(handle, static_cast<cudaStream_t>(stream)));
  const float alpha = 1.0f, beta = 0.0f;
  // TF32 only changes how fp32 products are formed on the tensor cores; accumulation stays fp32.
  const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  BENCHSUITE_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b,
      type, static_cast<int>(n), b_shared ? 0 : k * n, a, type, static_cast<int>(k), m * k, &beta, c, type,
      static_cast<int>(n), m * n, static_cast<int>(batch), compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace benchsuite::cuda
