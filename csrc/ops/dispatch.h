// What every op family shares: rows/cols views, device and dtype checks, and running a
// selected version with its device made current.
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite::ops {

// A tensor seen as rows over its last axis: cols = shape[-1] (1 for a scalar) and rows = the
// product of the leading dimensions, so empty rows still count (x [3, 0]: 3 rows of 0).
int64_t cols_of(const Tensor& x);
int64_t rows_of(const Tensor& x);

// invalid_argument unless t and other are on one device (names both and their descriptions).
void check_same_device(const char* op, const char* name, const Tensor& t, const char* other_name,
                       const Tensor& other);

// Makes a CUDA tensor's device current (no-op on the CPU): every run_* does it before a kernel.
void make_current(const Tensor& t);

// unsupported ("unsupported_dtype") naming op, version, device and dtype unless `version`
// lists `dtype`: every run_* checks its first input with it before calling a kernel.
void check_version_dtype(const OpVersion& version, DType dtype);

// Runs `version` with the device made current; contiguous inputs are the caller's job.
void run_unary(const OpVersion& version, const Tensor& x, const Tensor& out, StreamHandle stream = nullptr);
void run_binary(const OpVersion& version, const Tensor& a, const Tensor& b, const Tensor& out,
                StreamHandle stream = nullptr);
void run_creation(const OpVersion& version, const Tensor& out, const CreationParams& params,
                  StreamHandle stream = nullptr);

}  // namespace benchsuite::ops
