// CPU kernels of the mixture-of-experts family (formulas in moe.h): references in plain
// loops (float32 or float64 storage, double math), and the grouped GEMM through the blocked
// GEMM per expert segment.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "ops/matmul/matmul.h"
#include "ops/moe/moe.h"

namespace benchsuite::cpu {

template <class T>
void topk_gate_reference(const T* logits, T* weights, int64_t* indices, int64_t tokens, int64_t experts,
                         int64_t k) {
  std::vector<int64_t> order(static_cast<size_t>(experts));
  for (int64_t t = 0; t < tokens; ++t) {
    const T* row = logits + t * experts;
    std::iota(order.begin(), order.end(), 0);
    // Descending logit, the lower index first on ties (torch.topk's order on CPU).
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    const double top = row[order[0]];
    double total = 0;
    for (int64_t j = 0; j < k; ++j) total += std::exp(static_cast<double>(row[order[j]]) - top);
    for (int64_t j = 0; j < k; ++j) {
      indices[t * k + j] = order[j];
      weights[t * k + j] = static_cast<T>(std::exp(static_cast<double>(row[order[j]]) - top) / total);
    }
  }
}

template <class T>
void topk_gate_backward_reference(const T* dweights, const T* weights, const int64_t* indices, T* dlogits,
                                  int64_t tokens, int64_t experts, int64_t k) {
  std::fill(dlogits, dlogits + tokens * experts, T(0));
  for (int64_t t = 0; t < tokens; ++t) {
    double dot = 0;  // softmax backward over the chosen k: w_j (g_j - sum_i w_i g_i)
    for (int64_t j = 0; j < k; ++j) dot += static_cast<double>(weights[t * k + j]) * dweights[t * k + j];
    for (int64_t j = 0; j < k; ++j)
      dlogits[t * experts + indices[t * k + j]] =
          static_cast<T>(static_cast<double>(weights[t * k + j]) * (dweights[t * k + j] - dot));
  }
}

template <class T>
void moe_permute_reference(const T* x, const int64_t* indices, T* xs, int64_t* order, int64_t* offsets,
                           int64_t tokens, int64_t width, int64_t experts, int64_t k) {
  // A stable counting sort of the assignments by expert.
  std::fill(offsets, offsets + experts + 1, 0);
  for (int64_t a = 0; a < tokens * k; ++a) ++offsets[indices[a] + 1];
  for (int64_t e = 0; e < experts; ++e) offsets[e + 1] += offsets[e];
  std::vector<int64_t> next(offsets, offsets + experts);
  for (int64_t a = 0; a < tokens * k; ++a) {
    const int64_t row = next[indices[a]]++;
    order[row] = a;
    std::copy_n(x + (a / k) * width, width, xs + row * width);
  }
}

template <class T>
void moe_permute_backward_reference(const T* dxs, const int64_t* order, T* dx, int64_t tokens, int64_t width,
                                    int64_t k) {
  std::vector<double> acc(static_cast<size_t>(tokens * width), 0.0);
  for (int64_t row = 0; row < tokens * k; ++row)
    for (int64_t c = 0; c < width; ++c) acc[(order[row] / k) * width + c] += dxs[row * width + c];
  for (int64_t i = 0; i < tokens * width; ++i) dx[i] = static_cast<T>(acc[i]);
}

template <class T>
void grouped_matmul_reference(const T* xs, const int64_t* offsets, const T* w, T* ys, int64_t experts,
                              int64_t kdim, int64_t mdim) {
  for (int64_t e = 0; e < experts; ++e)
    for (int64_t r = offsets[e]; r < offsets[e + 1]; ++r)
      for (int64_t m = 0; m < mdim; ++m) {
        double sum = 0;
        for (int64_t q = 0; q < kdim; ++q)
          sum += static_cast<double>(xs[r * kdim + q]) * w[(e * kdim + q) * mdim + m];
        ys[r * mdim + m] = static_cast<T>(sum);
      }
}

void grouped_matmul_blocked(const float* xs, const int64_t* offsets, const float* w, float* ys, int64_t experts,
                            int64_t kdim, int64_t mdim) {
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t rows = offsets[e + 1] - offsets[e];
    if (rows > 0)
      matmul_f32_blocked(xs + offsets[e] * kdim, w + e * kdim * mdim, ys + offsets[e] * mdim, rows, mdim, kdim);
  }
}

