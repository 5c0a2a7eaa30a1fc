// The mixture-of-experts family: top-k routing and the sparse dispatch around grouped GEMMs
// (MegaBlocks' layout). With T tokens of width H, E experts and k experts per token:
//   topk_gate:  logits [T, E] -> weights [T, k] = softmax over the k largest logits (Mixtral's
//               softmax, top-k, renormalise), indices [T, k] (descending logit, lower index on
//               ties); its backward gives dlogits (zero outside the chosen k).
//   moe_permute: x [T, H] -> xs [T*k, H], the (token, slot) assignments grouped by expert
//               (token order within an expert), order [T*k] (assignment t*k + j of each row)
//               and offsets [E + 1] (expert e's rows are offsets[e] .. offsets[e+1]).
//   grouped_matmul: xs [N, K] -> ys [N, M], rows of expert e times W[e] (W [E, K, M]); the
//               weight gradient dW[e] = xs_e^T dys_e (or its transpose, W's [E, M, K] layout).
//   moe_unpermute: ys [T*k, H] -> out [T, H] = sum over j of weights[t, j] * ys[row of (t, j)];
//               its backward gives dys and dweights.
// Every expert sees only its tokens: the FLOPs are T*k rows, not T*E.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/tensor.h"
#include "ops/dispatch.h"
#include "ops/registry.h"

