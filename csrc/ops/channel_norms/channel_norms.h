// Normalisations over the channels of x [N, C, S] (S: the spatial size, the product of the
// dimensions after the channel axis; 1 for [N, C]), with a per-channel affine:
//   y[n, c, s] = (x[n, c, s] - mean_k) * rstd_k * gamma[c] + beta[c],  rstd_k = 1/sqrt(var_k + eps)
// where the statistics set k (biased variance, as torch normalises with) is
//   group_norm: k = (n, c / (C / G)): the C/G channels of group g of sample n, over S;
//   batch_norm (training): k = c: channel c over every sample and position;
//   batch_norm (inference): k = c, mean_k = running_mean[c], var_k = running_var[c].
// The forward saves mean and rstd (float32; float64 for float64 x) for the backward:
//   xhat = (x - mean_k) rstd_k, g = dy * gamma[c],
//   dx = rstd_k (g - mean_k(g) - xhat mean_k(g xhat))   (statistics of x: group, batch training)
//   dx = rstd_k g                                        (batch inference: constant statistics)
//   dgamma[c] = sum over (n, s) of dy xhat, dbeta[c] = sum of dy.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

// Contiguous; x / y / dy / dx [n, c, s], gamma / beta / dgamma / dbeta [c]; T float (float32) or
// double (float64: every array, statistics included, in double). Statistics: group_norm
// [n * groups], batch_norm [c]. References: double sums, one thread.
namespace cpu {
template <class T>
void group_norm_reference(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t n, int64_t c,
                          int64_t s, int64_t groups, float eps);
template <class T>
void group_norm_backward_reference(const T* dy, const T* x, const T* gamma, const T* mean, const T* rstd, T* dx,
                                   T* dgamma, T* dbeta, int64_t n, int64_t c, int64_t s, int64_t groups);
// running_mean / running_var: used (inference) when training is false, else unread.
template <class T>
void batch_norm_reference(const T* x, const T* gamma, const T* beta, const T* running_mean, const T* running_var,
                          bool training, T* y, T* mean, T* rstd, int64_t n, int64_t c, int64_t s, float eps);
template <class T>
void batch_norm_backward_reference(const T* dy, const T* x, const T* gamma, const T* mean, const T* rstd, bool training,
                                   T* dx, T* dgamma, T* dbeta, int64_t n, int64_t c, int64_t s);
}  // namespace cpu

// CUDA launchers (no CUDA headers here): device pointers, the shapes, statistics and formulas
// of the references above; every sum in double, deterministic (block reductions, no atomics).
namespace cuda {
void group_norm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                    int64_t n, int64_t c, int64_t s, int64_t groups, float eps, StreamHandle stream);
void group_norm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean,
                             const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t n, int64_t c,
                             int64_t s, int64_t groups, StreamHandle stream);
void batch_norm_f32(const float* x, const float* gamma, const float* beta, const float* running_mean,
                    const float* running_var, bool training, float* y, float* mean, float* rstd, int64_t n, int64_t c,
                    int64_t s, float eps, StreamHandle stream);
void batch_norm_backward_f32(const float* dy, const float* x, const float* gamma, const float* mean,
                             const float* rstd, bool training, float* dx, float* dgamma, float* dbeta, int64_t n,
                             int64_t c, int64_t s, StreamHandle stream);
}  // namespace cuda

namespace ops {
using GroupNormSignature = void(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, float eps,
                                const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle stream);
using GroupNormBackwardSignature = void(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& rstd, int64_t groups, const Tensor& dx, const Tensor& dgamma,
                                        const Tensor& dbeta, StreamHandle stream);
using BatchNormSignature = void(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                                const Tensor& running_var, bool training, float eps, const Tensor& y,
                                const Tensor& mean, const Tensor& rstd, StreamHandle stream);
using BatchNormBackwardSignature = void(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& rstd, bool training, const Tensor& dx, const Tensor& dgamma,
                                        const Tensor& dbeta, StreamHandle stream);
BENCHSUITE_OP(GroupNormOp, "group_norm", GroupNormSignature);
BENCHSUITE_OP(GroupNormBackwardOp, "group_norm_backward", GroupNormBackwardSignature);
BENCHSUITE_OP(BatchNormOp, "batch_norm", BatchNormSignature);
BENCHSUITE_OP(BatchNormBackwardOp, "batch_norm_backward", BatchNormBackwardSignature);

// x [N, C, ...] (rank >= 2); gamma, beta [C] -> {y, mean, rstd}.
void check_group_norm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps);
void check_batch_norm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                           const Tensor& running_var, bool training, double eps);
std::vector<Tensor> group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups,
                               double eps = 1e-5, const std::string& impl = "");
std::vector<Tensor> group_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& rstd, int64_t groups, const std::string& impl = "");
// running_mean / running_var may be undefined when training.
std::vector<Tensor> batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                               const Tensor& running_var, bool training, double eps = 1e-5,
                               const std::string& impl = "");
std::vector<Tensor> batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& rstd, bool training, const std::string& impl = "");

void run_group_norm(const OpVersion& v, const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups,
                    double eps, const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle stream = nullptr);
void run_group_norm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                             const Tensor& mean, const Tensor& rstd, int64_t groups, const Tensor& dx,
                             const Tensor& dgamma, const Tensor& dbeta, StreamHandle stream = nullptr);
void run_batch_norm(const OpVersion& v, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                    const Tensor& running_mean, const Tensor& running_var, bool training, double eps, const Tensor& y,
                    const Tensor& mean, const Tensor& rstd, StreamHandle stream = nullptr);
void run_batch_norm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                             const Tensor& mean, const Tensor& rstd, bool training, const Tensor& dx,
                             const Tensor& dgamma, const Tensor& dbeta, StreamHandle stream = nullptr);
}  // namespace ops

}  // namespace benchsuite
