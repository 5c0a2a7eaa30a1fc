// The elementwise family: add and mul (b the same shape as a, or a row vector over a's
// last axis), axpy (alpha*x + y), and the activations relu, gelu (tanh form), silu with
// their backward dx = dy * f'(x). Storage in float32/float16/bfloat16, math in fp32 (the
// v1 references in double), each output rounded once; the v1 references also take float64.
#pragma once
#include <cstdint>
#include <string>

#include "core/activations.h"
#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

namespace cpu {  // float32
void add_f32(const float* a, const float* b, float* out, int64_t n);  // out = a + b, [n]
// out[r, c] = a[r, c] (op) b[r, c], or b[c] when b_is_row. a, out: [rows, cols]
void binary_f32(BinaryOp op, const float* a, const float* b, float* out, int64_t rows, int64_t cols,
                bool b_is_row);
void axpy_f32(float alpha, const float* x, const float* y, float* out, int64_t n);  // out = alpha*x + y
void activation_reference(Activation kind, const float* x, float* y, int64_t n);  // double math
void activation_f32(Activation kind, const float* x, float* y, int64_t n);
// gelu and silu through fast_math::exp/tanh so the loop vectorises (relu as activation_f32).
void activation_f32_vectorized(Activation kind, const float* x, float* y, int64_t n);
void activation_backward_f32(Activation kind, const float* x, const float* dy, float* dx, int64_t n);

// float64 (what the references run on for finite-difference checks): plain loops, one thread.
void binary_f64(BinaryOp op, const double* a, const double* b, double* out, int64_t rows, int64_t cols,
                bool b_is_row);
void axpy_f64(double alpha, const double* x, const double* y, double* out, int64_t n);
void activation_f64(Activation kind, const double* x, double* y, int64_t n);
void activation_backward_f64(Activation kind, const double* x, const double* dy, double* dx, int64_t n);
}  // namespace cpu

// Device pointers of `dtype` (float32/float16/bfloat16; any other is unsupported), fp32
// math. 16-byte packs (4 floats, 8 halves) when the pointers are 16-byte aligned,
// elements otherwise.
namespace cuda {
// out[r, c] = a[r, c] (op) b[r, c], or b[c] when b_is_row. a, out: [rows, cols]
void binary(BinaryOp op, DType dtype, const void* a, const void* b, void* out, int64_t rows, int64_t cols,
            bool b_is_row, StreamHandle stream);
void axpy(float alpha, DType dtype, const void* x, const void* y, void* out, int64_t n, StreamHandle stream);
void activation(Activation kind, DType dtype, const void* x, void* y, int64_t n, StreamHandle stream);
void activation_backward(Activation kind, DType dtype, const void* x, const void* dy, void* dx, int64_t n,
                         StreamHandle stream);
}  // namespace cuda

namespace ops {
// (alpha, x, y, out): out = alpha * x + y, all of one shape.
using AxpySignature = void(float alpha, const Tensor& x, const Tensor& y, const Tensor& out, StreamHandle stream);

BENCHSUITE_OP(AddOp, "add", BinarySignature);  // (a, b, out)
BENCHSUITE_OP(MulOp, "mul", BinarySignature);  // (a, b, out)
BENCHSUITE_OP(AxpyOp, "axpy", AxpySignature);
BENCHSUITE_OP(ReluOp, "relu", UnarySignature);  // (x, y)
BENCHSUITE_OP(GeluOp, "gelu", UnarySignature);
BENCHSUITE_OP(SiluOp, "silu", UnarySignature);
BENCHSUITE_OP(ReluBackwardOp, "relu_backward", BinarySignature);  // (x, dy, dx)
BENCHSUITE_OP(GeluBackwardOp, "gelu_backward", BinarySignature);
BENCHSUITE_OP(SiluBackwardOp, "silu_backward", BinarySignature);
BENCHSUITE_OP(GeluErfOp, "gelu_erf", UnarySignature);  // exact GELU: 0.5 x (1 + erf(x / sqrt 2))
BENCHSUITE_OP(GeluErfBackwardOp, "gelu_erf_backward", BinarySignature);
BENCHSUITE_OP(TanhOp, "tanh", UnarySignature);
BENCHSUITE_OP(TanhBackwardOp, "tanh_backward", BinarySignature);  // (x, dy, dx)

// b: same shape as a, or a row vector over a's last dimension.
Tensor add(const Tensor& a, const Tensor& b, const std::string& impl = "");
Tensor mul(const Tensor& a, const Tensor& b, const std::string& impl = "");
Tensor axpy(double alpha, const Tensor& x, const Tensor& y, const std::string& impl = "");  // alpha*x + y
Tensor activation(Activation kind, const Tensor& x, const std::string& impl = "");
Tensor activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const std::string& impl = "");

// Validation shared by the ops and the benchmark cases (which call versions directly).
void check_add_args(const Tensor& a, const Tensor& b);
void check_binary_args(const char* op, const Tensor& a, const Tensor& b);
}  // namespace ops

}  // namespace benchsuite
