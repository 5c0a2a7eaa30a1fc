// CPU kernels of the manipulation ops: transpose, strided (contiguous) copy and concat.
// They only move bytes, so every one takes the element size (1, 2, 4 or 8 bytes) instead
// of a dtype; the *_reference versions are plain element loops, the others block for
// the caches, copy contiguous runs with memcpy and spread work over OpenMP threads.
#pragma once
#include <cstddef>
#include <cstdint>

namespace benchsuite::cpu {

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
// ops/manipulation.cpp): innermost stride 1 -> memcpy of each run over OpenMP threads;
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

}  // namespace benchsuite::cpu
