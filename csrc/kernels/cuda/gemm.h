// Host-callable launchers of our own CUDA GEMM kernels (the vendor one is gemm_cublas in
// cuda_kernels.h). Row-major C[batch, m, n] = A[batch, m, k] @ B[batch, k, n]; with
// b_shared one B [k, n] serves every batch entry. No CUDA headers here.
#pragma once
#include <cstdint>

#include "common/cuda_runtime.h"
#include "common/dtype.h"

namespace benchsuite::cuda {

// fp32 SIMT GEMM: 64x64 block tile, BK = 16, 16x16 threads each computing a 4x4 register
// tile; any m, n, k (bounds-checked, zero-filled edge tiles); k == 0 writes zeros.
void gemm_f32_tiled(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, int64_t batch,
                    bool b_shared, StreamHandle stream);

// Tensor-core GEMM through WMMA for float16 / bfloat16 inputs (dtype), fp32 accumulation,
// output rounded (to nearest even) to the input dtype. 64x64 block tile of 4 warps, each
// 32x32 from 16x16x16 fragments; any m, n, k (zero padding in shared memory). bfloat16
// needs sm_80+ (the kernel traps on older architectures).
void gemm_wmma(DType dtype, const void* a, const void* b, void* c, int64_t m, int64_t n, int64_t k, int64_t batch,
               bool b_shared, StreamHandle stream);

}  // namespace benchsuite::cuda
