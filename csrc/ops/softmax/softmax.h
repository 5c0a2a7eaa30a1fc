// The softmax family: softmax and log_softmax over the last axis of a tensor of any rank
// (rows = all leading dimensions), and their backward passes from the forward's output.
// Storage in float32/float16/bfloat16, math in fp32 (the CPU references in double), each
// output rounded once; the CPU references (v1) also take float64.
//   softmax_backward:     dx = y * (dy - sum(dy * y)) per row
//   log_softmax:          y = x - max - log(sum(exp(x - max))) per row
//   log_softmax_backward: dx = dy - exp(y) * sum(dy) per row
#pragma once
#include <cstdint>
#include <string>

#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

// float32 rows, x / y / dy / dx [rows, cols]. *_reference: one row at a time, double sums,
// storage T float or double (float64 tensors); the others spread rows over OpenMP threads
// and accumulate in float.
namespace cpu {
template <class T>
void softmax_reference(const T* x, T* y, int64_t rows, int64_t cols);              // v1: double sums
void softmax_f32_rows_omp(const float* x, float* y, int64_t rows, int64_t cols);   // v2
void softmax_f32_vectorized(const float* x, float* y, int64_t rows, int64_t cols);  // v3: vector exp
template <class T>
void softmax_backward_reference(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols);
void softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
template <class T>
void log_softmax_reference(const T* x, T* y, int64_t rows, int64_t cols);
void log_softmax_f32(const float* x, float* y, int64_t rows, int64_t cols);
void log_softmax_f32_vectorized(const float* x, float* y, int64_t rows, int64_t cols);  // vector exp
template <class T>
void log_softmax_backward_reference(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols);
void log_softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
}  // namespace cpu

namespace cuda {  // device pointers of `dtype`, x / y / dy / dx [rows, cols], one block per row
void softmax_three_pass(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);  // v1
void softmax_online(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);      // v2
// v3: the row in registers (cols <= 8192 floats / 16384 halves), else softmax_online.
void softmax_registers(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);
void log_softmax(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);  // 3 reads
// The row in registers as softmax_registers, else log_softmax.
void log_softmax_registers(DType dtype, const void* x, void* y, int64_t rows, int64_t cols, StreamHandle stream);
void softmax_backward(DType dtype, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols,
                      StreamHandle stream);
void log_softmax_backward(DType dtype, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols,
                          StreamHandle stream);
}  // namespace cuda

namespace ops {
BENCHSUITE_OP(SoftmaxOp, "softmax", UnarySignature);                          // (x, y)
BENCHSUITE_OP(SoftmaxBackwardOp, "softmax_backward", BinarySignature);        // (y, dy, dx)
BENCHSUITE_OP(LogSoftmaxOp, "log_softmax", UnarySignature);                   // (x, y)
BENCHSUITE_OP(LogSoftmaxBackwardOp, "log_softmax_backward", BinarySignature);  // (y, dy, dx)

Tensor softmax(const Tensor& x, const std::string& impl = "");
Tensor log_softmax(const Tensor& x, const std::string& impl = "");
// y: the forward's output; dy: the gradient of y (y's shape, dtype and device).
Tensor softmax_backward(const Tensor& y, const Tensor& dy, const std::string& impl = "");
Tensor log_softmax_backward(const Tensor& y, const Tensor& dy, const std::string& impl = "");

void check_softmax_args(const Tensor& x);
// Validation of ops over the rows of x, shared with the norms (ops/norms/norms.h):
// invalid_argument unless x has at least 1 dimension and a floating dtype.
void check_row_op_input(const char* op, const Tensor& x);
// invalid_argument unless t (argument `name`) has x's device, dtype and shape.
void check_like_input(const char* op, const char* name, const Tensor& t, const Tensor& x, const char* x_name = "x");
}  // namespace ops

}  // namespace benchsuite
