// Host-callable launchers of the CUDA manipulation kernels (transpose, strided copy,
// concat pieces). No CUDA headers here. Like the CPU kernels they move bytes: each takes
// the element size (1, 2, 4 or 8) and copies elements as unsigned words of that size.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/cuda_runtime.h"

namespace benchsuite::cuda {

// ---- transpose of the last two dims: x [batch, rows, cols] -> y [batch, cols, rows] -----
// v1: one thread per element in input order (coalesced reads, strided writes).
void transpose_naive(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, size_t elem_size,
                     StreamHandle stream);
// v2: 32x32 tiles through shared memory (+1 column of padding against bank conflicts),
// 32x8 threads per tile: coalesced reads and coalesced writes.
void transpose_tiled(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, size_t elem_size,
                     StreamHandle stream);

// ---- strided copy: dst [shape] (contiguous) <- src viewed with element strides ---------
// Passed to the kernel by value (136 bytes of kernel parameters): no device allocation,
// nothing to copy before the launch, so it works inside CUDA graphs.
constexpr int kMaxStridedDims = 8;
struct StridedLayout {
  int32_t ndim = 0;
  int64_t shape[kMaxStridedDims] = {};
  int64_t strides[kMaxStridedDims] = {};  // elements, any sign
};
// One thread per output element (grid-stride), the source offset from the index
// decoded over the shape. src points at element (0, ..., 0); n = product of the shape.
void strided_copy(const void* src, void* dst, const StridedLayout& layout, int64_t n, size_t elem_size,
                  StreamHandle stream);

// ---- one input of a concat: dst[r, col + c] = src[r, c] for r < rows, c < width; dst has
// `pitch` elements per row (all in elements). Copies in the widest word (up to 16 bytes)
// that the widths, pitch and both addresses allow.
void copy_block(const void* src, void* dst, int64_t rows, int64_t width, int64_t pitch, int64_t col,
                size_t elem_size, StreamHandle stream);

}  // namespace benchsuite::cuda
