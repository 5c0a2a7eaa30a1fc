// The attention ops (forward and backward): versions, validation and dispatch
// (formulas and workspace rules in ops/attention/attention.h).
#include "ops/attention/attention.h"

#include <algorithm>
#include <cmath>

#include "core/cuda_runtime.h"
#include "core/error.h"
#include "ops/dispatch.h"

namespace benchsuite::ops {

namespace {

const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }
// [B, H, S, D] -> (B*H, S, D)
int64_t bh_of(const Tensor& t) { return t.size(0) * t.size(1); }

const std::vector<DType> kFloatTypes = {DType::float32, DType::float16, DType::bfloat16};

// ---- CPU ----------------------------------------------------------------------------------------
// The CPU kernels compute in float (v2) or double (v1) on float arrays: a float32 tensor is
// used in place, a float16/bfloat16 one is widened (exactly) into a scratch buffer first and
// its outputs are rounded once on the way back, so the half versions see exactly the values
// the float32 reference sees when it is given the up-converted inputs.
void widen(const Tensor& t, std::vector<float>& into) {
  const auto* bits = static_cast<const uint16_t*>(t.data_ptr());
  const int64_t n = t.numel();
  into.resize(static_cast<size_t>(n));
  const bool half = t.dtype() == DType::float16;
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) into[i] = half ? half_bits_to_float(bits[i]) : bf16_bits_to_float(bits[i]);
}
void narrow(const std::vector<float>& from, const Tensor& t) {
  auto* bits = static_cast<uint16_t*>(t.data_ptr());
  const int64_t n = t.numel();
  const bool half = t.dtype() == DType::float16;
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) bits[i] = half ? float_to_half_bits(from[i]) : float_to_bf16_bits(from[i]);
}

// An input seen as floats: the tensor itself when float32, else a widened copy.
class HostIn {
 public:
  explicit HostIn(const Tensor& t) : t_(t) {
    if (t.dtype() != DType::float32) widen(t, buf_);
  }
  const float* get() const { return t_.dtype() == DType::float32 ? t_.data<float>() : buf_.data(); }

 private:
  const Tensor& t_;
  std::vector<float> buf_;
};

// An output written as floats: the tensor itself when float32, else a buffer that commit()
// rounds into the tensor.
class HostOut {
 public:
  explicit HostOut(const Tensor& t) : t_(t) {
    if (t.dtype() != DType::float32) buf_.resize(static_cast<size_t>(t.numel()));
  }
  float* get() { return t_.dtype() == DType::float32 ? t_.data<float>() : buf_.data(); }
  void commit() const {
    if (t_.dtype() != DType::float32) narrow(buf_, t_);
  }

 private:
  const Tensor& t_;
  std::vector<float> buf_;
};

template <decltype(cpu::attention_forward_f32)* kernel>
void forward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse, const Tensor&,
                 float scale, bool causal, StreamHandle) {
  const HostIn qf(q), kf(k), vf(v);
  HostOut of(o);
  kernel(qf.get(), kf.get(), vf.get(), of.get(), w(lse), bh_of(q), q.size(2), q.size(3), scale, causal);
  of.commit();
}
// v1 also takes float64: every array, lse included, in double.
void forward_cpu_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                           const Tensor& workspace, float scale, bool causal, StreamHandle stream) {
  if (q.dtype() == DType::float64)
    return cpu::attention_forward_reference(q.data<double>(), k.data<double>(), v.data<double>(), o.data<double>(),
                                            lse.data<double>(), bh_of(q), q.size(2), q.size(3), scale, causal);
  forward_cpu<cpu::attention_forward_reference<float>>(q, k, v, o, lse, workspace, scale, causal, stream);
}
template <bool kReference>
void backward_cpu(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                  const Tensor& lse, const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor&, float scale,
                  bool causal, StreamHandle) {
  if (kReference && q.dtype() == DType::float64)
    return cpu::attention_backward_reference(dout.data<double>(), q.data<double>(), k.data<double>(), v.data<double>(),
                                             o.data<double>(), lse.data<double>(), dq.data<double>(), dk.data<double>(),
                                             dv.data<double>(), bh_of(q), q.size(2), q.size(3), scale, causal);
  const HostIn gf(dout), qf(q), kf(k), vf(v), of(o);
  HostOut dqf(dq), dkf(dk), dvf(dv);
  (kReference ? cpu::attention_backward_reference<float> : cpu::attention_backward_f32)(
      gf.get(), qf.get(), kf.get(), vf.get(), of.get(), f(lse), dqf.get(), dkf.get(), dvf.get(), bh_of(q), q.size(2),
      q.size(3), scale, causal);
  dqf.commit();
  dkf.commit();
  dvf.commit();
}

