// CUDA softmax and log_softmax over the last axis, one thread block per row, on float32 /
// float16 / bfloat16 storage with fp32 math. Rows are read and written in 16-byte packs
// when the row pointers are 16-byte aligned (element loads otherwise, and for the tail).
// softmax v1 three_pass: max, then sum of exp, then write (three reads of the row).
// softmax v2 online: running (max, sum) pairs merged across the block (Milakov &
//    Gimelshein 2018), then one write pass: two reads of the row instead of three.
// softmax v3 / log_softmax v2 registers: the row is read once into registers (up to
//    kMaxPacks packs per thread: 8192 floats or 16384 halves per row), max and sum come
//    from them and the output is written from them: one read, one write. Longer rows
//    fall back to v2 (softmax) or the three-pass kernel (log_softmax).
// softmax_backward / log_softmax_backward v1: block per row, the row's dot product (sum of
//    dy) by a block reduction, then dx written in a second pass.
#include <cfloat>

#include "core/cuda/block_reduce.cuh"
#include "core/cuda/dispatch.cuh"
#include "core/cuda/launch.cuh"
#include "ops/softmax/softmax.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;
constexpr int kMaxPacks = 8;

using detail::aligned16;
using detail::block_max;
using detail::block_sum;
using detail::load_chunk;
using detail::pack_size;
using detail::store_chunk;

template <class T, bool kLog>
__global__ void __launch_bounds__(kThreads) softmax_three_pass_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                                      int64_t cols) {
  constexpr int kPack = pack_size<T>();
  const T* xr = x + blockIdx.x * cols;
  T* yr = y + blockIdx.x * cols;
  const bool aligned = detail::aligned16(xr) && detail::aligned16(yr);
  float v[kPack];
  float m = -FLT_MAX;
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, -INFINITY);
#pragma unroll
    for (int k = 0; k < kPack; ++k) m = fmaxf(m, v[k]);
  }
  m = block_max<kThreads>(m);
  float s = 0.0f;
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, -INFINITY);
#pragma unroll
    for (int k = 0; k < kPack; ++k) s += __expf(v[k] - m);  // fill: exp(-inf) = 0
  }
  s = block_sum<kThreads>(s);
  const float inv = 1.0f / s, shift = m + __logf(s);
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) v[k] = kLog ? v[k] - shift : __expf(v[k] - m) * inv;
    store_chunk(yr, e0, cols, aligned, v);
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads) softmax_online_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                                  int64_t cols) {
  constexpr int kPack = pack_size<T>();
  const T* xr = x + blockIdx.x * cols;
  T* yr = y + blockIdx.x * cols;
  const bool aligned = detail::aligned16(xr) && detail::aligned16(yr);
  float m, s;
  detail::block_online_max_sum_packed<kThreads>(xr, cols, aligned, m, s);
  const float inv = 1.0f / s;
  float v[kPack];
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(xr, e0, cols, aligned, v, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) v[k] = __expf(v[k] - m) * inv;
    store_chunk(yr, e0, cols, aligned, v);
  }
}

// cols <= kPacks * kThreads * kPack: pack j of this thread holds elements
// (j * kThreads + threadIdx.x) * kPack + [0, kPack); packs past the row hold -inf.
template <class T, int kPacks, bool kLog>
__global__ void __launch_bounds__(kThreads) softmax_registers_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                                     int64_t cols) {
  constexpr int kPack = pack_size<T>();
  const T* xr = x + blockIdx.x * cols;
  T* yr = y + blockIdx.x * cols;
  const bool aligned = detail::aligned16(xr) && detail::aligned16(yr);
  float v[kPacks][kPack];
  float m = -FLT_MAX;
#pragma unroll
  for (int j = 0; j < kPacks; ++j) {
    const int64_t e0 = (static_cast<int64_t>(j) * kThreads + threadIdx.x) * kPack;
    load_chunk(xr, e0, cols, aligned, v[j], -INFINITY);
#pragma unroll
    for (int k = 0; k < kPack; ++k) m = fmaxf(m, v[j][k]);
  }
  m = block_max<kThreads>(m);
  float s = 0.0f;
#pragma unroll
  for (int j = 0; j < kPacks; ++j)
#pragma unroll
    for (int k = 0; k < kPack; ++k) {
      const float e = __expf(v[j][k] - m);  // -inf past the row: 0
      s += e;
      if (!kLog) v[j][k] = e;
    }
  s = block_sum<kThreads>(s);
  const float inv = 1.0f / s, shift = m + __logf(s);
#pragma unroll
  for (int j = 0; j < kPacks; ++j) {
    const int64_t e0 = (static_cast<int64_t>(j) * kThreads + threadIdx.x) * kPack;
    if (e0 >= cols) break;
#pragma unroll
    for (int k = 0; k < kPack; ++k) v[j][k] = kLog ? v[j][k] - shift : v[j][k] * inv;
    store_chunk(yr, e0, cols, aligned, v[j]);
  }
}

