// CUDA elementwise kernels on float32 / float16 / bfloat16 storage with fp32 math:
// grid-stride loops over 16-byte packs (4 floats or 8 halves) when every pointer is
// 16-byte aligned (and, for row broadcasting, the row length is a multiple of the pack),
// then an element loop for the tail; element loops throughout otherwise. axpy and the
// activations are maps of core/cuda/elementwise_map.cuh; add/mul broadcast a row here.
#include "core/cuda/block_reduce.cuh"
#include "core/cuda/dispatch.cuh"
#include "core/cuda/elementwise_map.cuh"
#include "core/cuda/launch.cuh"
#include "ops/elementwise/elementwise.h"

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

// The maps of core/cuda/elementwise_map.cuh: (x, second input) -> out in fp32.
struct Axpy {
  float alpha;
  __device__ float operator()(float x, float y) const { return alpha * x + y; }
};
struct ActivationMap {
  Activation kind;
  __device__ float operator()(float x, float) const { return benchsuite::activation(kind, x); }
};
struct ActivationGradMap {
  Activation kind;
  __device__ float operator()(float x, float dy) const { return dy * activation_grad(kind, x); }
};

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
  detail::launch_map("axpy", Axpy{alpha}, dtype, x, y, out, n, stream);
}

void activation(Activation kind, DType dtype, const void* x, void* y, int64_t n, StreamHandle stream) {
  detail::launch_map(activation_name(kind), ActivationMap{kind}, dtype, x, nullptr, y, n, stream);
}

void activation_backward(Activation kind, DType dtype, const void* x, const void* dy, void* dx, int64_t n,
                         StreamHandle stream) {
  detail::launch_map(activation_name(kind), ActivationGradMap{kind}, dtype, x, dy, dx, n, stream);
}

}  // namespace benchsuite::cuda
