// The sigmoid family: y = 1 / (1 + exp(-x)) elementwise, and its backward from the output,
// dx = dy * y * (1 - y) (as torch's sigmoid_backward). Storage in float32/float16/bfloat16,
// math in fp32 (the CPU reference in double), each output rounded once; the CPU references
// (v1) also take float64.
#pragma once
#include <cstdint>
#include <string>

#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

namespace cpu {  // float32 (the references: T float or double), every array [n]
template <class T>
void sigmoid_reference(const T* x, T* y, int64_t n);          // v1: double math
void sigmoid_f32(const float* x, float* y, int64_t n);        // v2: 8-lane exp, OpenMP
template <class T>
void sigmoid_backward_reference(const T* y, const T* dy, T* dx, int64_t n);              // v1: double math
void sigmoid_backward_f32(const float* y, const float* dy, float* dx, int64_t n);        // v2: omp simd
}  // namespace cpu

namespace cuda {  // device pointers of `dtype` (float32/float16/bfloat16), every array [n]
void sigmoid(DType dtype, const void* x, void* y, int64_t n, StreamHandle stream);
void sigmoid_backward(DType dtype, const void* y, const void* dy, void* dx, int64_t n, StreamHandle stream);
}  // namespace cuda

namespace ops {
BENCHSUITE_OP(SigmoidOp, "sigmoid", UnarySignature);           // (x, y)
BENCHSUITE_OP(SigmoidBackwardOp, "sigmoid_backward", BinarySignature);  // (y, dy, dx)

Tensor sigmoid(const Tensor& x, const std::string& impl = "");
// y: the forward's output; dy: the gradient of y (same shape and dtype).
Tensor sigmoid_backward(const Tensor& y, const Tensor& dy, const std::string& impl = "");
}  // namespace ops

}  // namespace benchsuite
