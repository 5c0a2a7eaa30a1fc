// Host-callable launchers of the attention CUDA kernels. No CUDA headers here; layout as in
// kernels/cpu/attention.h: q, k, v, o, do, dq, dk, dv [bh, S, D] contiguous of `dtype`
// (float32, float16 or bfloat16; the op layer checks), lse [bh, S] float32 always.
#pragma once
#include <cstdint>

#include "common/cuda_runtime.h"
#include "common/dtype.h"

namespace benchsuite::cuda {

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
// v3 (flash, tensor cores; attention_flash_mma.cu): float16/bfloat16 only, sm_80+, head_dim
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
// v2 (flash) backward (attention_flash_bwd.cu): Dr = rowsum(do * o) into the workspace, then
// a block per (bh, 32 keys) walks 32-query tiles, recomputes P and dS from q, k and lse in
// shared memory (no S x S buffer), keeps dK and dV of its keys in registers and adds dQ
// into an fp32 accumulator with atomicAdd; a last pass rounds dQ to the dtype.
// workspace: attention_backward_flash_workspace(bh, S, D) floats. head_dim <= 256.
void attention_backward_flash(DType dtype, const void* dout, const void* q, const void* k, const void* v, const void* o,
                              const float* lse, void* dq, void* dk, void* dv, float* workspace, int64_t bh,
                              int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream);
// v3 (flash, tensor cores; attention_flash_bwd.cu): float16/bfloat16, sm_80+, head_dim <= 128.
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

}  // namespace benchsuite::cuda
