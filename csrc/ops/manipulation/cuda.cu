// CUDA manipulation kernels: transpose (naive and shared-memory tiled), strided copy of
// a view into a contiguous buffer, and the per-input block copy concat is made of.
// Elements move as unsigned words of their size; all indexing is 64-bit and every grid
// dimension is capped at its hardware limit with the kernels looping over the rest.
#include <algorithm>

#include "core/error.h"
#include "core/cuda/launch.cuh"
#include "ops/manipulation/manipulation.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;
constexpr int kTile = 32;      // transpose tile: kTile x kTile elements
constexpr int kTileRows = 8;   // threads per tile: kTile x kTileRows, each moves kTile / kTileRows elements
constexpr int64_t kMaxGridYZ = 65535;

using detail::as_stream;
using detail::grid_for;

// ---- transpose ---------------------------------------------------------------------------
template <class T>
__global__ void __launch_bounds__(kThreads) transpose_naive_kernel(const T* __restrict__ x, T* __restrict__ y,
                                                                   int64_t rows, int64_t cols, int64_t n) {
  const int64_t matrix = rows * cols;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += stride) {
    const int64_t b = i / matrix, in_matrix = i - b * matrix;
    const int64_t r = in_matrix / cols, c = in_matrix - r * cols;
    y[b * matrix + c * rows + r] = x[i];
  }
}

// Block (kTile, kTileRows) per tile; blockIdx (x, y, z) = (column tile, row tile, batch),
// each looping when the grid is capped. The loop bounds depend on blockIdx only, so
// every thread of a block reaches the same __syncthreads().
template <class T>
__global__ void __launch_bounds__(kTile* kTileRows) transpose_tiled_kernel(const T* __restrict__ x,
                                                                          T* __restrict__ y, int64_t batch,
                                                                          int64_t rows, int64_t cols) {
  __shared__ T tile[kTile][kTile + 1];  // +1: a column of the tile spans all 32 banks
  const int64_t tiles_r = (rows + kTile - 1) / kTile, tiles_c = (cols + kTile - 1) / kTile;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
    const T* xb = x + b * rows * cols;
    T* yb = y + b * rows * cols;
    for (int64_t tr = blockIdx.y; tr < tiles_r; tr += gridDim.y) {
      for (int64_t tc = blockIdx.x; tc < tiles_c; tc += gridDim.x) {
        const int64_t r0 = tr * kTile, c0 = tc * kTile;
#pragma unroll
        for (int k = 0; k < kTile; k += kTileRows) {  // read rows of x: consecutive tx, consecutive c
          const int64_t r = r0 + ty + k, c = c0 + tx;
          if (r < rows && c < cols) tile[ty + k][tx] = xb[r * cols + c];
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < kTile; k += kTileRows) {  // write rows of y: consecutive tx, consecutive r
          const int64_t c = c0 + ty + k, r = r0 + tx;
          if (r < rows && c < cols) yb[c * rows + r] = tile[tx][ty + k];
        }
        __syncthreads();  // the tile is overwritten by the next iteration
      }
    }
  }
}

template <class T>
void launch_transpose_naive(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, cudaStream_t s) {
  const int64_t n = batch * rows * cols;
  transpose_naive_kernel<T><<<grid_for(n, kThreads), kThreads, 0, s>>>(static_cast<const T*>(x), static_cast<T*>(y),
                                                                        rows, cols, n);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

template <class T>
void launch_transpose_tiled(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, cudaStream_t s) {
  const int64_t tiles_r = (rows + kTile - 1) / kTile, tiles_c = (cols + kTile - 1) / kTile;
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>(tiles_c, 1 << 30)),
                  static_cast<unsigned>(std::min(tiles_r, kMaxGridYZ)),
                  static_cast<unsigned>(std::min(batch, kMaxGridYZ)));
  transpose_tiled_kernel<T><<<grid, dim3(kTile, kTileRows), 0, s>>>(static_cast<const T*>(x), static_cast<T*>(y),
                                                                     batch, rows, cols);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

// ---- strided copy ------------------------------------------------------------------------
template <class T>
__global__ void __launch_bounds__(kThreads) strided_copy_kernel(const T* __restrict__ src, T* __restrict__ dst,
                                                                StridedLayout layout, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += stride) {
    int64_t rest = i, offset = 0;
#pragma unroll
    for (int d = kMaxStridedDims - 1; d >= 0; --d) {
      if (d >= layout.ndim) continue;
      const int64_t size = layout.shape[d];
      const int64_t q = rest / size;
      offset += (rest - q * size) * layout.strides[d];
      rest = q;
    }
    dst[i] = src[offset];
  }
}

