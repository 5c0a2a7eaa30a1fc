// The creation family: fill (one constant), randn and uniform (counter-based Philox
// streams, the same numbers on CPU and CUDA for the same seed), and cast (a converted
// copy). fill, uniform and cast take every dtype; randn the float dtypes.
#pragma once
#include <cstdint>
#include <string>

#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

namespace cpu {  // out / in: [n] of `dtype`
void fill(void* out, DType dtype, int64_t n, double value);
void randn(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev);
void uniform(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high);
// Element-by-element conversion (round to nearest even into 16-bit floats, truncation to ints).
void cast(const void* in, DType from, void* out, DType to, int64_t n);
}  // namespace cpu

namespace cuda {  // device pointers, [n] (same numbers as the CPU kernels for the same seed)
void fill(void* out, DType dtype, int64_t n, double value, StreamHandle stream);
void randn(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev, StreamHandle stream);
void uniform(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high, StreamHandle stream);
void cast(const void* in, DType from, void* out, DType to, int64_t n, StreamHandle stream);
}  // namespace cuda

namespace ops {
BENCHSUITE_OP(FillOp, "fill", CreationSignature);        // params.value
BENCHSUITE_OP(RandnOp, "randn", CreationSignature);      // params.seed, a = mean, b = stddev
BENCHSUITE_OP(UniformOp, "uniform", CreationSignature);  // params.seed, a = low, b = high
// (x, out): out has x's shape in any dtype; versions are chosen by x's dtype.
BENCHSUITE_OP(CastOp, "cast", UnarySignature);

Tensor cast(const Tensor& x, DType dtype, const std::string& impl = "");  // a converted copy
Tensor fill(const Shape& shape, double value, DType dtype, Device device, const std::string& impl = "");
Tensor randn(const Shape& shape, uint64_t seed, DType dtype, Device device, float mean = 0.0f, float stddev = 1.0f,
             const std::string& impl = "");
Tensor uniform(const Shape& shape, uint64_t seed, DType dtype, Device device, float low = 0.0f, float high = 1.0f,
               const std::string& impl = "");
}  // namespace ops

}  // namespace benchsuite