template <decltype(cpu::attention_kv_f32)* kernel>
void attention_kv_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, const Tensor& o,
                      const cpu::AttentionKvParams& params, StreamHandle) {
  const cpu::AttentionKvShape shape{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3)};
  if (q.dtype() == DType::float64)  // v1 only (the registry's dtypes); the key mask stays float32
    return cpu::attention_kv_reference(q.data<double>(), k.data<double>(), v.data<double>(),
                                       key_mask.defined() ? f(key_mask) : nullptr, o.data<double>(), shape, params);
  kernel(f(q), f(k), f(v), key_mask.defined() ? f(key_mask) : nullptr, w(o), shape, params);
}

template <bool kParallel>
void attention_kv_backward_cpu(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                               const Tensor& key_mask, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                               const Tensor& stats, const cpu::AttentionKvParams& params, StreamHandle) {
  const cpu::AttentionKvShape shape{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3)};
  if (q.dtype() == DType::float64)  // v1 only (v2 lists float32 alone); the key mask stays float32
    return cpu::attention_kv_backward_reference(dout.data<double>(), q.data<double>(), k.data<double>(),
                                                v.data<double>(), key_mask.defined() ? f(key_mask) : nullptr,
                                                dq.data<double>(), dk.data<double>(), dv.data<double>(),
                                                stats.data<double>(), shape, params, kParallel);
  cpu::attention_kv_backward_reference(f(dout), f(q), f(k), f(v), key_mask.defined() ? f(key_mask) : nullptr, w(dq),
                                       w(dk), w(dv), w(stats), shape, params, kParallel);
}

// ---- CUDA ---------------------------------------------------------------------------------------
#ifdef BENCHSUITE_WITH_CUDA
void attention_kv_backward_cuda(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                const Tensor& key_mask, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                                const Tensor& stats, const cpu::AttentionKvParams& params, StreamHandle s) {
  const cpu::AttentionKvShape shape{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3)};
  cuda::attention_kv_backward_f32(f(dout), f(q), f(k), f(v), key_mask.defined() ? f(key_mask) : nullptr, w(dq),
                                  w(dk), w(dv), w(stats), shape, params, s);
}
void attention_kv_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, const Tensor& o,
                       const cpu::AttentionKvParams& params, StreamHandle s) {
  const cpu::AttentionKvShape shape{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3)};
  cuda::attention_kv_f32(f(q), f(k), f(v), key_mask.defined() ? f(key_mask) : nullptr, w(o), shape, params, s);
}
void forward_cuda_naive(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                        const Tensor& workspace, float scale, bool causal, StreamHandle s) {
  cuda::attention_forward_naive(q.dtype(), q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr(), w(lse), w(workspace),
                                bh_of(q), q.size(2), q.size(3), scale, causal, s);
}
// The flash forwards (SIMT and tensor cores) take the same arguments, as do all three backwards.
template <decltype(cuda::attention_forward_flash)* launch>
void forward_cuda_flash(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                        const Tensor&, float scale, bool causal, StreamHandle s) {
  launch(q.dtype(), q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr(), w(lse), bh_of(q), q.size(2), q.size(3),
         scale, causal, s);
}
template <decltype(cuda::attention_backward_naive)* launch>
void backward_cuda(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                   const Tensor& lse, const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& workspace,
                   float scale, bool causal, StreamHandle s) {
  launch(q.dtype(), dout.data_ptr(), q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr(), f(lse), dq.data_ptr(),
         dk.data_ptr(), dv.data_ptr(), w(workspace), bh_of(q), q.size(2), q.size(3), scale, causal, s);
}
#endif

