// The attention ops (forward and backward): versions, validation and dispatch
// (formulas and workspace rules in ops/attention.h).
#include "ops/attention.h"

#include <cmath>

#include "common/cuda_runtime.h"
#include "common/error.h"
#include "kernels/cpu/attention.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/attention.h"
#endif

namespace benchsuite::ops {

namespace {

const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }
// [B, H, S, D] -> (B*H, S, D)
int64_t bh_of(const Tensor& t) { return t.size(0) * t.size(1); }

void make_current(const Tensor& t) {
  if (t.device().is_cuda()) cuda_set_device(t.device().index);
}

// ---- CPU ----------------------------------------------------------------------------------------
template <bool kReference>
void forward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse, const Tensor&,
                 float scale, bool causal, StreamHandle) {
  (kReference ? cpu::attention_forward_reference : cpu::attention_forward_f32)(
      f(q), f(k), f(v), w(o), w(lse), bh_of(q), q.size(2), q.size(3), scale, causal);
}
template <bool kReference>
void backward_cpu(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                  const Tensor& lse, const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor&, float scale,
                  bool causal, StreamHandle) {
  (kReference ? cpu::attention_backward_reference : cpu::attention_backward_f32)(
      f(dout), f(q), f(k), f(v), f(o), f(lse), w(dq), w(dk), w(dv), bh_of(q), q.size(2), q.size(3), scale, causal);
}

// ---- CUDA ---------------------------------------------------------------------------------------
#ifdef BENCHSUITE_WITH_CUDA
void forward_cuda_naive(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                        const Tensor& workspace, float scale, bool causal, StreamHandle s) {
  cuda::attention_forward_naive_f32(f(q), f(k), f(v), w(o), w(lse), w(workspace), bh_of(q), q.size(2), q.size(3),
                                    scale, causal, s);
}
void forward_cuda_flash(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                        const Tensor&, float scale, bool causal, StreamHandle s) {
  cuda::attention_forward_flash_f32(f(q), f(k), f(v), w(o), w(lse), bh_of(q), q.size(2), q.size(3), scale, causal, s);
}
void backward_cuda_naive(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                         const Tensor& lse, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                         const Tensor& workspace, float scale, bool causal, StreamHandle s) {
  cuda::attention_backward_naive_f32(f(dout), f(q), f(k), f(v), f(o), f(lse), w(dq), w(dk), w(dv), w(workspace),
                                     bh_of(q), q.size(2), q.size(3), scale, causal, s);
}
#endif

void check_f32(const char* op, const char* name, const Tensor& t) {
  BENCHSUITE_CHECK_ARG(t.dtype() == DType::float32, op, ": ", name, ".dtype=", dtype_name(t.dtype()),
                       " must be float32");
}
bool needs_workspace(const OpVersion& v) { return v.device == DeviceType::cuda && v.version == "v1"; }

double resolve_scale(const Tensor& q, std::optional<double> scale) {
  return scale ? *scale : default_attention_scale(q.ndim() == 4 ? q.size(3) : 1);
}
}  // namespace

void register_attention_versions(std::vector<OpVersion>& t) {
  t.push_back(erased("attention", "v1",
                     "naive: S x S scores per (b, h) materialised in double, softmax, then P V",
                     DeviceType::cpu, true, &forward_cpu<true>));
  t.push_back(erased("attention", "v2",
                     "flash: online softmax over 64-key blocks, no S x S buffer; OpenMP over (b, h, 64-query "
                     "block), float accumulation",
                     DeviceType::cpu, false, &forward_cpu<false>));
  t.push_back(erased("attention_backward", "v1",
                     "naive: P and dS materialised per (b, h) in double", DeviceType::cpu, true,
                     &backward_cpu<true>));
  t.push_back(erased("attention_backward", "v2",
                     "flash: P recomputed per 64 x 64 block from lse, no S x S buffer; OpenMP over (b, h), float "
                     "accumulation",
                     DeviceType::cpu, false, &backward_cpu<false>));
#ifdef BENCHSUITE_WITH_CUDA
  t.push_back(erased("attention", "v1",
                     "naive: scores kernel into a B*H*S*S workspace, block-per-row softmax, then a P V kernel",
                     DeviceType::cuda, false, &forward_cuda_naive));
  t.push_back(erased("attention", "v2",
                     "flash: block per (b, h, 64 queries), 32-key K/V tiles in shared memory, online softmax in "
                     "registers (warp per query row), fp32, head_dim <= 256",
                     DeviceType::cuda, false, &forward_cuda_flash));
  t.push_back(erased("attention_backward", "v1",
                     "naive: P then dS materialised in a B*H*S*S workspace, one thread per output element of dV, "
                     "dQ, dK",
                     DeviceType::cuda, false, &backward_cuda_naive));
#endif
}

// ---- validation -----------------------------------------------------------------------------------
double default_attention_scale(int64_t head_dim) { return 1.0 / std::sqrt(static_cast<double>(head_dim)); }

