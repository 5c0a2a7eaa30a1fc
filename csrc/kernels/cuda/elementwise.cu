// CUDA elementwise kernels.
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

// Grid-stride loop; float4 body when all three pointers are 16-byte aligned.
__global__ void add_f32_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
                               int64_t n, bool vectorized) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t start = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t tail = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t i = start; i < n4; i += stride) {
      const float4 x = reinterpret_cast<const float4*>(a)[i];
      const float4 y = reinterpret_cast<const float4*>(b)[i];
      reinterpret_cast<float4*>(out)[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
    }
    tail = n4 * 4;
  }
  for (int64_t i = tail + start; i < n; i += stride) out[i] = a[i] + b[i];
}
}  // namespace

void add_f32(const float* a, const float* b, float* out, int64_t n, StreamHandle stream) {
  if (n == 0) return;
  const bool vectorized =
      ((reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b) | reinterpret_cast<uintptr_t>(out)) & 15) == 0;
  add_f32_kernel<<<detail::grid_for(vectorized ? (n + 3) / 4 : n, kThreads), kThreads, 0, detail::as_stream(stream)>>>(
      a, b, out, n, vectorized);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
