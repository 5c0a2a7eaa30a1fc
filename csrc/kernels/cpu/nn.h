// Plain C++ kernels of the nn ops: embedding lookup and its backward, fused
// softmax + NLL cross-entropy and its backward, rotary position embedding (RoPE).
// The *_reference versions are the yardsticks (double math); the others use OpenMP.
// Kernels never validate: ids and targets are checked by the op layer (ops/nn.cpp).
#pragma once
#include <cstdint>

namespace benchsuite::cpu {

// ---- embedding: out[t, :] = weight[ids[t], :] -------------------------------------------
// weight [vocab, dim], ids [tokens] (each in [0, vocab)), out [tokens, dim]
void embedding_reference(const float* weight, const int64_t* ids, float* out, int64_t tokens, int64_t dim);
void embedding_f32(const float* weight, const int64_t* ids, float* out, int64_t tokens, int64_t dim);  // OpenMP rows
// dweight[v, :] = sum of dout[t, :] over the t with ids[t] == v (zero for unused rows).
// dout [tokens, dim], dweight [vocab, dim]. Both versions are deterministic: rows are
// grouped by id (stable counting sort) and each group is summed in token order.
void embedding_backward_reference(const float* dout, const int64_t* ids, float* dweight, int64_t tokens, int64_t vocab,
                                  int64_t dim);  // double sums, one vocabulary row at a time
void embedding_backward_f32(const float* dout, const int64_t* ids, float* dweight, int64_t tokens, int64_t vocab,
                            int64_t dim);        // float sums, vocabulary rows over OpenMP threads

// ---- cross-entropy: loss_r = logsumexp(logits[r, :]) - logits[r, targets[r]] ----------------
// logits [rows, classes], targets [rows] (in [0, classes) or == ignore_index),
// row_loss [rows] (0 for ignored rows), loss [1] = sum(row_loss) / (rows not ignored)
// (NaN when every row is ignored, as in PyTorch).
void cross_entropy_reference(const float* logits, const int64_t* targets, float* loss, float* row_loss, int64_t rows,
                             int64_t classes, int64_t ignore_index);  // double
void cross_entropy_f32(const float* logits, const int64_t* targets, float* loss, float* row_loss, int64_t rows,
                       int64_t classes, int64_t ignore_index);  // rows over OpenMP; exp sums in double
// dlogits[r, c] = (softmax(logits[r])[c] - (c == targets[r])) * dloss / (rows not ignored);
// ignored rows get zeros. logits, dlogits [rows, classes].
void cross_entropy_backward_reference(const float* logits, const int64_t* targets, float* dlogits, int64_t rows,
                                      int64_t classes, int64_t ignore_index, float dloss);
void cross_entropy_backward_f32(const float* logits, const int64_t* targets, float* dlogits, int64_t rows,
                                int64_t classes, int64_t ignore_index, float dloss);

// ---- RoPE, GPT-NeoX "rotate half" form (formula in ops/nn.h) -------------------------------
// x, y [batch, seq_len, heads, head_dim], head_dim even. inverse: rotate by -angle (the
// backward: dx from dy).
void rope_reference(const float* x, float* y, int64_t batch, int64_t seq_len, int64_t heads, int64_t head_dim,
                    double base, int64_t position_offset, bool inverse);  // cos/sin in double per element
void rope_f32(const float* x, float* y, int64_t batch, int64_t seq_len, int64_t heads, int64_t head_dim, double base,
              int64_t position_offset, bool inverse);  // cos/sin table [seq_len, head_dim/2], OpenMP tokens

}  // namespace benchsuite::cpu
