// The norms family: layernorm and rmsnorm over the last axis of a tensor of any rank
// (rows = all leading dimensions), forward (saving the row statistics) and backward.
//   layernorm: y = (x - mean) * rstd * gamma + beta, rstd = 1 / sqrt(var(x) + eps)
//   rmsnorm:   y = x * rstd * gamma,                 rstd = 1 / sqrt(mean(x^2) + eps)
// x, y, dy, dx, gamma, beta and the parameter gradients share one dtype (float32, float16
// or bfloat16, as PyTorch requires of layer_norm's weight and bias; the v1 references also
// float64), math in fp32 (the references in double); the saved mean / rstd are float32 for
// every dtype but float64, whose are float64 (stats_dtype; PyTorch's native_layer_norm keeps
// them in the accumulation type too).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

// float32, x / y / dy / dx [rows, cols], gamma / beta / dgamma / dbeta [cols], mean / rstd
// [rows] (saved by the forward for the backward). *_reference: one row at a time, double
// sums (v1); the others spread rows over OpenMP threads, float sums, parameter gradients
// in per-thread double partials (v2). The references are templates on the storage type T,
// float or double (float64 tensors, mean / rstd double too); for float data pass eps
// rounded to float, as the other versions use it.
namespace cpu {
template <class T>
void layernorm_reference(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows, int64_t cols,
                         double eps);
void layernorm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                   int64_t rows, int64_t cols, float eps);
template <class T>
void layernorm_backward_reference(const T* dy, const T* x, const T* gamma, const T* mean, const T* rstd, T* dx,
                                  T* dgamma, T* dbeta, int64_t rows, int64_t cols);
void layernorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                            float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols);
// Serial: rows [0, rows) of the v2 backward; each row's parameter-gradient terms are added
// to dg / db (double [cols], the caller's, e.g. per thread). dx as layernorm_backward_f32.
void layernorm_backward_rows(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                             float* dx, double* dg, double* db, int64_t rows, int64_t cols);
template <class T>
void rmsnorm_reference(const T* x, const T* gamma, T* y, T* rstd, int64_t rows, int64_t cols, double eps);
void rmsnorm_f32(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t cols, float eps);
template <class T>
void rmsnorm_backward_reference(const T* dy, const T* x, const T* gamma, const T* rstd, T* dx, T* dgamma, int64_t rows,
                                int64_t cols);
void rmsnorm_backward_f32(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                          float* dgamma, int64_t rows, int64_t cols);
void rmsnorm_backward_rows(const float* dy, const float* x, const float* gamma, const float* rstd, float* dx,
                           double* dg, int64_t rows, int64_t cols);
}  // namespace cpu

// Device pointers of `dtype` (mean / rstd: float*), shapes as in cpu above, one block per
// row (rows <= 2^31-1). The parameter gradients are column sums: a thread per column.
namespace cuda {
// registers: the row held in registers when it fits (as softmax_registers), else streamed.
void layernorm(DType dtype, const void* x, const void* gamma, const void* beta, void* y, float* mean, float* rstd,
               int64_t rows, int64_t cols, float eps, bool registers, StreamHandle stream);
void layernorm_backward(DType dtype, const void* dy, const void* x, const void* gamma, const float* mean,
                        const float* rstd, void* dx, void* dgamma, void* dbeta, int64_t rows, int64_t cols,
                        StreamHandle stream);
void rmsnorm(DType dtype, const void* x, const void* gamma, void* y, float* rstd, int64_t rows, int64_t cols,
             float eps, bool registers, StreamHandle stream);
void rmsnorm_backward(DType dtype, const void* dy, const void* x, const void* gamma, const float* rstd, void* dx,
                      void* dgamma, int64_t rows, int64_t cols, StreamHandle stream);
}  // namespace cuda

namespace ops {
using LayernormSignature = void(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                                const Tensor& mean, const Tensor& rstd, StreamHandle stream);
using LayernormBackwardSignature = void(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                                        const Tensor& dbeta, StreamHandle stream);
using RmsnormSignature = void(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y, const Tensor& rstd,
                              StreamHandle stream);
using RmsnormBackwardSignature = void(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                                      const Tensor& dx, const Tensor& dgamma, StreamHandle stream);
BENCHSUITE_OP(LayernormOp, "layernorm", LayernormSignature);
BENCHSUITE_OP(LayernormBackwardOp, "layernorm_backward", LayernormBackwardSignature);
BENCHSUITE_OP(RmsnormOp, "rmsnorm", RmsnormSignature);
BENCHSUITE_OP(RmsnormBackwardOp, "rmsnorm_backward", RmsnormBackwardSignature);

// Forward ops return {y, saved stats...}: layernorm {y, mean, rstd}, rmsnorm {y, rstd};
// backward ops return {dx, dparams...}: layernorm {dx, dgamma, dbeta}, rmsnorm {dx, dgamma}.
// gamma and beta are optional, as in torch: an undefined Tensor() means ones (gamma) or
// zeros (beta) of shape [cols]; the backward still returns dgamma (and dbeta).
std::vector<Tensor> layernorm(const Tensor& x, const Tensor& gamma = {}, const Tensor& beta = {}, double eps = 1e-5,
                              const std::string& impl = "");
std::vector<Tensor> layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                       const Tensor& rstd, const std::string& impl = "");
std::vector<Tensor> rmsnorm(const Tensor& x, const Tensor& gamma = {}, double eps = 1e-6,
                            const std::string& impl = "");
std::vector<Tensor> rmsnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                                     const std::string& impl = "");

// ---- pieces for benchmark cases (validate once, allocate once, time only the kernel) ----
Shape row_stats_shape(const Tensor& x);  // x.shape[:-1]
// gamma / beta may be undefined (the ops' defaults) in the checks; the run_* pieces take
// them defined and contiguous.
void check_layernorm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);
void check_rmsnorm_args(const Tensor& x, const Tensor& gamma, double eps);
void run_layernorm(const OpVersion& v, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                   const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle stream = nullptr);
void run_layernorm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                            const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                            const Tensor& dbeta, StreamHandle stream = nullptr);
void run_rmsnorm(const OpVersion& v, const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                 const Tensor& rstd, StreamHandle stream = nullptr);
void run_rmsnorm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                          const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, StreamHandle stream = nullptr);
}  // namespace ops

}  // namespace benchsuite
