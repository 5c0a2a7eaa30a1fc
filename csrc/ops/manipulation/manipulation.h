// The manipulation ops: transpose, contiguous (strided copy), reshape, slice and concat.
// They move bytes only, so every dtype is supported. reshape and slice return views that
// share the input's storage; the others return new contiguous tensors.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

// The kernels only move bytes, so every one takes the element size (1, 2, 4 or 8 bytes)
// instead of a dtype and copies elements as unsigned words of that size.

// CPU: the *_reference versions are plain element loops, the others block for the caches,
// copy contiguous runs with memcpy and spread work over OpenMP threads.
namespace cpu {

// ---- transpose of the last two dims: x [batch, rows, cols] -> y [batch, cols, rows] -----
void transpose_reference(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, size_t elem_size);
// 32x32 tiles (a tile's rows and columns stay in L1), OpenMP over (batch, tile) pairs;
// rows == 1 or cols == 1 is a plain copy.
void transpose_blocked(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, size_t elem_size);

// ---- strided copy: dst [shape] (contiguous) <- src viewed with element `strides` -------
// src points at element (0, ..., 0); strides may be zero or negative. ndim 0 is one element.
void strided_copy_reference(const void* src, void* dst, const int64_t* shape, const int64_t* strides, int64_t ndim,
                            size_t elem_size);
// Expects coalesced dims (no size-1 dims, no two neighbours that merge; see
// ops/manipulation/op.cpp): innermost stride 1 -> memcpy of each run over OpenMP threads;
// otherwise 32x32 tiles over the last two dims (a transposed view reads whole cache lines).
void strided_copy_fast(const void* src, void* dst, const int64_t* shape, const int64_t* strides, int64_t ndim,
                       size_t elem_size);

// ---- concat of 2-D blocks: out [outer, total] where input i is [outer, widths[i]] placed
// at column offsets[i] (all in elements). Concat along dim d is this with outer =
// prod(shape[:d]) and widths[i] = shape_i[d] * prod(shape[d+1:]).
void concat_reference(const void* const* inputs, const int64_t* widths, const int64_t* offsets, int64_t count,
                      void* out, int64_t outer, int64_t total, size_t elem_size);
// One memcpy per (row, input) run; rows over OpenMP threads, or, with fewer rows than
// threads, each run split over the threads.
void concat_runs(const void* const* inputs, const int64_t* widths, const int64_t* offsets, int64_t count, void* out,
                 int64_t outer, int64_t total, size_t elem_size);

}  // namespace cpu

// CUDA launchers (no CUDA headers here), device pointers.
namespace cuda {

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

}  // namespace cuda

namespace ops {

// Inputs are contiguous (the op makes them so); out is allocated with the output shape;
// dim is in [0, ndim).
using ConcatSignature = void(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out, StreamHandle stream);

BENCHSUITE_OP(TransposeOp, "transpose", UnarySignature);    // (x [..., m, n], y [..., n, m])
BENCHSUITE_OP(ContiguousOp, "contiguous", UnarySignature);  // (x strided, y contiguous with x's shape)
BENCHSUITE_OP(ConcatOp, "concat", ConcatSignature);

// x [..., m, n] -> new contiguous [..., n, m] (ndim >= 2; the leading dims are a batch).
Tensor transpose(const Tensor& x, const std::string& impl = "");
void check_transpose_args(const Tensor& x);
Shape transpose_output_shape(const Tensor& x);

// A contiguous copy of a strided view (any strides, any device); x itself when it is
// already contiguous. Tensor::contiguous() calls this through set_contiguous_hook().
Tensor contiguous(const Tensor& x, const std::string& impl = "");

// A view in `shape` (one entry may be -1, inferred) sharing x's storage when x is
// contiguous; otherwise a view of a contiguous copy. Element counts must match.
Tensor reshape(const Tensor& x, const Shape& shape);

// x[..., start:stop:step, ...] along `dim` as a view (no copy). Negative dim, start and
// stop count from the end as in Python; nullopt start/stop mean the whole dimension;
// step >= 1. An index outside [-size, size] is an error rather than clamped.
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop,
             int64_t step = 1);

// New contiguous tensor joining xs along dim: same dtype, device and rank; equal sizes
// except along dim. Errors name the first mismatching tensor's index and shape.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim, const std::string& impl = "");
// Validates and returns the output shape.
Shape check_concat_args(const std::vector<Tensor>& xs, int64_t dim);
// Runs `version` with the device made current; xs contiguous, dim may be negative.
void run_concat(const OpVersion& version, const std::vector<Tensor>& xs, int64_t dim, const Tensor& out,
                StreamHandle stream = nullptr);

}  // namespace ops

}  // namespace benchsuite
