// Scaled dot-product attention, q, k, v [B, H, S, D] (equal shapes, one dtype: float32, float16
// or bfloat16; arithmetic in float32 or wider, lse float32; the CPU v1 references also take
// float64, lse then float64 too):
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

#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

// Kernel layout: q, k, v, o, do, dq, dk, dv [bh, S, D] (bh = batch * heads, contiguous); lse [bh, S].

// Plain C++ kernels on float arrays. The *_reference versions materialise the S x S scores
// in double; the *_f32 ones stream key blocks with an online softmax (no S x S buffer) and
// use OpenMP.
namespace cpu {

// o = softmax(q k^T * scale [+ causal mask]) v;  lse[i] = log sum_j exp(s_ij * scale).
// causal: query i attends to keys j <= i.
// T: float, or double (float64 tensors, lse included; the v1 versions only).
template <class T>
void attention_forward_reference(const T* q, const T* k, const T* v, T* o, T* lse, int64_t bh, int64_t seq_len,
                                 int64_t head_dim, float scale, bool causal);
// OpenMP over (bh, block of 64 queries); key blocks of 64, float accumulation.
void attention_forward_f32(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                           int64_t seq_len, int64_t head_dim, float scale, bool causal);
// v3 (cpu_flash.cpp): 16-float vectors whose lanes are query rows. A block of 64 queries (16 or
// 32 for S <= 32) packed transposed meets 48-key blocks: scores as 24-accumulator outer-product
// FMA tiles (a K element broadcast against the block's queries), the online softmax lane-wise
// (no horizontal reductions) with fast_math's exp, then P V as the same kind of tile (a V
// element broadcast against the block's probabilities); OpenMP over (bh, query block), the
// causal ones heaviest first, blocks above the diagonal skipped, masked lanes of the diagonal
// blocks kept out of the sums (a future key's inf never reaches a query as 0 * inf).
void attention_forward_lanes(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                             int64_t seq_len, int64_t head_dim, float scale, bool causal);

// P = exp(s * scale - lse); dv = P^T do; dP = do v^T; Dr = rowsum(do * o);
// dS = P (dP - Dr); dq = dS k * scale; dk = dS^T q * scale.
template <class T>
void attention_backward_reference(const T* dout, const T* q, const T* k, const T* v, const T* o, const T* lse, T* dq,
                                  T* dk, T* dv, int64_t bh, int64_t seq_len, int64_t head_dim, float scale,
                                  bool causal);
// P recomputed per 64 x 64 block from lse (no S x S buffer); OpenMP over bh only, so dk and
// dv of one (b, h) are accumulated by one thread (no races, deterministic).
void attention_backward_f32(const float* dout, const float* q, const float* k, const float* v, const float* o,
                            const float* lse, float* dq, float* dk, float* dv, int64_t bh, int64_t seq_len,
                            int64_t head_dim, float scale, bool causal);

// ---- attention_kv: grouped heads, masks, a key/value cache ----------------------------------
// q [B, Hq, Sq, D]; k, v [B, Hkv, cap, D] with Hq a multiple of Hkv (MHA: equal, MQA: Hkv = 1,
// GQA: between; query head h reads kv head h / (Hq / Hkv)); o [B, Hq, Sq, D]. Query i sits at
// position q_offset + i; it sees key j when j < kv_len, key_mask[b, j] != 0 (when given,
// [B, cap]), j <= q_offset + i (causal) and j > q_offset + i - window (window > 0). A query
// that sees no key gets zeros.
struct AttentionKvParams {
  float scale = 1.0f;
  bool causal = false;
  int64_t q_offset = 0;  // position of query 0 among the keys (a decode step: the tokens before it)
  int64_t kv_len = 0;    // keys in use (<= cap)
  int64_t window = 0;    // sliding window in keys; 0: none
};
struct AttentionKvShape {
  int64_t batch, q_heads, kv_heads, q_len, kv_cap, head_dim;
};
// v1: scores of one query row in double, then softmax and P V in double. T: float, or double
// (float64 tensors); the key mask is float32 for either.
template <class T>
void attention_kv_reference(const T* q, const T* k, const T* v, const float* key_mask, T* o,
                            const AttentionKvShape& shape, const AttentionKvParams& params);
// v2: OpenMP over query rows; the visible keys' scores vectorised into a buffer, a vector exp
// (fast_math), then P V as scaled row additions, in float.
void attention_kv_f32(const float* q, const float* k, const float* v, const float* key_mask, float* o,
                      const AttentionKvShape& shape, const AttentionKvParams& params);
// v3 (cpu_flash.cpp): attention v3's lane blocks over the query rows of one (batch, kv head) -
// its group's heads times Sq, so the heads of a group share every K/V block they load - with
// per-lane key windows (causal, window, kv_len) and the key mask applied by gathering only the
// keys it lets through; OpenMP over (batch, kv head, lane block). At most 4 rows per kv head (a
// decode step): lanes along head_dim instead, a row at a time against runs of 16 keys (dot
// products 4 keys at a time, folded by shuffles), OpenMP over (batch, kv head).
void attention_kv_lanes(const float* q, const float* k, const float* v, const float* key_mask, float* o,
                        const AttentionKvShape& shape, const AttentionKvParams& params);

// The gradients of attention_kv (same shapes, positions and visibility rules). Per query row,
// with P the softmax over its visible keys (a row that sees none: P = 0):
//   dv_j += P_ij do_i,  dP_ij = do_i . v_j,  Dr_i = sum_j P_ij dP_ij,  dS_ij = P_ij (dP_ij - Dr_i),
//   dq_i = scale sum_j dS_ij k_j,  dk_j += scale dS_ij q_i,
// dk and dv summed over the query heads of each kv head (GQA / MQA); keys at or past kv_len get
// zero gradients. stats [B, Hq, Sq, 2]: each row's log-sum-exp of its visible scaled scores
// (-inf when it sees none) and Dr_i. Sums in double; parallel = false: one thread (v1), true:
// OpenMP over (batch, kv head), each owning its dk / dv rows (v2: the same sums, bit for bit).
// T: float, or double (float64 tensors, stats included; v1 only); the key mask is float32.
template <class T>
void attention_kv_backward_reference(const T* dout, const T* q, const T* k, const T* v, const float* key_mask, T* dq,
                                     T* dk, T* dv, T* stats, const AttentionKvShape& shape,
                                     const AttentionKvParams& params, bool parallel = false);

}  // namespace cpu

