// The nn ops: embedding lookup, fused softmax + NLL cross-entropy and rotary position
// embedding, each with its backward. Validation (shapes, dtypes, devices, id and target
// ranges) lives here; the run_* pieces let a benchmark case validate once and time only
// the kernel.
//
// RoPE, GPT-NeoX "rotate half" form. For x [B, T, H, Dh] (Dh even, half = Dh / 2), position
// p = t + position_offset and i in [0, half):
//     inv_freq_i = base ** (-2 i / Dh),   angle = p * inv_freq_i
//     y[..., i]        = x[..., i] * cos(angle) - x[..., i + half] * sin(angle)
//     y[..., i + half] = x[..., i + half] * cos(angle) + x[..., i] * sin(angle)
// rope_backward is the inverse rotation (angle -> -angle): dx from dy.
//
// Cross-entropy: loss_r = logsumexp(logits[r]) - logits[r, targets[r]]; rows whose target
// equals ignore_index get loss 0 and are left out of the mean (mean = NaN when all are).
// Backward: dlogits = (softmax(logits) - onehot(targets)) * dloss / kept_rows, zero rows
// for ignored targets.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "ops/registry.h"

namespace benchsuite::ops {

using EmbeddingImpl = void (*)(const Tensor& weight, const Tensor& ids, const Tensor& out, StreamHandle stream);
using EmbeddingBackwardImpl = void (*)(const Tensor& dout, const Tensor& ids, const Tensor& dweight,
                                       const Tensor& workspace, StreamHandle stream);
using CrossEntropyImpl = void (*)(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& loss,
                                  const Tensor& row_loss, const Tensor& workspace, StreamHandle stream);
using CrossEntropyBackwardImpl = void (*)(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                                          float dloss, const Tensor& dlogits, const Tensor& workspace,
                                          StreamHandle stream);
// rope and rope_backward share this signature; the direction belongs to the version.
using RopeImpl = void (*)(const Tensor& x, const Tensor& y, double base, int64_t position_offset, StreamHandle stream);

// weight [V, D] float, ids [...] int64 in [0, V) -> out [..., D].
Tensor embedding(const Tensor& weight, const Tensor& ids, const std::string& impl = "");
// dout [..., D], ids [...] -> dweight [num_embeddings, D] (rows of repeated ids summed).
Tensor embedding_backward(const Tensor& dout, const Tensor& ids, int64_t num_embeddings, const std::string& impl = "");
// logits [N, C], targets [N] int64 -> {loss [] (mean over kept rows), row_loss [N]}.
std::vector<Tensor> cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                                  const std::string& impl = "");
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                              double dloss = 1.0, const std::string& impl = "");
// x [B, T, H, Dh] -> y, same shape.
Tensor rope(const Tensor& x, double base = 10000.0, int64_t position_offset = 0, const std::string& impl = "");
Tensor rope_backward(const Tensor& dy, double base = 10000.0, int64_t position_offset = 0,
                     const std::string& impl = "");

// ---- pieces for benchmark cases ---------------------------------------------------------------
// Shapes, dtypes and devices only; the *_in_range checks read every id / target (a copy to
// the host for CUDA tensors) and name the first bad one.
void check_embedding_args(const Tensor& weight, const Tensor& ids);
void check_embedding_backward_args(const Tensor& dout, const Tensor& ids, int64_t num_embeddings);
void check_ids_in_range(const char* op, const Tensor& ids, int64_t num_embeddings);
void check_cross_entropy_args(const char* op, const Tensor& logits, const Tensor& targets);
void check_targets_in_range(const char* op, const Tensor& targets, int64_t classes, int64_t ignore_index);
void check_rope_args(const char* op, const Tensor& x, double base, int64_t position_offset);

// Workspaces the CUDA versions need (empty tensors on the CPU).
Tensor embedding_backward_workspace(int64_t tokens, int64_t num_embeddings, Device device);
Tensor cross_entropy_workspace(int64_t rows, Device device);

void run_embedding(const OpVersion& v, const Tensor& weight, const Tensor& ids, const Tensor& out,
                   StreamHandle stream = nullptr);
void run_embedding_backward(const OpVersion& v, const Tensor& dout, const Tensor& ids, const Tensor& dweight,
                            const Tensor& workspace, StreamHandle stream = nullptr);
void run_cross_entropy(const OpVersion& v, const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                       const Tensor& loss, const Tensor& row_loss, const Tensor& workspace,
                       StreamHandle stream = nullptr);
void run_cross_entropy_backward(const OpVersion& v, const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                                double dloss, const Tensor& dlogits, const Tensor& workspace,
                                StreamHandle stream = nullptr);
void run_rope(const OpVersion& v, const Tensor& x, const Tensor& y, double base, int64_t position_offset,
              StreamHandle stream = nullptr);

}  // namespace benchsuite::ops