// float64: the CPU v1 references only (select_version refuses it for the others).
bool is_attention_float(DType d) {
  return d == DType::float32 || d == DType::float16 || d == DType::bfloat16 || d == DType::float64;
}

// q: one of the float types; every other tensor: q's dtype.
void check_dtype_like_q(const char* op, const char* name, const Tensor& t, const Tensor& q) {
  BENCHSUITE_CHECK_ARG(t.dtype() == q.dtype(), op, ": ", name, ".dtype=", dtype_name(t.dtype()),
                       " must equal q.dtype=", dtype_name(q.dtype()));
}
bool is_cuda_naive(const OpVersion& v) { return v.device == DeviceType::cuda && v.version == "v1"; }
bool is_cuda_flash_backward(const OpVersion& v) {
  return v.device == DeviceType::cuda && v.op == "attention_backward" && (v.version == "v2" || v.version == "v3");
}

double resolve_scale(const Tensor& q, std::optional<double> scale) {
  return scale ? *scale : default_attention_scale(q.ndim() == 4 ? q.size(3) : 1);
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(attention) {
  const DeviceType cpu = DeviceType::cpu;
  const std::vector<DType> f32_only = {DType::float32};
  // The CPU references also take float64 (every array in double; the key mask stays float32).
  const std::vector<DType> f32_f64 = {DType::float32, DType::float64};
  auto with_float64 = [](VersionSpec spec) {
    spec.dtypes.push_back(DType::float64);
    return spec;
  };
  table.add<AttentionKvOp>({"v1", "reference: one query row at a time, scores and P V in double", cpu, f32_f64,
                            kReference},
                           attention_kv_cpu<cpu::attention_kv_reference<float>>);
  table.add<AttentionKvOp>({"v2", "OpenMP over query rows: vectorised scores of the visible keys, a vector exp, then P V",
                            cpu, f32_only},
                           attention_kv_cpu<cpu::attention_kv_f32>);
  table.add<AttentionKvOp>({"v3",
                            "flash on 16-lane query tiles: a kv head's group rows share each 48-key K/V block, "
                            "outer-product FMA tiles for scores and P V, lane-wise online softmax, masked keys "
                            "gathered out; decode (<= 4 rows per kv head): lanes along head_dim",
                            cpu, f32_only, kDefault},
                           attention_kv_cpu<cpu::attention_kv_lanes>);
  table.add<AttentionKvBackwardOp>({"v1", "reference: one query row at a time, P, dP and dS in double, one thread",
                                    cpu, f32_f64, kReference},
                                   attention_kv_backward_cpu<false>);
  table.add<AttentionKvBackwardOp>({"v2", "v1's sums over OpenMP threads, one (batch, kv head) each (bit-identical)",
                                    cpu, f32_only, kDefault},
                                   attention_kv_backward_cpu<true>);
  // Every version but the tensor-core ones computes in fp32 (or double) whatever the dtype:
  // its FLOPs are compared with the fp32 peak.
  auto fp32_math = [](const char* version, const char* description, DeviceType device, unsigned flags = kNoFlags,
                      std::vector<DType> default_for = {}) {
    return VersionSpec{version, description, device, kFloatTypes, flags, std::move(default_for), 0, "float32"};
  };
  table.add<AttentionOp>(
      with_float64(fp32_math("v1",
                             "naive: S x S scores per (b, h) materialised in double, softmax, then P V; fp16/bf16 "
                             "widened to float first",
                             cpu, kReference)),
      forward_cpu_reference);
  table.add<AttentionOp>(fp32_math("v2",
                                   "flash: online softmax over 64-key blocks, no S x S buffer; OpenMP over (b, h, "
                                   "64-query block), float accumulation (fp16/bf16 widened to float)",
                                   cpu),
                         forward_cpu<cpu::attention_forward_f32>);
  table.add<AttentionOp>(fp32_math("v3",
                                   "flash on 16-lane query tiles: 64 queries x 48 keys, outer-product FMA tiles for "
                                   "Q K^T and P V, lane-wise online softmax (vector exp), causal blocks past the "
                                   "diagonal skipped; OpenMP over (b, h, query block); fp16/bf16 widened to float",
                                   cpu, kDefault),
                         forward_cpu<cpu::attention_forward_lanes>);
  table.add<AttentionBackwardOp>(
      with_float64(fp32_math("v1",
                             "naive: P and dS materialised per (b, h) in double; fp16/bf16 widened to float first", cpu,
                             kReference)),
      backward_cpu<true>);
  table.add<AttentionBackwardOp>(fp32_math("v2",
                                           "flash: P recomputed per 64 x 64 block from lse, no S x S buffer; OpenMP "
                                           "over (b, h), float accumulation (fp16/bf16 widened to float)",
                                           cpu, kDefault),
                                 backward_cpu<false>);
#ifdef BENCHSUITE_WITH_CUDA
  // v2 is the default for float32, v3 (tensor cores, fp16/bf16 only) for the half types;
  // select_attention_version falls back from them when the GPU or head_dim rules them out.
  const DeviceType gpu = DeviceType::cuda;
  const std::vector<DType> halves = {DType::float16, DType::bfloat16};
  table.add<AttentionOp>(fp32_math("v1",
                                   "naive: scores kernel into a B*H*S*S fp32 workspace, block-per-row softmax, then a "
                                   "P V kernel",
                                   gpu),
                         forward_cuda_naive);
  table.add<AttentionOp>(fp32_math("v2",
                                   "flash (SIMT): block per (b, h, 64 queries), 32-key K/V tiles in shared memory, "
                                   "online softmax in registers (warp per query row), fp32 math, head_dim <= 256",
                                   gpu, kDefault, {DType::float32}),
                         forward_cuda_flash<cuda::attention_forward_flash>);
  table.add<AttentionOp>({"v3",
                          "flash (tensor cores): mma.sync m16n8k16, 4 warps x 32 query rows (16 above head_dim 64), "
                          "64-key cp.async K/V tiles, fp32 online softmax, causal tiles skipped; sm_80+, head_dim <= "
                          "256",
                          gpu, halves, kDefault},
                         forward_cuda_flash<cuda::attention_forward_flash_mma>);
  table.add<AttentionBackwardOp>(fp32_math("v1",
                                           "naive: P then dS materialised in a B*H*S*S fp32 workspace, one thread per "
                                           "output element of dV, dQ, dK",
                                           gpu),
                                 backward_cuda<cuda::attention_backward_naive>);
  table.add<AttentionBackwardOp>(
      fp32_math("v2",
                "flash (SIMT): Dr = rowsum(dO * O) pass, block per (b, h, 32 keys) recomputing P and dS per 32-query "
                "tile in shared memory, dK/dV in registers, dQ by fp32 atomicAdd; head_dim <= 256",
                gpu, kDefault, {DType::float32}),
      backward_cuda<cuda::attention_backward_flash>);
  table.add<AttentionBackwardOp>({"v3",
                                  "flash (tensor cores): the v2 walk on mma.sync m16n8k16, 4 warps x 16 keys, 64-query "
                                  "tiles, P^T/dS^T in fp32 registers, dK/dV in registers, dS^T via shared memory for "
                                  "dQ (fp32 atomicAdd); sm_80+, head_dim <= 128",
                                  gpu, halves, kDefault},
                                 backward_cuda<cuda::attention_backward_flash_mma>);
  table.add<AttentionKvOp>({"v1",
                            "block per query row, 512-key chunks of scores in shared memory, online softmax across "
                            "chunks, P V a thread per column; GQA, key mask, causal offset, window",
                            gpu, {DType::float32}, kDefault},
                           attention_kv_cuda);
  table.add<AttentionKvBackwardOp>({"v1",
                                    "block per query row (lse and Dr in one online pass, then dq), then block per key "
                                    "row over its group's query rows (dk, dv); no atomics",
                                    gpu, {DType::float32}, kDefault},
                                   attention_kv_backward_cuda);
#endif
}

// ---- validation -----------------------------------------------------------------------------------
double default_attention_scale(int64_t head_dim) { return 1.0 / std::sqrt(static_cast<double>(head_dim)); }

void check_attention_args(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  BENCHSUITE_CHECK_ARG(q.ndim() == 4, op,
                       ": q must be 4-D [batch, heads, seq_len, head_dim], got q.shape=", shape_str(q.shape()));
  BENCHSUITE_CHECK_ARG(k.shape() == q.shape(), op, ": k.shape=", shape_str(k.shape()),
                       " must equal q.shape=", shape_str(q.shape()));
  BENCHSUITE_CHECK_ARG(v.shape() == q.shape(), op, ": v.shape=", shape_str(v.shape()),
                       " must equal q.shape=", shape_str(q.shape()));
  BENCHSUITE_CHECK_ARG(is_attention_float(q.dtype()), op, ": q.dtype=", dtype_name(q.dtype()),
                       " must be float32, float16 or bfloat16 (or float64: the CPU reference)");
  check_dtype_like_q(op, "k", k, q);
  check_dtype_like_q(op, "v", v, q);
  check_same_device(op, "k", k, "q", q);
  check_same_device(op, "v", v, "q", q);
  BENCHSUITE_CHECK_ARG(q.size(3) >= 1, op, ": head_dim=0 (q.shape=", shape_str(q.shape()), ") must be >= 1");
  BENCHSUITE_CHECK_ARG(std::isfinite(scale) && scale > 0, op, ": scale=", scale, " must be a finite number > 0");
}

void check_attention_backward_args(const Tensor& dout, const Tensor& q, const Tensor& o, const Tensor& lse) {
  const char* op = "attention_backward";
  BENCHSUITE_CHECK_ARG(dout.shape() == q.shape(), op, ": do.shape=", shape_str(dout.shape()),
                       " must equal q.shape=", shape_str(q.shape()));
  BENCHSUITE_CHECK_ARG(o.shape() == q.shape(), op, ": o.shape=", shape_str(o.shape()),
                       " must equal q.shape=", shape_str(q.shape()));
  const Shape lse_shape = {q.size(0), q.size(1), q.size(2)};
  BENCHSUITE_CHECK_ARG(lse.shape() == lse_shape, op, ": lse.shape=", shape_str(lse.shape()), " must be ",
                       shape_str(lse_shape), " ([batch, heads, seq_len] of q.shape=", shape_str(q.shape()), ")");
  check_dtype_like_q(op, "do", dout, q);
  check_dtype_like_q(op, "o", o, q);
  BENCHSUITE_CHECK_ARG(lse.dtype() == stats_dtype(q.dtype()), op, ": lse.dtype=", dtype_name(lse.dtype()), " must be ",
                       dtype_name(stats_dtype(q.dtype())),
                       " (the log-sum-exp is kept in float32 for every dtype but float64, where it is float64)");
  check_same_device(op, "do", dout, "q", q);
  check_same_device(op, "o", o, "q", q);
  check_same_device(op, "lse", lse, "q", q);
}

void check_attention_version_supports(const OpVersion& v, int64_t head_dim, Device device) {
  if (v.device != DeviceType::cuda || v.version == "v1") return;
  // v2/v3: register and shared-memory tiles sized for the head width.
  const int64_t limit = v.op == "attention_backward" && v.version == "v3" ? 128 : 256;
  if (head_dim > limit)
    BENCHSUITE_UNSUPPORTED(
        "unsupported_shape", v.op, " cuda ", v.version, " (flash): head_dim=", head_dim, " is above its limit of ",
        limit, " (its register and shared-memory tiles are sized for it); use ", limit == 128 ? "v2" : "v1");
#ifdef BENCHSUITE_WITH_CUDA
  if (v.version == "v3") {
    require_cuda("attention v3");  // no device: the no_cuda error, not a CUDA call failing
    if (!cuda::attention_mma_supported(device.index))
      BENCHSUITE_UNSUPPORTED("unsupported_device", v.op,
                             " cuda v3 (tensor cores) needs compute capability 8.0 or "
                             "newer (",
                             device.str(), " is older); use v2");
  }
#endif
}

const OpVersion& select_attention_version(const char* op, Device device, DType dtype, int64_t head_dim,
                                          const std::string& requested) {
  if (requested.empty()) {
    // The dtype's default first, then the versions registered before it, latest first.
    const auto all = versions_of(op, device.type);
    auto it = std::find_if(all.rbegin(), all.rend(), [&](const OpVersion* v) { return v->is_default_for(dtype); });
    for (; it != all.rend(); ++it) {
      if (!(*it)->supports(dtype)) continue;
      try {
        check_attention_version_supports(**it, head_dim, device);
        return **it;
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::unsupported) throw;
      }
    }
  }
  const OpVersion& v = select_version(op, device, dtype, requested);  // unknown name, dtype, device
  check_attention_version_supports(v, head_dim, device);
  return v;
}