// CUDA launchers (no CUDA headers here): device arrays of `dtype` (float32, float16 or
// bfloat16; the op layer checks), lse float32 always.
namespace cuda {

// v1 (naive): scores [bh, S, S] into `workspace` (bh*S*S floats, from the op layer), a block
// per row turns them into P (writing lse), then one thread per output element forms P V.
// Any dtype: elements widened to float on load, fp32 arithmetic, rounded once on store.
void attention_forward_naive(DType dtype, const void* q, const void* k, const void* v, void* o, float* lse,
                             float* workspace, int64_t bh, int64_t seq_len, int64_t head_dim, float scale, bool causal,
                             StreamHandle stream);
// v2 (flash, SIMT): a block of 256 threads per (bh, 64 queries); 32-key K/V tiles in shared
// memory (widened to float), a warp per query row with the online softmax and the output
// row in registers. head_dim <= 256 (the op layer checks); shared memory (96 D + 32) * 4
// bytes, above 48 KiB for D > 128 (opted into per launch).
void attention_forward_flash(DType dtype, const void* q, const void* k, const void* v, void* o, float* lse, int64_t bh,
                             int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream);
// v3 (flash, tensor cores; cuda_flash_mma.cu): float16/bfloat16 only, sm_80+, head_dim
// <= 256. A block of 4 warps per (bh, query tile): 128 queries (32 rows per warp) for
// head_dim <= 64, else 64 (16 per warp); mma.sync m16n8k16 for Q K^T and P V with fp32
// accumulators, online softmax in registers (exp2 domain), K/V tiles of 64 keys (32 at
// head_dim > 128) in padded shared memory through cp.async when rows are 16-byte aligned,
// causal tiles past the diagonal skipped per block and per warp. P is rounded to the dtype
// for the P V product (as FlashAttention does); lse and the accumulators stay fp32.
void attention_forward_flash_mma(DType dtype, const void* q, const void* k, const void* v, void* o, float* lse,
                                 int64_t bh, int64_t seq_len, int64_t head_dim, float scale, bool causal,
                                 StreamHandle stream);
// Whether `device` can run v3 (compute capability 8.0 or newer).
bool attention_mma_supported(int device);

// v1 (naive) backward: P into `workspace` (bh*S*S floats), dv = P^T do, P overwritten by
// dS = P (dP - Dr), then dq = dS k * scale and dk = dS^T q * scale; a thread per element.
void attention_backward_naive(DType dtype, const void* dout, const void* q, const void* k, const void* v, const void* o,
                              const float* lse, void* dq, void* dk, void* dv, float* workspace, int64_t bh,
                              int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream);
// v2 (flash) backward (cuda_flash_bwd.cu): Dr = rowsum(do * o) into the workspace, then
// a block per (bh, 32 keys) walks 32-query tiles, recomputes P and dS from q, k and lse in
// shared memory (no S x S buffer), keeps dK and dV of its keys in registers and adds dQ
// into an fp32 accumulator with atomicAdd; a last pass rounds dQ to the dtype.
// workspace: attention_backward_flash_workspace(bh, S, D) floats. head_dim <= 256.
void attention_backward_flash(DType dtype, const void* dout, const void* q, const void* k, const void* v, const void* o,
                              const float* lse, void* dq, void* dk, void* dv, float* workspace, int64_t bh,
                              int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream);
// v3 (flash, tensor cores; cuda_flash_bwd.cu): float16/bfloat16, sm_80+, head_dim <= 128.
// The v2 walk on mma.sync m16n8k16: a block of 4 warps per (bh, 64 keys), a warp per 16 keys,
// 64-query tiles; S^T, dP^T, P^T and dS^T in fp32 registers, dK/dV accumulated in registers,
// dS^T through shared memory for dQ (fp32 atomicAdd). Same workspace as v2.
void attention_backward_flash_mma(DType dtype, const void* dout, const void* q, const void* k, const void* v,
                                  const void* o, const float* lse, void* dq, void* dk, void* dv, float* workspace,
                                  int64_t bh, int64_t seq_len, int64_t head_dim, float scale, bool causal,
                                  StreamHandle stream);
// Floats of workspace attention_backward_flash(_mma) needs: Dr [bh, S] and the dQ accumulator [bh, S, D].
inline int64_t attention_backward_flash_workspace(int64_t bh, int64_t seq_len, int64_t head_dim) {
  return bh * seq_len + bh * seq_len * head_dim;
}

// attention_kv v1: a block per query row (grid-stride), keys in chunks of 512: scores of the
// visible keys into shared memory, a block max and sum (online softmax across chunks), then
// P V with a thread per output column. fp32, expf; a row that sees no key gets zeros. Shapes
// and rules as cpu::attention_kv_reference.
void attention_kv_f32(const float* q, const float* k, const float* v, const float* key_mask, float* o,
                      const cpu::AttentionKvShape& shape, const cpu::AttentionKvParams& params, StreamHandle stream);
// attention_kv_backward v1: a block per query row computes its lse and Dr (one online pass over
// 512-key chunks) into stats and then dq (a second pass: P and dS of the chunk in shared
// memory, a thread per column); then a block per key row walks the query rows of its kv head's
// group in chunks of 512 (a thread per row: P and dS from stats), accumulating dk and dv with a
// thread per column. No atomics: every output element has one writer (deterministic).
void attention_kv_backward_f32(const float* dout, const float* q, const float* k, const float* v,
                               const float* key_mask, float* dq, float* dk, float* dv, float* stats,
                               const cpu::AttentionKvShape& shape, const cpu::AttentionKvParams& params,
                               StreamHandle stream);

}  // namespace cuda

