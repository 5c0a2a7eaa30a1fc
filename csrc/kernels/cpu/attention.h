// Plain C++ kernels of scaled dot-product attention, forward and backward.
// Layout: q, k, v, o, do, dq, dk, dv [bh, S, D] (bh = batch * heads, contiguous); lse [bh, S].
// The *_reference versions materialise the S x S scores in double; the *_f32 ones stream
// key blocks with an online softmax (no S x S buffer) and use OpenMP.
#pragma once
#include <cstdint>

namespace benchsuite::cpu {

// o = softmax(q k^T * scale [+ causal mask]) v;  lse[i] = log sum_j exp(s_ij * scale).
// causal: query i attends to keys j <= i.
void attention_forward_reference(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                                 int64_t seq_len, int64_t head_dim, float scale, bool causal);
// OpenMP over (bh, block of 64 queries); key blocks of 64, float accumulation.
void attention_forward_f32(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                           int64_t seq_len, int64_t head_dim, float scale, bool causal);

// P = exp(s * scale - lse); dv = P^T do; dP = do v^T; Dr = rowsum(do * o);
// dS = P (dP - Dr); dq = dS k * scale; dk = dS^T q * scale.
void attention_backward_reference(const float* dout, const float* q, const float* k, const float* v, const float* o,
                                  const float* lse, float* dq, float* dk, float* dv, int64_t bh, int64_t seq_len,
                                  int64_t head_dim, float scale, bool causal);
// P recomputed per 64 x 64 block from lse (no S x S buffer); OpenMP over bh only, so dk and
// dv of one (b, h) are accumulated by one thread (no races, deterministic).
void attention_backward_f32(const float* dout, const float* q, const float* k, const float* v, const float* o,
                            const float* lse, float* dq, float* dk, float* dv, int64_t bh, int64_t seq_len,
                            int64_t head_dim, float scale, bool causal);

}  // namespace benchsuite::cpu
