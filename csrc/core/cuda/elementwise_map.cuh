// Elementwise maps on float32 / float16 / bfloat16 storage with fp32 math, for any op
// family: a grid-stride loop over 16-byte packs (4 floats or 8 halves) when every pointer
// is 16-byte aligned, then an element loop for the tail (element loops throughout
// otherwise). The op is a device functor, float(float) or float(float, float).
#pragma once
#include "core/cuda/block_reduce.cuh"
#include "core/cuda/dispatch.cuh"
#include "core/cuda/launch.cuh"

namespace benchsuite::cuda::detail {

constexpr int kMapThreads = 256;

__device__ __forceinline__ int64_t map_grid_start() {
  return blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ int64_t map_grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// out = f(x) or f(x, x2) element by element (x2 == nullptr: the unary form).
template <class T, class F>
__global__ void map_kernel(F f, const T* __restrict__ x, const T* __restrict__ x2, T* __restrict__ out, int64_t n,
                           bool vectorized) {
  constexpr int kPack = pack_size<T>();
  int64_t done = 0;
  if (vectorized) {
    const int64_t packs = n / kPack;
    for (int64_t i = map_grid_start(); i < packs; i += map_grid_stride()) {
      float u[kPack], v[kPack];
      load_pack(x + i * kPack, u);
      if (x2 != nullptr) load_pack(x2 + i * kPack, v);
#pragma unroll
      for (int k = 0; k < kPack; ++k) u[k] = x2 != nullptr ? f(u[k], v[k]) : f(u[k], 0.0f);
      store_pack(out + i * kPack, u);
    }
    done = packs * kPack;
  }
  for (int64_t i = done + map_grid_start(); i < n; i += map_grid_stride())
    out[i] = from_float<T>(f(to_float(x[i]), x2 != nullptr ? to_float(x2[i]) : 0.0f));
}

// Host side: launches map_kernel for `dtype` (unsupported dtypes name `op`). f takes
// (x, x2) and ignores x2 in the unary form.
template <class F>
void launch_map(const char* op, F f, DType dtype, const void* x, const void* x2, void* out, int64_t n,
                StreamHandle stream) {
  if (n == 0) return;
  dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const bool vectorized = aligned16(x) && (x2 == nullptr || aligned16(x2)) && aligned16(out);
    const int64_t items = vectorized ? (n + pack_size<T>() - 1) / pack_size<T>() : n;
    map_kernel<T, F><<<grid_for(items, kMapThreads), kMapThreads, 0, as_stream(stream)>>>(
        f, static_cast<const T*>(x), static_cast<const T*>(x2), static_cast<T*>(out), n, vectorized);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace benchsuite::cuda::detail