namespace ops {

using AttentionSignature = void(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                                const Tensor& workspace, float scale, bool causal, StreamHandle stream);
using AttentionBackwardSignature = void(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                        const Tensor& o, const Tensor& lse, const Tensor& dq, const Tensor& dk,
                                        const Tensor& dv, const Tensor& workspace, float scale, bool causal,
                                        StreamHandle stream);

BENCHSUITE_OP(AttentionOp, "attention", AttentionSignature);
BENCHSUITE_OP(AttentionBackwardOp, "attention_backward", AttentionBackwardSignature);

// key_mask: undefined, or float32 [B, cap] (0: masked), float32 for float64 q, k, v too.
using AttentionKvSignature = void(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                                  const Tensor& o, const cpu::AttentionKvParams& params, StreamHandle stream);
BENCHSUITE_OP(AttentionKvOp, "attention_kv", AttentionKvSignature);
// (do, q, k, v, key_mask, dq, dk, dv, stats [B, Hq, Sq, 2] scratch of stats_dtype(q): lse and Dr per row)
using AttentionKvBackwardSignature = void(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                          const Tensor& key_mask, const Tensor& dq, const Tensor& dk,
                                          const Tensor& dv, const Tensor& stats, const cpu::AttentionKvParams& params,
                                          StreamHandle stream);
BENCHSUITE_OP(AttentionKvBackwardOp, "attention_kv_backward", AttentionKvBackwardSignature);

// o [B, Hq, Sq, D] of q's dtype, float32 (or float64: v1) (cpu::AttentionKvParams for the rules). kv_len < 0:
// all of k's keys.
Tensor attention_kv(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask, bool causal,
                    std::optional<double> scale, int64_t q_offset, int64_t kv_len, int64_t window,
                    const std::string& impl = "");
// Validates shapes, dtypes, devices and params (each error names the argument and value).
// -> {dq, dk, dv} of attention_kv's output for the gradient `dout` [B, Hq, Sq, D].
std::vector<Tensor> attention_kv_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                          const Tensor& key_mask, bool causal, std::optional<double> scale,
                                          int64_t q_offset, int64_t kv_len, int64_t window,
                                          const std::string& impl = "");