Tensor attention_workspace(const OpVersion& v, int64_t batch, int64_t heads, int64_t seq_len, int64_t head_dim,
                           Device device) {
  int64_t floats = 0;
  if (is_cuda_naive(v))
    floats = batch * heads * seq_len * seq_len;
  else if (is_cuda_flash_backward(v))
    floats = batch * heads * seq_len * (head_dim + 1);  // Dr [bh, S] + dQ accumulator [bh, S, D]
  return Tensor::empty({floats}, DType::float32, device);
}

void run_attention(const OpVersion& v, const Tensor& q, const Tensor& k, const Tensor& vv, const Tensor& o,
                   const Tensor& lse, const Tensor& workspace, float scale, bool causal, StreamHandle stream) {
  make_current(q);
  v.fn<AttentionSignature>()(q, k, vv, o, lse, workspace, scale, causal, stream);
}

void run_attention_backward(const OpVersion& v, const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& vv,
                            const Tensor& o, const Tensor& lse, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                            const Tensor& workspace, float scale, bool causal, StreamHandle stream) {
  make_current(q);
  v.fn<AttentionBackwardSignature>()(dout, q, k, vv, o, lse, dq, dk, dv, workspace, scale, causal, stream);
}

// ---- ops ---------------------------------------------------------------------------------------------
std::vector<Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                              std::optional<double> scale, const std::string& impl) {
  const char* op = "attention";
  const double sc = resolve_scale(q, scale);
  check_attention_args(op, q, k, v, sc);
  const OpVersion& ver = select_attention_version(op, q.device(), q.dtype(), q.size(3), impl);
  Tensor o = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, stats_dtype(q.dtype()), q.device());
  if (o.numel() == 0) return {o, lse};
  run_attention(ver, q.contiguous(), k.contiguous(), v.contiguous(), o, lse,
                attention_workspace(ver, q.size(0), q.size(1), q.size(2), q.size(3), q.device()),
                static_cast<float>(sc), causal);
  return {o, lse};
}