namespace benchsuite {

// T = float or double (the references: double math, float32 or float64 storage; the
// blocked kernel is float32 only) / int64 (indices, order, offsets), contiguous.
namespace cpu {
template <class T>
void topk_gate_reference(const T* logits, T* weights, int64_t* indices, int64_t tokens, int64_t experts, int64_t k);
template <class T>
void topk_gate_backward_reference(const T* dweights, const T* weights, const int64_t* indices, T* dlogits,
                                  int64_t tokens, int64_t experts, int64_t k);
template <class T>
void moe_permute_reference(const T* x, const int64_t* indices, T* xs, int64_t* order, int64_t* offsets,
                           int64_t tokens, int64_t width, int64_t experts, int64_t k);
template <class T>
void moe_permute_backward_reference(const T* dxs, const int64_t* order, T* dx, int64_t tokens, int64_t width,
                                    int64_t k);
// ys = xs W[e] per expert segment; w [E, K, M].
template <class T>
void grouped_matmul_reference(const T* xs, const int64_t* offsets, const T* w, T* ys, int64_t experts, int64_t kdim,
                              int64_t mdim);  // double sums
void grouped_matmul_blocked(const float* xs, const int64_t* offsets, const float* w, float* ys, int64_t experts,
                            int64_t kdim, int64_t mdim);    // the blocked GEMM per segment
// dw [E, K, M] = xs_e^T dys_e, or [E, M, K] (its transpose) when out_in.
template <class T>
void grouped_matmul_weight_grad_reference(const T* xs, const T* dys, const int64_t* offsets, T* dw, int64_t experts,
                                          int64_t kdim, int64_t mdim, bool out_in);
template <class T>
void moe_unpermute_reference(const T* ys, const int64_t* order, const T* weights, T* out, int64_t tokens,
                             int64_t width, int64_t k);
template <class T>
void moe_unpermute_backward_reference(const T* dout, const T* ys, const int64_t* order, const T* weights, T* dys,
                                      T* dweights, int64_t tokens, int64_t width, int64_t k);
}  // namespace cpu

// Device pointers, float32 / int64, contiguous; the same arrays as the CPU references.
// row_of: an int64 [tokens * k] workspace (the inverse of order). rows: the N rows of xs.
namespace cuda {
void topk_gate_f32(const float* logits, float* weights, int64_t* indices, int64_t tokens, int64_t experts, int64_t k,
                   StreamHandle stream);
void topk_gate_backward_f32(const float* dweights, const float* weights, const int64_t* indices, float* dlogits,
                            int64_t tokens, int64_t experts, int64_t k, StreamHandle stream);
void moe_permute_f32(const float* x, const int64_t* indices, float* xs, int64_t* order, int64_t* offsets,
                     int64_t tokens, int64_t width, int64_t experts, int64_t k, StreamHandle stream);
void moe_permute_backward_f32(const float* dxs, const int64_t* order, int64_t* row_of, float* dx, int64_t tokens,
                              int64_t width, int64_t k, StreamHandle stream);
// offsets are read on the device (moe_permute leaves them there).
void grouped_matmul_f32(const float* xs, const int64_t* offsets, const float* w, float* ys, int64_t rows,
                        int64_t experts, int64_t kdim, int64_t mdim, StreamHandle stream);
void grouped_matmul_weight_grad_f32(const float* xs, const float* dys, const int64_t* offsets, float* dw,
                                    int64_t rows, int64_t experts, int64_t kdim, int64_t mdim, bool out_in,
                                    StreamHandle stream);
void moe_unpermute_f32(const float* ys, const int64_t* order, const float* weights, int64_t* row_of, float* out,
                       int64_t tokens, int64_t width, int64_t k, StreamHandle stream);
void moe_unpermute_backward_f32(const float* dout, const float* ys, const int64_t* order, const float* weights,
                                float* dys, float* dweights, int64_t tokens, int64_t width, int64_t k,
                                StreamHandle stream);
}  // namespace cuda

namespace ops {
// topk_gate (logits, k, weights, indices); topk_gate_backward (dweights, weights, indices, dlogits)
using TopkGateSignature = void(const Tensor& logits, int64_t k, const Tensor& weights, const Tensor& indices,
                               StreamHandle stream);
using TopkGateBackwardSignature = void(const Tensor& dweights, const Tensor& weights, const Tensor& indices,
                                       const Tensor& dlogits, StreamHandle stream);
using MoePermuteSignature = void(const Tensor& x, const Tensor& indices, const Tensor& xs, const Tensor& order,
                                 const Tensor& offsets, StreamHandle stream);
using MoePermuteBackwardSignature = void(const Tensor& dxs, const Tensor& order, const Tensor& dx, StreamHandle stream);
using GroupedMatmulSignature = void(const Tensor& xs, const Tensor& offsets, const Tensor& w, const Tensor& ys,
                                    StreamHandle stream);
using GroupedWeightGradSignature = void(const Tensor& xs, const Tensor& dys, const Tensor& offsets, bool out_in,
                                        const Tensor& dw, StreamHandle stream);
using MoeUnpermuteSignature = void(const Tensor& ys, const Tensor& order, const Tensor& weights, const Tensor& out,
                                   StreamHandle stream);
using MoeUnpermuteBackwardSignature = void(const Tensor& dout, const Tensor& ys, const Tensor& order,
                                           const Tensor& weights, const Tensor& dys, const Tensor& dweights,
                                           StreamHandle stream);
BENCHSUITE_OP(TopkGateOp, "topk_gate", TopkGateSignature);
BENCHSUITE_OP(TopkGateBackwardOp, "topk_gate_backward", TopkGateBackwardSignature);
BENCHSUITE_OP(MoePermuteOp, "moe_permute", MoePermuteSignature);
BENCHSUITE_OP(MoePermuteBackwardOp, "moe_permute_backward", MoePermuteBackwardSignature);
BENCHSUITE_OP(GroupedMatmulOp, "grouped_matmul", GroupedMatmulSignature);
BENCHSUITE_OP(GroupedWeightGradOp, "grouped_matmul_weight_grad", GroupedWeightGradSignature);
BENCHSUITE_OP(MoeUnpermuteOp, "moe_unpermute", MoeUnpermuteSignature);
BENCHSUITE_OP(MoeUnpermuteBackwardOp, "moe_unpermute_backward", MoeUnpermuteBackwardSignature);

// Runs version v of Op on `stream` with the first tensor's device made current (the node
// kinds have validated the shapes at inference).
template <class Op, class... Args>
void run_moe(const OpVersion& v, StreamHandle stream, const Tensor& first, Args&&... args) {
  make_current(first);
  v.fn<typename Op::Signature>()(first, std::forward<Args>(args)..., stream);
}

// Python-facing ops (validated): {weights, indices}; {xs, order, offsets}; ys; out.
std::vector<Tensor> topk_gate(const Tensor& logits, int64_t k, const std::string& impl = "");
std::vector<Tensor> moe_permute(const Tensor& x, const Tensor& indices, int64_t experts, const std::string& impl = "");
Tensor grouped_matmul(const Tensor& xs, const Tensor& offsets, const Tensor& w, const std::string& impl = "");
Tensor moe_unpermute(const Tensor& ys, const Tensor& order, const Tensor& weights, const std::string& impl = "");
void check_offsets(const Tensor& offsets, int64_t experts, int64_t rows);
// The backwards, validated: dlogits [T, experts]; dx [tokens, H]; dW [E, M, K] (out_in) or
// [E, K, M]; {dys, dweights}.
Tensor topk_gate_backward(const Tensor& dweights, const Tensor& weights, const Tensor& indices, int64_t experts,
                          const std::string& impl = "");
Tensor moe_permute_backward(const Tensor& dxs, const Tensor& order, int64_t tokens, const std::string& impl = "");
Tensor grouped_matmul_weight_grad(const Tensor& xs, const Tensor& dys, const Tensor& offsets, bool out_in,
                                  const std::string& impl = "");
std::vector<Tensor> moe_unpermute_backward(const Tensor& dout, const Tensor& ys, const Tensor& order,
                                           const Tensor& weights, const std::string& impl = "");
}  // namespace ops

}  // namespace benchsuite