void run_attention_kv_backward(const OpVersion& version, const Tensor& dout, const Tensor& q, const Tensor& k,
                               const Tensor& v, const Tensor& key_mask, const Tensor& dq, const Tensor& dk,
                               const Tensor& dv, const Tensor& stats, const cpu::AttentionKvParams& params,
                               StreamHandle stream = nullptr);
void check_attention_kv_args(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_mask,
                             const cpu::AttentionKvParams& params);
void run_attention_kv(const OpVersion& version, const Tensor& q, const Tensor& k, const Tensor& v,
                      const Tensor& key_mask, const Tensor& o, const cpu::AttentionKvParams& params,
                      StreamHandle stream = nullptr);

// -> {o [B, H, S, D] of q's dtype, lse [B, H, S] float32 (float64 for float64 q)}.
std::vector<Tensor> attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal = false,
                              std::optional<double> scale = std::nullopt, const std::string& impl = "");
// -> {dq, dk, dv}, each [B, H, S, D] of q's dtype; do and o of q's dtype, lse float32 (float64 for float64 q).
std::vector<Tensor> attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                                       const Tensor& o, const Tensor& lse, bool causal = false,
                                       std::optional<double> scale = std::nullopt, const std::string& impl = "");

// ---- pieces for benchmark cases ---------------------------------------------------------------
// q/k/v 4-D, equal shapes, one float dtype (float32/float16/bfloat16/float64), one device; scale finite and > 0.
void check_attention_args(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, double scale);
// The extra tensors of the backward: dout and o shaped and typed like q, lse [B, H, S] of stats_dtype(q), one device.
void check_attention_backward_args(const Tensor& dout, const Tensor& q, const Tensor& o, const Tensor& lse);
// Limits of a version (CUDA flash versions: head_dim <= 256, the v3 backward <= 128; CUDA v3:
// compute capability >= 8.0 on `device`): unsupported ("unsupported_shape" / "unsupported_device") naming the reason.
void check_attention_version_supports(const OpVersion& v, int64_t head_dim, Device device);
double default_attention_scale(int64_t head_dim);
// The version to run, checked against the limits above: `requested` by name (unsupported
// when it cannot run this), or the dtype's default, else the latest version registered before
// it that can (on a pre-sm_80 GPU the half types fall back from v3 to v2, head_dim > 256 to v1).
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

}  // namespace ops

}  // namespace benchsuite