std::vector<Tensor> attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                       const Tensor& o, const Tensor& lse, bool causal, std::optional<double> scale,
                                       const std::string& impl) {
  const char* op = "attention_backward";
  const double sc = resolve_scale(q, scale);
  check_attention_args(op, q, k, v, sc);
  check_attention_backward_args(dout, q, o, lse);
  const OpVersion& ver = select_attention_version(op, q.device(), q.dtype(), q.size(3), impl);
  Tensor dq = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor dk = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor dv = Tensor::empty(q.shape(), q.dtype(), q.device());
  if (dq.numel() == 0) return {dq, dk, dv};
  run_attention_backward(ver, dout.contiguous(), q.contiguous(), k.contiguous(), v.contiguous(), o.contiguous(),
                         lse.contiguous(), dq, dk, dv,
                         attention_workspace(ver, q.size(0), q.size(1), q.size(2), q.size(3), q.device()),
                         static_cast<float>(sc), causal);
  return {dq, dk, dv};
}

// ---- attention_kv ---------------------------------------------------------------------------------
namespace {
// The Python-facing arguments as kernel parameters (kv_len < 0: all of k's keys).
cpu::AttentionKvParams attention_kv_params(const Tensor& q, const Tensor& k, bool causal, std::optional<double> scale,
                                           int64_t q_offset, int64_t kv_len, int64_t window) {
  cpu::AttentionKvParams p;
  p.scale = static_cast<float>(scale.value_or(q.ndim() == 4 ? default_attention_scale(q.size(3)) : 1.0));
  p.causal = causal;
  p.q_offset = q_offset;
  p.kv_len = kv_len < 0 && k.ndim() == 4 ? k.size(2) : kv_len;
  p.window = window;
  return p;
}
}  // namespace

