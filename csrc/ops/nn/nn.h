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
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

// Plain C++ kernels: the *_reference versions are the yardsticks (double math), templates on
// the storage type T (float, or double for float64 tensors, losses double too); the others
// are float32 and use OpenMP. Kernels never validate: ids and targets are checked by the op
// layer (op.cpp).
namespace cpu {

// ---- embedding: out[t, :] = weight[ids[t], :] -------------------------------------------
// weight [vocab, dim], ids [tokens] (each in [0, vocab)), out [tokens, dim]
template <class T>
void embedding_reference(const T* weight, const int64_t* ids, T* out, int64_t tokens, int64_t dim);
void embedding_f32(const float* weight, const int64_t* ids, float* out, int64_t tokens, int64_t dim);  // OpenMP rows
// dweight[v, :] = sum of dout[t, :] over the t with ids[t] == v (zero for unused rows).
// dout [tokens, dim], dweight [vocab, dim]. Both versions are deterministic: rows are
// grouped by id (stable counting sort) and each group is summed in token order.
template <class T>
void embedding_backward_reference(const T* dout, const int64_t* ids, T* dweight, int64_t tokens, int64_t vocab,
                                  int64_t dim);  // double sums, one vocabulary row at a time
void embedding_backward_f32(const float* dout, const int64_t* ids, float* dweight, int64_t tokens, int64_t vocab,
                            int64_t dim);        // float sums, vocabulary rows over OpenMP threads

// ---- cross-entropy: loss_r = logsumexp(logits[r, :]) - logits[r, targets[r]] ----------------
// logits [rows, classes], targets [rows] (in [0, classes) or == ignore_index),
// row_loss [rows] (0 for ignored rows), loss [1] = sum(row_loss) / (rows not ignored)
// (NaN when every row is ignored, as in PyTorch).
template <class T>
void cross_entropy_reference(const T* logits, const int64_t* targets, T* loss, T* row_loss, int64_t rows,
                             int64_t classes, int64_t ignore_index);  // double
void cross_entropy_f32(const float* logits, const int64_t* targets, float* loss, float* row_loss, int64_t rows,
                       int64_t classes, int64_t ignore_index);  // rows over OpenMP; exp sums in double
// dlogits[r, c] = (softmax(logits[r])[c] - (c == targets[r])) * dloss / (rows not ignored);
// ignored rows get zeros. logits, dlogits [rows, classes]. (For float data pass dloss
// rounded to float, as the float32 versions take it.)
template <class T>
void cross_entropy_backward_reference(const T* logits, const int64_t* targets, T* dlogits, int64_t rows,
                                      int64_t classes, int64_t ignore_index, double dloss);
void cross_entropy_backward_f32(const float* logits, const int64_t* targets, float* dlogits, int64_t rows,
                                int64_t classes, int64_t ignore_index, float dloss);

// ---- RoPE, GPT-NeoX "rotate half" form (formula at the top of this file) --------------
// x, y [batch, seq_len, heads, head_dim], head_dim even. inverse: rotate by -angle (the
// backward: dx from dy).
template <class T>
void rope_reference(const T* x, T* y, int64_t batch, int64_t seq_len, int64_t heads, int64_t head_dim, double base,
                    int64_t position_offset, bool inverse);  // cos/sin in double per element
void rope_f32(const float* x, float* y, int64_t batch, int64_t seq_len, int64_t heads, int64_t head_dim, double base,
              int64_t position_offset, bool inverse);  // cos/sin table [seq_len, head_dim/2], OpenMP tokens

// ---- sinusoidal positions (Vaswani et al.): out[..., s, 2i] = sin(p w_i), out[..., s, 2i+1]
// = cos(p w_i), p = s + position_offset, w_i = base ** (-2i / dim); out [repeats, seq_len, dim],
// every repeat the same table. Angles in double (v1, the only CPU version).
template <class T>
void sinusoidal_positions_reference(T* out, int64_t repeats, int64_t seq_len, int64_t dim, double base,
                                    int64_t position_offset);

}  // namespace cpu

// CUDA launchers (no CUDA headers here); shapes and semantics as the CPU kernels'. Kernels
// never read out of bounds on a bad id or target: they write NaN instead (the op layer
// validates ids and targets on the host before any launch, so that only happens when
// called directly).
namespace cuda {

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

// ---- sinusoidal positions -------------------------------------------------------------------
// A thread per entry of out [repeats, seq_len, dim] (grid-stride), the angle, pow, sin and cos
// in double as in the reference, rounded once; each repeat computes its own copy.
void sinusoidal_positions_f32(float* out, int64_t repeats, int64_t seq_len, int64_t dim, double base,
                              int64_t position_offset, StreamHandle stream);

}  // namespace cuda

namespace ops {

using EmbeddingSignature = void(const Tensor& weight, const Tensor& ids, const Tensor& out, StreamHandle stream);
using EmbeddingBackwardSignature = void(const Tensor& dout, const Tensor& ids, const Tensor& dweight,
                                        const Tensor& workspace, StreamHandle stream);
using CrossEntropySignature = void(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                                   const Tensor& loss, const Tensor& row_loss, const Tensor& workspace,
                                   StreamHandle stream);
using CrossEntropyBackwardSignature = void(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                                           double dloss, const Tensor& dlogits, const Tensor& workspace,
                                           StreamHandle stream);
// rope and rope_backward share this signature; the direction belongs to the version.
using RopeSignature = void(const Tensor& x, const Tensor& y, double base, int64_t position_offset,
                           StreamHandle stream);

BENCHSUITE_OP(EmbeddingOp, "embedding", EmbeddingSignature);
BENCHSUITE_OP(EmbeddingBackwardOp, "embedding_backward", EmbeddingBackwardSignature);
BENCHSUITE_OP(CrossEntropyOp, "cross_entropy", CrossEntropySignature);
BENCHSUITE_OP(CrossEntropyBackwardOp, "cross_entropy_backward", CrossEntropyBackwardSignature);
using SinusoidalSignature = void(const Tensor& out, double base, int64_t position_offset, StreamHandle stream);
BENCHSUITE_OP(RopeOp, "rope", RopeSignature);
BENCHSUITE_OP(SinusoidalPositionsOp, "sinusoidal_positions", SinusoidalSignature);
BENCHSUITE_OP(RopeBackwardOp, "rope_backward", RopeSignature);

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

// -> [seq_len, dim] float32 (formula above).
Tensor sinusoidal_positions(int64_t seq_len, int64_t dim, double base = 10000.0, int64_t position_offset = 0,
                            Device device = {}, const std::string& impl = "");
// out [..., seq_len, dim] float32 (rank >= 2; float64 on the CPU reference), each leading
// index the same table.
void run_sinusoidal_positions(const OpVersion& v, const Tensor& out, double base, int64_t position_offset,
                              StreamHandle stream = nullptr);

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

}  // namespace ops

}  // namespace benchsuite