// softmax backward: dx = y * (dy - sum(dy * y)); log_softmax backward: dx = dy - exp(y) * sum(dy).
template <class T, bool kLog>
__global__ void __launch_bounds__(kThreads) softmax_backward_kernel(const T* __restrict__ y,
                                                                    const T* __restrict__ dy, T* __restrict__ dx,
                                                                    int64_t cols) {
  constexpr int kPack = pack_size<T>();
  const int64_t base = blockIdx.x * cols;
  const T *yr = y + base, *gr = dy + base;
  T* dxr = dx + base;
  const bool aligned = aligned16(yr) && aligned16(gr) && aligned16(dxr);
  float a[kPack], g[kPack];
  float dot = 0;
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(gr, e0, cols, aligned, g, 0.0f);
    if (!kLog) load_chunk(yr, e0, cols, aligned, a, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) dot += kLog ? g[k] : a[k] * g[k];
  }
  dot = block_sum<kThreads>(dot);
  BENCHSUITE_FOR_CHUNKS(e0, cols, kPack) {
    load_chunk(yr, e0, cols, aligned, a, 0.0f);
    load_chunk(gr, e0, cols, aligned, g, 0.0f);
#pragma unroll
    for (int k = 0; k < kPack; ++k) a[k] = kLog ? g[k] - __expf(a[k]) * dot : a[k] * (g[k] - dot);
    store_chunk(dxr, e0, cols, aligned, a);
  }
}

unsigned row_grid(const char* op, int64_t rows) {
  BENCHSUITE_CHECK_ARG(rows <= 2147483647LL, op, ": rows=", rows, " exceeds the CUDA grid limit (2^31-1)");
  return static_cast<unsigned>(rows);
}

// The register kernel for the smallest pack count that holds the row; false when even
// kMaxPacks packs per thread are too few (the caller falls back).
template <class T, bool kLog>
bool launch_registers(const T* x, T* y, int64_t rows, int64_t cols, cudaStream_t stream) {
  const int64_t per_pack_round = static_cast<int64_t>(kThreads) * pack_size<T>();
  const int64_t packs = (cols + per_pack_round - 1) / per_pack_round;
  const unsigned grid = row_grid(kLog ? "log_softmax" : "softmax", rows);
  if (packs <= 1)
    softmax_registers_kernel<T, 1, kLog><<<grid, kThreads, 0, stream>>>(x, y, cols);
  else if (packs <= 2)
    softmax_registers_kernel<T, 2, kLog><<<grid, kThreads, 0, stream>>>(x, y, cols);
  else if (packs <= 4)
    softmax_registers_kernel<T, 4, kLog><<<grid, kThreads, 0, stream>>>(x, y, cols);
  else if (packs <= kMaxPacks)
    softmax_registers_kernel<T, kMaxPacks, kLog><<<grid, kThreads, 0, stream>>>(x, y, cols);
  else
    return false;
  BENCHSUITE_CUDA_CHECK_LAUNCH();
  return true;
}
}  // namespace

void softmax_three_pass(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "softmax", [&](auto tag) {
    using T = decltype(tag);
    softmax_three_pass_kernel<T, false><<<row_grid("softmax", rows), kThreads, 0, detail::as_stream(stream)>>>(
        static_cast<const T*>(x), static_cast<T*>(y), cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void softmax_online(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "softmax", [&](auto tag) {
    using T = decltype(tag);
    softmax_online_kernel<T><<<row_grid("softmax", rows), kThreads, 0, detail::as_stream(stream)>>>(
        static_cast<const T*>(x), static_cast<T*>(y), cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void softmax_registers(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "softmax", [&](auto tag) {
    using T = decltype(tag);
    if (!launch_registers<T, false>(static_cast<const T*>(x), static_cast<T*>(y), rows, cols,
                                    detail::as_stream(stream)))
      softmax_online(dtype, x, y, rows, cols, stream);
  });
}

void log_softmax(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "log_softmax", [&](auto tag) {
    using T = decltype(tag);
    softmax_three_pass_kernel<T, true><<<row_grid("log_softmax", rows), kThreads, 0, detail::as_stream(stream)>>>(
        static_cast<const T*>(x), static_cast<T*>(y), cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void log_softmax_registers(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "log_softmax", [&](auto tag) {
    using T = decltype(tag);
    if (!launch_registers<T, true>(static_cast<const T*>(x), static_cast<T*>(y), rows, cols,
                                   detail::as_stream(stream)))
      log_softmax(dtype, x, y, rows, cols, stream);
  });
}

void softmax_backward(DType dtype, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols,
                      StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "softmax_backward", [&](auto tag) {
    using T = decltype(tag);
    softmax_backward_kernel<T, false><<<row_grid("softmax_backward", rows), kThreads, 0, detail::as_stream(stream)>>>(
        static_cast<const T*>(y), static_cast<const T*>(dy), static_cast<T*>(dx), cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

void log_softmax_backward(DType dtype, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols,
                          StreamHandle stream) {
  if (rows == 0 || cols == 0) return;
  detail::dispatch_float(dtype, "log_softmax_backward", [&](auto tag) {
    using T = decltype(tag);
    softmax_backward_kernel<T, true>
        <<<row_grid("log_softmax_backward", rows), kThreads, 0, detail::as_stream(stream)>>>(
            static_cast<const T*>(y), static_cast<const T*>(dy), static_cast<T*>(dx), cols);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace benchsuite::cuda
