// Scaled dot-product attention, q, k, v [B, H, S, D] (equal shapes, one dtype: float32, float16
// or bfloat16; arithmetic in float32 or wider, lse always float32):
//     O = softmax(Q K^T * scale [+ causal mask]) V,   L = row log-sum-exp [B, H, S]
// scale = 1/sqrt(D) unless given; causal: query i attends to keys j <= i.
// Backward from dO (with Q, K, V, O, L): P = exp(S*scale - L); dV = P^T dO; dP = dO V^T;
// Dr = rowsum(dO * O); dS = P (dP - Dr); dQ = dS K * scale; dK = dS^T Q * scale.
// Validation lives here; the run_* pieces let a benchmark case validate once and time only
// the kernel. The CUDA v1 ("naive") versions need a workspace of B*H*S*S floats (the
// materialised scores), the CUDA v2/v3 backward B*H*S*(D+1) floats (Dr and a float32 dQ
// accumulator), made by attention_workspace; every other version gets an empty one.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "ops/registry.h"

namespace benchsuite::ops {

using AttentionImpl = void (*)(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                               const Tensor& workspace, float scale, bool causal, StreamHandle stream);
using AttentionBackwardImpl = void (*)(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                       const Tensor& o, const Tensor& lse, const Tensor& dq, const Tensor& dk,
                                       const Tensor& dv, const Tensor& workspace, float scale, bool causal,
                                       StreamHandle stream);

// -> {o [B, H, S, D] of q's dtype, lse [B, H, S] float32}.
std::vector<Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal = false,
                              std::optional<double> scale = std::nullopt, const std::string& impl = "");
// -> {dq, dk, dv}, each [B, H, S, D] of q's dtype; do and o of q's dtype, lse float32.
std::vector<Tensor> attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                       const Tensor& o, const Tensor& lse, bool causal = false,
                                       std::optional<double> scale = std::nullopt, const std::string& impl = "");

// ---- pieces for benchmark cases ---------------------------------------------------------------
// q/k/v 4-D, equal shapes, one float dtype (float32/float16/bfloat16), one device; scale finite and > 0.
void check_attention_args(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, double scale);
// The extra tensors of the backward: dout and o shaped and typed like q, lse [B, H, S] float32, one device.
void check_attention_backward_args(const Tensor& dout, const Tensor& q, const Tensor& o, const Tensor& lse);
// Limits of a version (CUDA flash versions: head_dim <= 256, the v3 backward <= 128; CUDA v3:
// compute capability >= 8.0 on `device`): unsupported ("unsupported_shape" / "unsupported_device") naming the reason.
void check_attention_version_supports(const OpVersion& v, int64_t head_dim, Device device);
double default_attention_scale(int64_t head_dim);
// The version to run, checked against the limits above: `requested` by name (unsupported
// when it cannot run this), or the default: the last registered version for the dtype that
// can (on a pre-sm_80 GPU the half types fall back from v3 to v2, head_dim > 256 to v1).
const OpVersion& select_attention_version(const char* op, Device device, DType dtype, int64_t head_dim,
                                          const std::string& requested);
// float32: B*H*S*S for the CUDA v1 versions, B*H*S*(D+1) for the CUDA v2/v3 backward, else empty.
Tensor attention_workspace(const OpVersion& v, int64_t batch, int64_t heads, int64_t seq_len, int64_t head_dim,
                           Device device);

void run_attention(const OpVersion& v, const Tensor& q, const Tensor& k, const Tensor& vv, const Tensor& o,
                   const Tensor& lse, const Tensor& workspace, float scale, bool causal, StreamHandle stream = nullptr);
void run_attention_backward(const OpVersion& v, const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& vv,
                            const Tensor& o, const Tensor& lse, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                            const Tensor& workspace, float scale, bool causal, StreamHandle stream = nullptr);

}  // namespace benchsuite::ops
