// The manipulation ops: transpose, contiguous (strided copy), reshape, slice and concat.
// They move bytes only, so every dtype is supported. reshape and slice return views that
// share the input's storage; the others return new contiguous tensors.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "ops/registry.h"

namespace benchsuite::ops {

// Inputs are contiguous (the op makes them so); out is allocated with the output shape.
using ConcatImpl = void (*)(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out, StreamHandle stream);

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
void run_concat(const OpVersion& version, const std::vector<Tensor>& xs, int64_t dim, const Tensor& out,
                StreamHandle stream = nullptr);

}  // namespace benchsuite::ops
