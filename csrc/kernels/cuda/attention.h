// Host-callable launchers of the attention CUDA kernels. No CUDA headers here; layout as in
// kernels/cpu/attention.h: q, k, v, o, do, dq, dk, dv [bh, S, D] contiguous, lse [bh, S].
#pragma once
#include <cstdint>

#include "common/cuda_runtime.h"

namespace benchsuite::cuda {

// v1 (naive): scores [bh, S, S] into `workspace` (bh*S*S floats, from the op layer), a block
// per row turns them into P (writing lse), then one thread per output element forms P V.
void attention_forward_naive_f32(const float* q, const float* k, const float* v, float* o, float* lse,
                                 float* workspace, int64_t bh, int64_t seq_len, int64_t head_dim, float scale,
                                 bool causal, StreamHandle stream);
// v2 (flash): a block of 256 threads per (bh, 64 queries); 32-key K/V tiles in shared
// memory, a warp per query row with the online softmax and the output row in registers.
// head_dim <= 256 (the op layer checks); shared memory (96 D + 32) * 4 bytes, above 48 KiB
// for D > 128 (opted into per launch).
void attention_forward_flash_f32(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                                 int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream);
// v1 (naive) backward: P into `workspace` (bh*S*S floats), dv = P^T do, P overwritten by
// dS = P (dP - Dr), then dq = dS k * scale and dk = dS^T q * scale; a thread per element.
void attention_backward_naive_f32(const float* dout, const float* q, const float* k, const float* v, const float* o,
                                  const float* lse, float* dq, float* dk, float* dv, float* workspace, int64_t bh,
                                  int64_t seq_len, int64_t head_dim, float scale, bool causal, StreamHandle stream);

}  // namespace benchsuite::cuda