void check_attention_args(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  BENCHSUITE_CHECK_ARG(q.ndim() == 4, op, ": q must be 4-D [batch, heads, seq_len, head_dim], got q.shape=",
                       shape_str(q.shape()));
  BENCHSUITE_CHECK_ARG(k.shape() == q.shape(), op, ": k.shape=", shape_str(k.shape()), " must equal q.shape=",
                       shape_str(q.shape()));
  BENCHSUITE_CHECK_ARG(v.shape() == q.shape(), op, ": v.shape=", shape_str(v.shape()), " must equal q.shape=",
                       shape_str(q.shape()));
  check_f32(op, "q", q);
  check_f32(op, "k", k);
  check_f32(op, "v", v);
  check_same_device(op, "k", k, "q", q);
  check_same_device(op, "v", v, "q", q);
  BENCHSUITE_CHECK_ARG(q.size(3) >= 1, op, ": head_dim=0 (q.shape=", shape_str(q.shape()), ") must be >= 1");
  BENCHSUITE_CHECK_ARG(std::isfinite(scale) && scale > 0, op, ": scale=", scale, " must be a finite number > 0");
}

void check_attention_backward_args(const Tensor& dout, const Tensor& q, const Tensor& o, const Tensor& lse) {
  const char* op = "attention_backward";
  BENCHSUITE_CHECK_ARG(dout.shape() == q.shape(), op, ": do.shape=", shape_str(dout.shape()), " must equal q.shape=",
                       shape_str(q.shape()));
  BENCHSUITE_CHECK_ARG(o.shape() == q.shape(), op, ": o.shape=", shape_str(o.shape()), " must equal q.shape=",
                       shape_str(q.shape()));
  const Shape lse_shape = {q.size(0), q.size(1), q.size(2)};
  BENCHSUITE_CHECK_ARG(lse.shape() == lse_shape, op, ": lse.shape=", shape_str(lse.shape()), " must be ",
                       shape_str(lse_shape), " ([batch, heads, seq_len] of q.shape=", shape_str(q.shape()), ")");
  check_f32(op, "do", dout);
  check_f32(op, "o", o);
  check_f32(op, "lse", lse);
  check_same_device(op, "do", dout, "q", q);
  check_same_device(op, "o", o, "q", q);
  check_same_device(op, "lse", lse, "q", q);
}

void check_attention_version_supports(const OpVersion& v, int64_t head_dim) {
  if (v.device == DeviceType::cuda && v.version == "v2" && head_dim > 256)
    BENCHSUITE_UNSUPPORTED("unsupported_shape", v.op, " cuda v2 (flash): head_dim=", head_dim,
                           " is above its limit of 256 (the per-thread accumulators are sized for it); use v1");
}

Tensor attention_workspace(const OpVersion& v, int64_t batch, int64_t heads, int64_t seq_len, Device device) {
  if (!needs_workspace(v)) return Tensor::empty({0}, DType::float32, device);
  return Tensor::empty({batch * heads * seq_len * seq_len}, DType::float32, device);
}

void run_attention(const OpVersion& v, const Tensor& q, const Tensor& k, const Tensor& vv, const Tensor& o,
                   const Tensor& lse, const Tensor& workspace, float scale, bool causal, StreamHandle stream) {
  make_current(q);
  v.impl_as<AttentionImpl>()(q, k, vv, o, lse, workspace, scale, causal, stream);
}

void run_attention_backward(const OpVersion& v, const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& vv,
                            const Tensor& o, const Tensor& lse, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                            const Tensor& workspace, float scale, bool causal, StreamHandle stream) {
  make_current(q);
  v.impl_as<AttentionBackwardImpl>()(dout, q, k, vv, o, lse, dq, dk, dv, workspace, scale, causal, stream);
}

// ---- ops ---------------------------------------------------------------------------------------------
std::vector<Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                              std::optional<double> scale, const std::string& impl) {
  const char* op = "attention";
  const double sc = resolve_scale(q, scale);
  check_attention_args(op, q, k, v, sc);
  const OpVersion& ver = select_version(op, q.device(), q.dtype(), impl);
  check_attention_version_supports(ver, q.size(3));
  Tensor o = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, q.dtype(), q.device());
  if (o.numel() == 0) return {o, lse};
  run_attention(ver, q.contiguous(), k.contiguous(), v.contiguous(), o, lse,
                attention_workspace(ver, q.size(0), q.size(1), q.size(2), q.device()), static_cast<float>(sc),
                causal);
  return {o, lse};
}

std::vector<Tensor> attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                       const Tensor& o, const Tensor& lse, bool causal, std::optional<double> scale,
                                       const std::string& impl) {
  const char* op = "attention_backward";
  const double sc = resolve_scale(q, scale);
  check_attention_args(op, q, k, v, sc);
  check_attention_backward_args(dout, q, o, lse);
  const OpVersion& ver = select_version(op, q.device(), q.dtype(), impl);
  check_attention_version_supports(ver, q.size(3));
  Tensor dq = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor dk = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor dv = Tensor::empty(q.shape(), q.dtype(), q.device());
  if (dq.numel() == 0) return {dq, dk, dv};
  run_attention_backward(ver, dout.contiguous(), q.contiguous(), k.contiguous(), v.contiguous(), o.contiguous(),
                         lse.contiguous(), dq, dk, dv,
                         attention_workspace(ver, q.size(0), q.size(1), q.size(2), q.device()),
                         static_cast<float>(sc), causal);
  return {dq, dk, dv};
}

}  // namespace benchsuite::ops
