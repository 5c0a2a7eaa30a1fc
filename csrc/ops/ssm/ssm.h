// The Mamba (S6) selective state-space layer's core, as transformers' MambaMixer computes it
// (its slow path), with zero initial state. For x, dt [B, T, D], A_log [D, N], Bm, Cm [B, T, N],
// Dv [D]:
//   delta = softplus(dt)  (dt itself above 20, as torch),  A = -exp(A_log)
//   h_t[d, n] = exp(delta_t[d] A[d, n]) h_{t-1}[d, n] + delta_t[d] Bm_t[n] x_t[d]
//   y_t[d]    = sum_n h_t[d, n] Cm_t[n] + Dv[d] x_t[d]
// The backward recomputes the states and runs the recurrence in reverse, giving the gradient
// of every input. (The scan family's selective_scan is the bare recurrence on given a, b.)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

namespace cpu {  // T = float or double storage, contiguous; double accumulation
template <class T>
void mamba_ssm_reference(const T* x, const T* dt, const T* a_log, const T* bm, const T* cm, const T* dv, T* y,
                         int64_t batch, int64_t len, int64_t dim, int64_t state);
template <class T>
void mamba_ssm_backward_reference(const T* dy, const T* x, const T* dt, const T* a_log, const T* bm, const T* cm,
                                  const T* dv, T* dx, T* ddt, T* da_log, T* dbm, T* dcm, T* ddv, int64_t batch,
                                  int64_t len, int64_t dim, int64_t state);
}  // namespace cpu

namespace cuda {  // device pointers, float32, contiguous; fp32 math
void mamba_ssm_f32(const float* x, const float* dt, const float* a_log, const float* bm, const float* cm,
                   const float* dv, float* y, int64_t batch, int64_t len, int64_t dim, int64_t state,
                   StreamHandle stream);
// Floats of the backward's workspace: the states [B, T, N, D] and the per-batch partials of
// dA_log and dD.
int64_t mamba_ssm_backward_workspace(int64_t batch, int64_t len, int64_t dim, int64_t state);
void mamba_ssm_backward_f32(const float* dy, const float* x, const float* dt, const float* a_log, const float* bm,
                            const float* cm, const float* dv, float* dx, float* ddt, float* da_log, float* dbm,
                            float* dcm, float* ddv, float* workspace, int64_t batch, int64_t len, int64_t dim,
                            int64_t state, StreamHandle stream);
}  // namespace cuda

namespace ops {
// in: x, dt, A_log, B, C, D (in that order); out: y, or dx, ddt, dA_log, dB, dC, dD.
using MambaSsmSignature = void(const std::vector<Tensor>& in, const Tensor& y, StreamHandle stream);
using MambaSsmBackwardSignature = void(const Tensor& dy, const std::vector<Tensor>& in,
                                       const std::vector<Tensor>& grads, StreamHandle stream);
BENCHSUITE_OP(MambaSsmOp, "mamba_ssm", MambaSsmSignature);
BENCHSUITE_OP(MambaSsmBackwardOp, "mamba_ssm_backward", MambaSsmBackwardSignature);

// invalid_argument naming the input whose shape or dtype is off: all six float32, or all
// float64 (the CPU reference only).
void check_mamba_ssm_args(const std::vector<Tensor>& in);
Tensor mamba_ssm(const std::vector<Tensor>& in, const std::string& impl = "");
std::vector<Tensor> mamba_ssm_backward(const Tensor& dy, const std::vector<Tensor>& in, const std::string& impl = "");
}  // namespace ops

}  // namespace benchsuite