void check_attention_kv_args(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                             const cpu::AttentionKvParams& p) {
  const char* op = AttentionKvOp::name;
  BENCHSUITE_CHECK_ARG(q.ndim() == 4, op, ": q must be 4-D [batch, heads, q_len, head_dim], got q.shape=",
                       shape_str(q.shape()));
  BENCHSUITE_CHECK_ARG(k.ndim() == 4, op, ": k must be 4-D [batch, kv_heads, kv_len, head_dim], got k.shape=",
                       shape_str(k.shape()));
  BENCHSUITE_CHECK_ARG(v.shape() == k.shape(), op, ": v.shape=", shape_str(v.shape()), " must equal k.shape=",
                       shape_str(k.shape()));
  BENCHSUITE_CHECK_ARG(k.size(0) == q.size(0) && k.size(3) == q.size(3), op, ": k.shape=", shape_str(k.shape()),
                       " must match q.shape=", shape_str(q.shape()), " in batch and head_dim");
  BENCHSUITE_CHECK_ARG(k.size(1) >= 1 && q.size(1) % k.size(1) == 0, op, ": q heads=", q.size(1),
                       " must be a multiple of k heads=", k.size(1));
  BENCHSUITE_CHECK_ARG(is_full_precision(q.dtype()), op, ": q.dtype=", dtype_name(q.dtype()),
                       " must be float32 (or float64: the CPU reference)");
  for (const auto& [name, t] : {std::pair<const char*, const Tensor&>{"q", q}, {"k", k}, {"v", v}}) {
    BENCHSUITE_CHECK_ARG(t.dtype() == q.dtype(), op, ": ", name, ".dtype=", dtype_name(t.dtype()),
                         " must equal q.dtype=", dtype_name(q.dtype()));
    check_same_device(op, name, t, "q", q);
  }
  if (key_mask.defined()) {
    const Shape want = {k.size(0), k.size(2)};
    BENCHSUITE_CHECK_ARG(key_mask.shape() == want && key_mask.dtype() == DType::float32, op, ": key_mask is ",
                         key_mask.describe(), ", must be float32", shape_str(want), " ([batch, kv_len])");
    check_same_device(op, "key_mask", key_mask, "q", q);
  }
  BENCHSUITE_CHECK_ARG(std::isfinite(p.scale) && p.scale > 0, op, ": scale=", p.scale, " must be a finite number > 0");
  BENCHSUITE_CHECK_ARG(p.kv_len >= 0 && p.kv_len <= k.size(2), op, ": kv_len=", p.kv_len, " must be in [0, ",
                       k.size(2), "] (k.shape=", shape_str(k.shape()), ")");
  BENCHSUITE_CHECK_ARG(p.q_offset >= 0, op, ": q_offset=", p.q_offset, " must be >= 0");
  BENCHSUITE_CHECK_ARG(p.window >= 0, op, ": window=", p.window, " must be >= 0 (0: no window)");
}

