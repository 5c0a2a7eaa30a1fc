// The emulator's cuBLAS: the calls benchsuite makes, as a plain column-major GEMM with fp32
// accumulation over fp32 / fp16 / bf16 storage (TF32 compute rounds the fp32 inputs to TF32's
// 10-bit mantissa, as the tensor cores would). It checks the arguments cuBLAS checks.
#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "emu_internal.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
};

namespace {

float load(const void* base, cudaDataType type, int64_t index) {
  switch (type) {
    case CUDA_R_32F: return static_cast<const float*>(base)[index];
    case CUDA_R_16F: return __half2float(static_cast<const __half*>(base)[index]);
    case CUDA_R_16BF: return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[index]);
    default: return NAN;
  }
}

void store(void* base, cudaDataType type, int64_t index, float v) {
  switch (type) {
    case CUDA_R_32F: static_cast<float*>(base)[index] = v; break;
    case CUDA_R_16F: static_cast<__half*>(base)[index] = __float2half_rn(v); break;
    case CUDA_R_16BF: static_cast<__nv_bfloat16*>(base)[index] = __float2bfloat16_rn(v); break;
    default: break;
  }
}

float to_tf32(float v) {  // round to nearest on the 13 dropped mantissa bits
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  if ((bits & 0x7f800000u) != 0x7f800000u) bits = (bits + 0x1000u) & 0xffffe000u;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

bool supported(cudaDataType t) { return t == CUDA_R_32F || t == CUDA_R_16F || t == CUDA_R_16BF; }

}  // namespace

cublasStatus_t CUBLASWINAPI cublasCreate_v2(cublasHandle_t* handle) {
  *handle = new cublasContext();
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI cublasDestroy_v2(cublasHandle_t handle) {
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa,
                                                       cublasOperation_t transb, int m, int n, int k,
                                                       const void* alpha, const void* A, cudaDataType Atype, int lda,
                                                       long long int strideA, const void* B, cudaDataType Btype,
                                                       int ldb, long long int strideB, const void* beta, void* C,
                                                       cudaDataType Ctype, int ldc, long long int strideC,
                                                       int batchCount, cublasComputeType_t computeType,
                                                       cublasGemmAlgo_t) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const bool ta = transa != CUBLAS_OP_N, tb = transb != CUBLAS_OP_N;
  if (m < 0 || n < 0 || k < 0 || batchCount < 0 || ldc < std::max(1, m) || lda < std::max(1, ta ? k : m) ||
      ldb < std::max(1, tb ? n : k))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (!supported(Atype) || Atype != Btype || Ctype != Atype) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (computeType != CUBLAS_COMPUTE_32F && computeType != CUBLAS_COMPUTE_32F_FAST_TF32 &&
      computeType != CUBLAS_COMPUTE_32F_FAST_16F && computeType != CUBLAS_COMPUTE_32F_FAST_16BF)
    return CUBLAS_STATUS_NOT_SUPPORTED;
  const bool tf32 = computeType == CUBLAS_COMPUTE_32F_FAST_TF32 && Atype == CUDA_R_32F;
  const float a_scale = *static_cast<const float*>(alpha), b_scale = *static_cast<const float*>(beta);
  emu::enqueue(handle->stream, [=]() {
    for (int z = 0; z < batchCount; ++z) {
      const int64_t ao = z * strideA, bo = z * strideB, co = z * strideC;
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          float acc = 0.0f;
          for (int p = 0; p < k; ++p) {
            float x = load(A, Atype, ao + (ta ? i * int64_t{lda} + p : p * int64_t{lda} + i));
            float y = load(B, Btype, bo + (tb ? p * int64_t{ldb} + j : j * int64_t{ldb} + p));
            if (tf32) x = to_tf32(x), y = to_tf32(y);
            acc = std::fma(x, y, acc);
          }
          const int64_t ci = co + j * int64_t{ldc} + i;
          const float prior = b_scale == 0.0f ? 0.0f : b_scale * load(C, Ctype, ci);  // beta 0: C is not read
          store(C, Ctype, ci, a_scale * acc + prior);
        }
    }
  });
  return CUBLAS_STATUS_SUCCESS;
}
