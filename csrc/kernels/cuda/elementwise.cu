// CUDA elementwise kernels: grid-stride loops with a float4 body when every pointer is
// 16-byte aligned (and, for row broadcasting, the row length is a multiple of 4).
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

__device__ __forceinline__ float4 apply(BinaryOp op, float4 x, float4 y) {
  return make_float4(binary(op, x.x, y.x), binary(op, x.y, y.y), binary(op, x.z, y.z), binary(op, x.w, y.w));
}

// cols_mask: b index = i % cols when broadcasting a row (cols > 0), else i.
__global__ void binary_kernel(BinaryOp op, const float* __restrict__ a, const float* __restrict__ b,
                              float* __restrict__ out, int64_t n, int64_t row_cols, bool vectorized) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t start = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t i = start; i < n4; i += stride) {
      const int64_t j = row_cols ? (i * 4) % row_cols : i * 4;
      reinterpret_cast<float4*>(out)[i] =
          apply(op, reinterpret_cast<const float4*>(a)[i], *reinterpret_cast<const float4*>(b + j));
    }
    done = n4 * 4;
  }
  for (int64_t i = done + start; i < n; i += stride) out[i] = binary(op, a[i], b[row_cols ? i % row_cols : i]);
}

__global__ void axpy_kernel(float alpha, const float* __restrict__ x, const float* __restrict__ y,
                            float* __restrict__ out, int64_t n, bool vectorized) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t start = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t i = start; i < n4; i += stride) {
      const float4 u = reinterpret_cast<const float4*>(x)[i], v = reinterpret_cast<const float4*>(y)[i];
      reinterpret_cast<float4*>(out)[i] =
          make_float4(alpha * u.x + v.x, alpha * u.y + v.y, alpha * u.z + v.z, alpha * u.w + v.w);
    }
    done = n4 * 4;
  }
  for (int64_t i = done + start; i < n; i += stride) out[i] = alpha * x[i] + y[i];
}

__global__ void activation_kernel(Activation kind, const float* __restrict__ x, float* __restrict__ y, int64_t n,
                                  bool vectorized) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t start = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  int64_t done = 0;
  if (vectorized) {
    const int64_t n4 = n / 4;
    for (int64_t i = start; i < n4; i += stride) {
      const float4 v = reinterpret_cast<const float4*>(x)[i];
      reinterpret_cast<float4*>(y)[i] = make_float4(activation(kind, v.x), activation(kind, v.y),
                                                    activation(kind, v.z), activation(kind, v.w));
    }
    done = n4 * 4;
  }
  for (int64_t i = done + start; i < n; i += stride) y[i] = activation(kind, x[i]);
}

__global__ void activation_backward_kernel(Activation kind, const float* __restrict__ x, const float* __restrict__ dy,
                                           float* __restrict__ dx, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dx[i] = dy[i] * activation_grad(kind, x[i]);
}
}  // namespace

void binary_f32(BinaryOp op, const float* a, const float* b, float* out, int64_t rows, int64_t cols, bool b_is_row,
                StreamHandle stream) {
  const int64_t n = rows * cols;
  if (n == 0) return;
  const bool vectorized = aligned16(a) && aligned16(b) && aligned16(out) && (!b_is_row || cols % 4 == 0);
  binary_kernel<<<detail::grid_for(vectorized ? (n + 3) / 4 : n, kThreads), kThreads, 0, detail::as_stream(stream)>>>(
      op, a, b, out, n, b_is_row ? cols : 0, vectorized);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void add_f32(const float* a, const float* b, float* out, int64_t n, StreamHandle stream) {
  binary_f32(BinaryOp::add, a, b, out, 1, n, false, stream);
}

void axpy_f32(float alpha, const float* x, const float* y, float* out, int64_t n, StreamHandle stream) {
  if (n == 0) return;
  const bool vectorized = aligned16(x) && aligned16(y) && aligned16(out);
  axpy_kernel<<<detail::grid_for(vectorized ? (n + 3) / 4 : n, kThreads), kThreads, 0, detail::as_stream(stream)>>>(
      alpha, x, y, out, n, vectorized);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void activation_f32(Activation kind, const float* x, float* y, int64_t n, StreamHandle stream) {
  if (n == 0) return;
  const bool vectorized = aligned16(x) && aligned16(y);
  activation_kernel<<<detail::grid_for(vectorized ? (n + 3) / 4 : n, kThreads), kThreads, 0,
                      detail::as_stream(stream)>>>(kind, x, y, n, vectorized);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void activation_backward_f32(Activation kind, const float* x, const float* dy, float* dx, int64_t n,
                             StreamHandle stream) {
  if (n == 0) return;
  activation_backward_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, detail::as_stream(stream)>>>(kind, x, dy,
                                                                                                       dx, n);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