void run_attention_kv(const OpVersion& version, const Tensor& q, const Tensor& k, const Tensor& v,
                      const Tensor& key_mask, const Tensor& o, const cpu::AttentionKvParams& params,
                      StreamHandle stream) {
  make_current(q);
  check_version_dtype(version, q.dtype());
  version.fn<AttentionKvSignature>()(q, k, v, key_mask, o, params, stream);
}

Tensor attention_kv(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, bool causal,
                    std::optional<double> scale, int64_t q_offset, int64_t kv_len, int64_t window,
                    const std::string& impl) {
  const cpu::AttentionKvParams p = attention_kv_params(q, k, causal, scale, q_offset, kv_len, window);
  check_attention_kv_args(q, k, v, key_mask, p);
  const OpVersion& version = select_version(AttentionKvOp::name, q.device(), q.dtype(), impl);
  Tensor o = Tensor::empty(q.shape(), q.dtype(), q.device());
  run_attention_kv(version, q.contiguous(), k.contiguous(), v.contiguous(),
                   key_mask.defined() ? key_mask.contiguous() : key_mask, o, p);
  return o;
}

void run_attention_kv_backward(const OpVersion& version, const Tensor& dout, const Tensor& q, const Tensor& k,
                               const Tensor& v, const Tensor& key_mask, const Tensor& dq, const Tensor& dk,
                               const Tensor& dv, const Tensor& stats, const cpu::AttentionKvParams& params,
                               StreamHandle stream) {
  make_current(q);
  check_version_dtype(version, q.dtype());
  version.fn<AttentionKvBackwardSignature>()(dout, q, k, v, key_mask, dq, dk, dv, stats, params, stream);
}