template <class T>
void grouped_matmul_weight_grad_reference(const T* xs, const T* dys, const int64_t* offsets, T* dw,
                                          int64_t experts, int64_t kdim, int64_t mdim, bool out_in) {
  for (int64_t e = 0; e < experts; ++e)
    for (int64_t q = 0; q < kdim; ++q)
      for (int64_t m = 0; m < mdim; ++m) {
        double sum = 0;
        for (int64_t r = offsets[e]; r < offsets[e + 1]; ++r)
          sum += static_cast<double>(xs[r * kdim + q]) * dys[r * mdim + m];
        dw[out_in ? (e * mdim + m) * kdim + q : (e * kdim + q) * mdim + m] = static_cast<T>(sum);
      }
}

template <class T>
void moe_unpermute_reference(const T* ys, const int64_t* order, const T* weights, T* out, int64_t tokens,
                             int64_t width, int64_t k) {
  std::vector<int64_t> row_of(static_cast<size_t>(tokens * k));
  for (int64_t row = 0; row < tokens * k; ++row) row_of[order[row]] = row;
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < width; ++c) {
      double sum = 0;  // the token's k contributions in slot order
      for (int64_t j = 0; j < k; ++j) sum += static_cast<double>(weights[t * k + j]) * ys[row_of[t * k + j] * width + c];
      out[t * width + c] = static_cast<T>(sum);
    }
}

template <class T>
void moe_unpermute_backward_reference(const T* dout, const T* ys, const int64_t* order, const T* weights,
                                      T* dys, T* dweights, int64_t tokens, int64_t width, int64_t k) {
  for (int64_t row = 0; row < tokens * k; ++row) {
    const int64_t a = order[row], t = a / k;
    double dot = 0;
    for (int64_t c = 0; c < width; ++c) {
      dys[row * width + c] = static_cast<T>(static_cast<double>(weights[a]) * dout[t * width + c]);
      dot += static_cast<double>(dout[t * width + c]) * ys[row * width + c];
    }
    dweights[a] = static_cast<T>(dot);
  }
}

// The references on float32 and float64 storage (the math is double either way).
#define BENCHSUITE_MOE_REFERENCES(T)                                                                                 \
  template void topk_gate_reference(const T*, T*, int64_t*, int64_t, int64_t, int64_t);                            \
  template void topk_gate_backward_reference(const T*, const T*, const int64_t*, T*, int64_t, int64_t, int64_t);   \
  template void moe_permute_reference(const T*, const int64_t*, T*, int64_t*, int64_t*, int64_t, int64_t, int64_t, \
                                      int64_t);                                                                    \
  template void moe_permute_backward_reference(const T*, const int64_t*, T*, int64_t, int64_t, int64_t);          \
  template void grouped_matmul_reference(const T*, const int64_t*, const T*, T*, int64_t, int64_t, int64_t);      \
  template void grouped_matmul_weight_grad_reference(const T*, const T*, const int64_t*, T*, int64_t, int64_t,    \
                                                     int64_t, bool);                                               \
  template void moe_unpermute_reference(const T*, const int64_t*, const T*, T*, int64_t, int64_t, int64_t);       \
  template void moe_unpermute_backward_reference(const T*, const T*, const int64_t*, const T*, T*, T*, int64_t,   \
                                                 int64_t, int64_t);
BENCHSUITE_MOE_REFERENCES(float)
BENCHSUITE_MOE_REFERENCES(double)
#undef BENCHSUITE_MOE_REFERENCES

}  // namespace benchsuite::cpu