template <class T>
void launch_strided_copy(const void* src, void* dst, const StridedLayout& layout, int64_t n, cudaStream_t s) {
  strided_copy_kernel<T><<<grid_for(n, kThreads), kThreads, 0, s>>>(static_cast<const T*>(src), static_cast<T*>(dst),
                                                                     layout, n);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

// ---- concat block copy (in words W; sizes already converted to words) -------------------
template <class W>
__global__ void __launch_bounds__(kThreads) copy_block_kernel(const W* __restrict__ src, W* __restrict__ dst,
                                                              int64_t width, int64_t pitch, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += stride) {
    const int64_t r = i / width;
    dst[r * pitch + (i - r * width)] = src[i];
  }
}

template <class W>
void launch_copy_block(const void* src, void* dst, int64_t rows, int64_t width_bytes, int64_t pitch_bytes,
                       cudaStream_t s) {
  const int64_t width = width_bytes / static_cast<int64_t>(sizeof(W)), n = rows * width;
  copy_block_kernel<W><<<grid_for(n, kThreads), kThreads, 0, s>>>(static_cast<const W*>(src), static_cast<W*>(dst),
                                                                   width, pitch_bytes / static_cast<int64_t>(sizeof(W)),
                                                                   n);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

[[noreturn]] void bad_element_size(size_t elem_size) {
  ::benchsuite::detail::throw_error(
      ErrorKind::internal, __FILE__, __LINE__,
      ::benchsuite::detail::str_cat("CUDA manipulation kernels: element size ", elem_size, " is not 1, 2, 4 or 8"));
}

// Calls launch(W{}) with W the unsigned word of elem_size bytes that the elements move as.
template <class Launch>
void with_word_of_size(size_t elem_size, Launch&& launch) {
  switch (elem_size) {
    case 1: return launch(uint8_t{});
    case 2: return launch(uint16_t{});
    case 4: return launch(uint32_t{});
    case 8: return launch(uint64_t{});
    default: bad_element_size(elem_size);
  }
}
}  // namespace

void transpose_naive(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, size_t elem_size,
                     StreamHandle stream) {
  if (batch * rows * cols == 0) return;
  const cudaStream_t s = as_stream(stream);
  with_word_of_size(elem_size, [&](auto word) { launch_transpose_naive<decltype(word)>(x, y, batch, rows, cols, s); });
}

void transpose_tiled(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, size_t elem_size,
                     StreamHandle stream) {
  if (batch * rows * cols == 0) return;
  const cudaStream_t s = as_stream(stream);
  with_word_of_size(elem_size, [&](auto word) { launch_transpose_tiled<decltype(word)>(x, y, batch, rows, cols, s); });
}

void strided_copy(const void* src, void* dst, const StridedLayout& layout, int64_t n, size_t elem_size,
                  StreamHandle stream) {
  if (n == 0) return;
  const cudaStream_t s = as_stream(stream);
  with_word_of_size(elem_size, [&](auto word) { launch_strided_copy<decltype(word)>(src, dst, layout, n, s); });
}

void copy_block(const void* src, void* dst, int64_t rows, int64_t width, int64_t pitch, int64_t col,
                size_t elem_size, StreamHandle stream) {
  if (rows == 0 || width == 0) return;
  const int64_t elem = static_cast<int64_t>(elem_size);
  char* to = static_cast<char*>(dst) + col * elem;
  const int64_t width_bytes = width * elem, pitch_bytes = pitch * elem;
  // The widest word that divides both row lengths and both addresses.
  const uint64_t mix = static_cast<uint64_t>(width_bytes) | static_cast<uint64_t>(pitch_bytes) |
                       reinterpret_cast<uintptr_t>(src) | reinterpret_cast<uintptr_t>(to);
  const cudaStream_t s = as_stream(stream);
  if (mix % 16 == 0) return launch_copy_block<uint4>(src, to, rows, width_bytes, pitch_bytes, s);
  if (mix % 8 == 0) return launch_copy_block<uint64_t>(src, to, rows, width_bytes, pitch_bytes, s);
  if (mix % 4 == 0) return launch_copy_block<uint32_t>(src, to, rows, width_bytes, pitch_bytes, s);
  if (mix % 2 == 0) return launch_copy_block<uint16_t>(src, to, rows, width_bytes, pitch_bytes, s);
  launch_copy_block<uint8_t>(src, to, rows, width_bytes, pitch_bytes, s);
}

}  // namespace benchsuite::cuda