std::vector<Tensor> attention_kv_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                          const Tensor& key_mask, bool causal, std::optional<double> scale,
                                          int64_t q_offset, int64_t kv_len, int64_t window,
                                          const std::string& impl) {
  const cpu::AttentionKvParams p = attention_kv_params(q, k, causal, scale, q_offset, kv_len, window);
  check_attention_kv_args(q, k, v, key_mask, p);
  BENCHSUITE_CHECK_ARG(dout.shape() == q.shape() && dout.dtype() == q.dtype(), AttentionKvBackwardOp::name,
                       ": do is ", dout.describe(), " but q is ", q.describe(), " (they must match)");
  check_same_device(AttentionKvBackwardOp::name, "do", dout, "q", q);
  const OpVersion& version = select_version(AttentionKvBackwardOp::name, q.device(), q.dtype(), impl);
  Tensor dq = Tensor::empty(q.shape(), q.dtype(), q.device());
  Tensor dk = Tensor::empty(k.shape(), k.dtype(), k.device()), dv = Tensor::empty(v.shape(), v.dtype(), v.device());
  Tensor stats = Tensor::empty({q.size(0), q.size(1), q.size(2), 2}, stats_dtype(q.dtype()), q.device());
  run_attention_kv_backward(version, dout.contiguous(), q.contiguous(), k.contiguous(), v.contiguous(),
                            key_mask.defined() ? key_mask.contiguous() : key_mask, dq, dk, dv, stats, p);
  return {dq, dk, dv};
}

}  // namespace benchsuite::ops
