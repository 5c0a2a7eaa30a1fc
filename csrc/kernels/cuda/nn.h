// Host-callable launchers of the nn CUDA kernels (embedding, cross-entropy, RoPE). No
// CUDA headers here; shapes and semantics as in kernels/cpu/nn.h. Kernels never read out
// of bounds on a bad id or target: they write NaN instead (the op layer validates ids and
// targets on the host before any launch, so that only happens when called directly).
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/cuda_runtime.h"

namespace benchsuite::cuda {

// ---- embedding -----------------------------------------------------------------------------
// A warp per token row, float4 copies when dim % 4 == 0 and both buffers are 16-byte aligned.
void embedding_f32(const float* weight, const int64_t* ids, float* out, int64_t tokens, int64_t vocab, int64_t dim,
                   StreamHandle stream);
// Deterministic: token positions are radix-sorted by id (CUB, stable), then a block per
// vocabulary row sums its tokens' rows in token order (one thread per column), writing
// zeros for unused rows. No atomics. tokens < 2^31.
size_t embedding_backward_workspace_bytes(int64_t tokens, int64_t vocab);
void embedding_backward_f32(const float* dout, const int64_t* ids, float* dweight, int64_t tokens, int64_t vocab,
                            int64_t dim, void* workspace, size_t workspace_bytes, StreamHandle stream);

// ---- cross-entropy --------------------------------------------------------------------------
// A block per row with an online (max, sum-of-exp) pass; the mean is a deterministic
// two-stage reduction (reduce_all_f32) of the per-row losses divided by that of the
// kept-row flags (a float count: exact up to 2^24 kept rows).
// workspace: cross_entropy_workspace_floats(rows) floats.
int64_t cross_entropy_workspace_floats(int64_t rows);
void cross_entropy_f32(const float* logits, const int64_t* targets, float* loss, float* row_loss, int64_t rows,
                       int64_t classes, int64_t ignore_index, float* workspace, StreamHandle stream);
void cross_entropy_backward_f32(const float* logits, const int64_t* targets, float* dlogits, int64_t rows,
                                int64_t classes, int64_t ignore_index, float dloss, float* workspace,
                                StreamHandle stream);

// ---- RoPE -----------------------------------------------------------------------------------
// A block per token (grid-stride), a thread per (frequency, head subset): each thread forms
// its angle in double, reduces it modulo 2*pi, then takes sincosf of the reduced angle.
void rope_f32(const float* x, float* y, int64_t batch, int64_t seq_len, int64_t heads, int64_t head_dim, double base,
              int64_t position_offset, bool inverse, StreamHandle stream);

}  // namespace benchsuite::cuda
