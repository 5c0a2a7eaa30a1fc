// CUDA elementwise kernels on float32 / float16 / bfloat16 storage with fp32 math:
// grid-stride loops over 16-byte packs (4 floats or 8 halves) when every pointer is
// 16-byte aligned (and, for row broadcasting, the row length is a multiple of the pack),
// then an element loop for the tail; element loops throughout otherwise.
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/cuda_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

using detail::aligned16;
using detail::from_float;
using detail::load_pack;
using detail::pack_size;
using detail::store_pack;
using detail::to_float;

__device__ __forceinline__ int64_t grid_start() {
  return blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// row_cols > 0: b is a row vector over the last axis (b index = i % row_cols).
template <class T>
__global__ void binary_kernel(BinaryOp op, const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out,
                              int64_t n, int64_t row_cols, bool vectorized) {
  constexpr int kPack = pack_size<T>();
  int64_t done = 0;
  if (vectorized) {  // all three pointers aligned; row_cols % kPack == 0
    const int64_t packs = n / kPack;
    for (int64_t i = grid_start(); i < packs; i += grid_stride()) {
      const int64_t e = i * kPack, j = row_cols ? e % row_cols : e;
      float x[kPack], y[kPack];
      load_pack(a + e, x);
      load_pack(b + j, y);
#pragma unroll
      for (int k = 0; k < kPack; ++k) x[k] = benchsuite::binary(op, x[k], y[k]);
      store_pack(out + e, x);
    }
    done = packs * kPack;
  }
  for (int64_t i = done + grid_start(); i < n; i += grid_stride())
    out[i] = from_float<T>(benchsuite::binary(op, to_float(a[i]), to_float(b[row_cols ? i % row_cols : i])));
}

template <class T>
__global__ void axpy_kernel(float alpha, const T* __restrict__ x, const T* __restrict__ y, T* __restrict__ out,
                            int64_t n, bool vectorized) {
  constexpr int kPack = pack_size<T>();
  int64_t done = 0;
  if (vectorized) {
    const int64_t packs = n / kPack;
    for (int64_t i = grid_start(); i < packs; i += grid_stride()) {
      float u[kPack], v[kPack];
      load_pack(x + i * kPack, u);
      load_pack(y + i * kPack, v);
#pragma unroll
      for (int k = 0; k < kPack; ++k) u[k] = alpha * u[k] + v[k];
      store_pack(out + i * kPack, u);
    }
    done = packs * kPack;
  }
  for (int64_t i = done + grid_start(); i < n; i += grid_stride())
    out[i] = from_float<T>(alpha * to_float(x[i]) + to_float(y[i]));
}

template <class T>
__global__ void activation_kernel(Activation kind, const T* __restrict__ x, T* __restrict__ y, int64_t n,
                                  bool vectorized) {
  constexpr int kPack = pack_size<T>();
  int64_t done = 0;
  if (vectorized) {
    const int64_t packs = n / kPack;
    for (int64_t i = grid_start(); i < packs; i += grid_stride()) {
      float v[kPack];
      load_pack(x + i * kPack, v);
#pragma unroll
      for (int k = 0; k < kPack; ++k) v[k] = benchsuite::activation(kind, v[k]);
      store_pack(y + i * kPack, v);
    }
    done = packs * kPack;
  }
  for (int64_t i = done + grid_start(); i < n; i += grid_stride()) y[i] = from_float<T>(benchsuite::activation(kind, to_float(x[i])));
}

template <class T>
__global__ void activation_backward_kernel(Activation kind, const T* __restrict__ x, const T* __restrict__ dy,
                                           T* __restrict__ dx, int64_t n, bool vectorized) {
  constexpr int kPack = pack_size<T>();
  int64_t done = 0;
  if (vectorized) {
    const int64_t packs = n / kPack;
    for (int64_t i = grid_start(); i < packs; i += grid_stride()) {
      float u[kPack], g[kPack];
      load_pack(x + i * kPack, u);
      load_pack(dy + i * kPack, g);
#pragma unroll
      for (int k = 0; k < kPack; ++k) u[k] = g[k] * activation_grad(kind, u[k]);
      store_pack(dx + i * kPack, u);
    }
    done = packs * kPack;
  }
  for (int64_t i = done + grid_start(); i < n; i += grid_stride())
    dx[i] = from_float<T>(to_float(dy[i]) * activation_grad(kind, to_float(x[i])));
}

// Blocks for n elements, in packs when vectorised.
template <class T>
unsigned grid(int64_t n, bool vectorized) {
  constexpr int kPack = pack_size<T>();
  return detail::grid_for(vectorized ? (n + kPack - 1) / kPack : n, kThreads);
}
}  // namespace

void binary(BinaryOp op, DType dtype, const void* a, const void* b, void* out, int64_t rows, int64_t cols,
            bool b_is_row, StreamHandle stream) {
  const int64_t n = rows * cols;
  if (n == 0) return;
  detail::dispatch_float(dtype, op == BinaryOp::add ? "add" : "mul", [&](auto tag) {
    using T = decltype(tag);
    const bool vectorized =
        aligned16(a) && aligned16(b) && aligned16(out) && (!b_is_row || cols % pack_size<T>() == 0);
    binary_kernel<T><<<grid<T>(n, vectorized), kThreads, 0, detail::as_stream(stream)>>>(
        op, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out), n, b_is_row ? cols : 0,
        vectorized);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void axpy(float alpha, DType dtype, const void* x, const void* y, void* out, int64_t n, StreamHandle stream) {
  if (n == 0) return;
  detail::dispatch_float(dtype, "axpy", [&](auto tag) {
    using T = decltype(tag);
    const bool vectorized = aligned16(x) && aligned16(y) && aligned16(out);
    axpy_kernel<T><<<grid<T>(n, vectorized), kThreads, 0, detail::as_stream(stream)>>>(
        alpha, static_cast<const T*>(x), static_cast<const T*>(y), static_cast<T*>(out), n, vectorized);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void activation(Activation kind, DType dtype, const void* x, void* y, int64_t n, StreamHandle stream) {
  if (n == 0) return;
  detail::dispatch_float(dtype, activation_name(kind), [&](auto tag) {
    using T = decltype(tag);
    const bool vectorized = aligned16(x) && aligned16(y);
    activation_kernel<T><<<grid<T>(n, vectorized), kThreads, 0, detail::as_stream(stream)>>>(
        kind, static_cast<const T*>(x), static_cast<T*>(y), n, vectorized);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void activation_backward(Activation kind, DType dtype, const void* x, const void* dy, void* dx, int64_t n,
                         StreamHandle stream) {
  if (n == 0) return;
  detail::dispatch_float(dtype, activation_name(kind), [&](auto tag) {
    using T = decltype(tag);
    const bool vectorized = aligned16(x) && aligned16(dy) && aligned16(dx);
    activation_backward_kernel<T><<<grid<T>(n, vectorized), kThreads, 0, detail::as_stream(stream)>>>(
        kind, static_cast<const T*>(x), static_cast<const T*>(dy), static_cast<T*>(dx), n, vectorized);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace benchsuite::cuda
