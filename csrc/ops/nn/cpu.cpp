// CPU kernels of the nn ops: embedding forward/backward, cross-entropy forward/backward
// and RoPE. References accumulate in double one row at a time; the v2 kernels spread
// rows (or vocabulary rows, or tokens) over OpenMP threads and stay deterministic: no
// result depends on the thread count or on scheduling.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "ops/nn/nn.h"

namespace benchsuite::cpu {

namespace {
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
template <class T>
constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

bool parallel(int64_t rows, int64_t work) { return rows > 1 && work > (1 << 15); }

// Stable counting sort of token positions by id: the tokens of id v are
// order[start[v] .. start[v+1]), in increasing position. ids must lie in [0, vocab).
void group_by_id(const int64_t* ids, int64_t tokens, int64_t vocab, std::vector<int64_t>& start,
                 std::vector<int64_t>& order) {
  start.assign(static_cast<size_t>(vocab) + 1, 0);
  order.resize(static_cast<size_t>(tokens));
  for (int64_t t = 0; t < tokens; ++t) ++start[static_cast<size_t>(ids[t]) + 1];
  for (int64_t v = 0; v < vocab; ++v) start[v + 1] += start[v];
  std::vector<int64_t> next(start.begin(), start.end() - 1);
  for (int64_t t = 0; t < tokens; ++t) order[static_cast<size_t>(next[static_cast<size_t>(ids[t])]++)] = t;
}

bool target_ok(int64_t t, int64_t classes) { return t >= 0 && t < classes; }
}  // namespace

// ---- embedding ------------------------------------------------------------------------------
template <class T>
void embedding_reference(const T* weight, const int64_t* ids, T* out, int64_t tokens, int64_t dim) {
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t d = 0; d < dim; ++d) out[t * dim + d] = weight[ids[t] * dim + d];
}
template void embedding_reference(const float*, const int64_t*, float*, int64_t, int64_t);
template void embedding_reference(const double*, const int64_t*, double*, int64_t, int64_t);

void embedding_f32(const float* weight, const int64_t* ids, float* out, int64_t tokens, int64_t dim) {
  const size_t row_bytes = static_cast<size_t>(dim) * sizeof(float);
#pragma omp parallel for schedule(static) if (parallel(tokens, tokens * dim))
  for (int64_t t = 0; t < tokens; ++t) std::memcpy(out + t * dim, weight + ids[t] * dim, row_bytes);
}

template <class T>
void embedding_backward_reference(const T* dout, const int64_t* ids, T* dweight, int64_t tokens, int64_t vocab,
                                  int64_t dim) {
  std::vector<int64_t> start, order;
  group_by_id(ids, tokens, vocab, start, order);
  std::vector<double> acc(static_cast<size_t>(dim));
  for (int64_t v = 0; v < vocab; ++v) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t k = start[v]; k < start[v + 1]; ++k) {
      const T* row = dout + order[k] * dim;
      for (int64_t d = 0; d < dim; ++d) acc[d] += row[d];
    }
    for (int64_t d = 0; d < dim; ++d) dweight[v * dim + d] = static_cast<T>(acc[d]);
  }
}
template void embedding_backward_reference(const float*, const int64_t*, float*, int64_t, int64_t, int64_t);
template void embedding_backward_reference(const double*, const int64_t*, double*, int64_t, int64_t, int64_t);

void embedding_backward_f32(const float* dout, const int64_t* ids, float* dweight, int64_t tokens, int64_t vocab,
                            int64_t dim) {
  std::vector<int64_t> start, order;
  group_by_id(ids, tokens, vocab, start, order);
  // Each vocabulary row belongs to one thread and is summed in token order: no races and
  // the same bits for any thread count. Dynamic chunks balance heavily repeated ids.
#pragma omp parallel for schedule(dynamic, 64) if (parallel(vocab, (vocab + tokens) * dim))
  for (int64_t v = 0; v < vocab; ++v) {
    float* out = dweight + v * dim;
    std::memset(out, 0, static_cast<size_t>(dim) * sizeof(float));
    for (int64_t k = start[v]; k < start[v + 1]; ++k) {
      const float* row = dout + order[k] * dim;
#pragma omp simd
      for (int64_t d = 0; d < dim; ++d) out[d] += row[d];
    }
  }
}

// ---- cross-entropy ----------------------------------------------------------------------------
template <class T>
void cross_entropy_reference(const T* logits, const int64_t* targets, T* loss, T* row_loss, int64_t rows,
                             int64_t classes, int64_t ignore_index) {
  double total = 0;
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = targets[r];
    if (t == ignore_index) {
      row_loss[r] = T(0);
      continue;
    }
    ++count;
    if (!target_ok(t, classes)) {  // never read out of bounds; the op layer rejects these
      row_loss[r] = kNaN<T>;
      total = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const T* xr = logits + r * classes;
    double m = -std::numeric_limits<double>::infinity(), s = 0;
    for (int64_t c = 0; c < classes; ++c) m = std::max(m, static_cast<double>(xr[c]));
    for (int64_t c = 0; c < classes; ++c) s += std::exp(xr[c] - m);
    const double l = m + std::log(s) - xr[t];
    row_loss[r] = static_cast<T>(l);
    total += l;
  }
  loss[0] = count ? static_cast<T>(total / static_cast<double>(count)) : kNaN<T>;
}
template void cross_entropy_reference(const float*, const int64_t*, float*, float*, int64_t, int64_t, int64_t);
template void cross_entropy_reference(const double*, const int64_t*, double*, double*, int64_t, int64_t, int64_t);

void cross_entropy_f32(const float* logits, const int64_t* targets, float* loss, float* row_loss, int64_t rows,
                       int64_t classes, int64_t ignore_index) {
#pragma omp parallel for schedule(static) if (parallel(rows, rows * classes))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = targets[r];
    if (t == ignore_index || !target_ok(t, classes)) {
      row_loss[r] = t == ignore_index ? 0.0f : kNaNf;
      continue;
    }
    const float* xr = logits + r * classes;
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t c = 0; c < classes; ++c) m = std::max(m, xr[c]);
    double s = 0;  // float exps, double sum: 50k-class rows stay accurate
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < classes; ++c) s += std::exp(xr[c] - m);
    row_loss[r] = static_cast<float>(static_cast<double>(m) + std::log(s) - static_cast<double>(xr[t]));
  }
  // The mean in row order after the parallel part: deterministic for any thread count.
  double total = 0;
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] == ignore_index) continue;
    total += row_loss[r];
    ++count;
  }
  loss[0] = count ? static_cast<float>(total / static_cast<double>(count)) : kNaNf;
}

namespace {
int64_t count_kept(const int64_t* targets, int64_t rows, int64_t ignore_index) {
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) count += targets[r] != ignore_index;
  return count;
}

// A row whose target is ignore_index gets zero gradients, one whose target is out of range
// NaN (the op layer rejects those first); true when the row gr is thus done.
template <class T>
bool fill_row_without_target(T* gr, int64_t t, int64_t classes, int64_t ignore_index) {
  if (t != ignore_index && target_ok(t, classes)) return false;
  const T fill = t == ignore_index ? T(0) : kNaN<T>;
  for (int64_t c = 0; c < classes; ++c) gr[c] = fill;
  return true;
}
}  // namespace

template <class T>
void cross_entropy_backward_reference(const T* logits, const int64_t* targets, T* dlogits, int64_t rows,
                                      int64_t classes, int64_t ignore_index, double dloss) {
  const int64_t count = count_kept(targets, rows, ignore_index);
  const double scale = count ? dloss / static_cast<double>(count) : 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = targets[r];
    const T* xr = logits + r * classes;
    T* gr = dlogits + r * classes;
    if (fill_row_without_target(gr, t, classes, ignore_index)) continue;
    double m = -std::numeric_limits<double>::infinity(), s = 0;
    for (int64_t c = 0; c < classes; ++c) m = std::max(m, static_cast<double>(xr[c]));
    for (int64_t c = 0; c < classes; ++c) s += std::exp(xr[c] - m);
    for (int64_t c = 0; c < classes; ++c)
      gr[c] = static_cast<T>((std::exp(xr[c] - m) / s - (c == t ? 1.0 : 0.0)) * scale);
  }
}
template void cross_entropy_backward_reference(const float*, const int64_t*, float*, int64_t, int64_t, int64_t, double);
template void cross_entropy_backward_reference(const double*, const int64_t*, double*, int64_t, int64_t, int64_t,
                                               double);

void cross_entropy_backward_f32(const float* logits, const int64_t* targets, float* dlogits, int64_t rows,
                                int64_t classes, int64_t ignore_index, float dloss) {
  const int64_t count = count_kept(targets, rows, ignore_index);
  const float scale = count ? static_cast<float>(static_cast<double>(dloss) / static_cast<double>(count)) : 0.0f;
#pragma omp parallel for schedule(static) if (parallel(rows, rows * classes))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = targets[r];
    const float* xr = logits + r * classes;
    float* gr = dlogits + r * classes;
    if (fill_row_without_target(gr, t, classes, ignore_index)) continue;
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t c = 0; c < classes; ++c) m = std::max(m, xr[c]);
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < classes; ++c) s += std::exp(xr[c] - m);
    const float k = static_cast<float>(static_cast<double>(scale) / s);
#pragma omp simd
    for (int64_t c = 0; c < classes; ++c) gr[c] = std::exp(xr[c] - m) * k;
    gr[t] -= scale;
  }
}

// ---- RoPE ---------------------------------------------------------------------------------------
template <class T>
void rope_reference(const T* x, T* y, int64_t batch, int64_t seq_len, int64_t heads, int64_t head_dim, double base,
                    int64_t position_offset, bool inverse) {
  const int64_t half = head_dim / 2;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < seq_len; ++t)
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t row = ((b * seq_len + t) * heads + h) * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const double inv_freq = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
          const double angle = static_cast<double>(t + position_offset) * inv_freq;
          const double c = std::cos(angle), s = inverse ? -std::sin(angle) : std::sin(angle);
          const double x1 = x[row + i], x2 = x[row + i + half];
          y[row + i] = static_cast<T>(x1 * c - x2 * s);
          y[row + i + half] = static_cast<T>(x2 * c + x1 * s);
        }
      }
}
template void rope_reference(const float*, float*, int64_t, int64_t, int64_t, int64_t, double, int64_t, bool);
template void rope_reference(const double*, double*, int64_t, int64_t, int64_t, int64_t, double, int64_t, bool);

void rope_f32(const float* x, float* y, int64_t batch, int64_t seq_len, int64_t heads, int64_t head_dim, double base,
              int64_t position_offset, bool inverse) {
  const int64_t half = head_dim / 2, tokens = batch * seq_len;
  // cos/sin per (position, frequency), computed in double and rounded once.
  std::vector<float> cos_t(static_cast<size_t>(seq_len * half)), sin_t(cos_t.size());
#pragma omp parallel for schedule(static) if (parallel(seq_len, seq_len * half * 32))
  for (int64_t t = 0; t < seq_len; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double inv_freq = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
      const double angle = static_cast<double>(t + position_offset) * inv_freq;
      cos_t[t * half + i] = static_cast<float>(std::cos(angle));
      sin_t[t * half + i] = static_cast<float>(inverse ? -std::sin(angle) : std::sin(angle));
    }
#pragma omp parallel for schedule(static) if (parallel(tokens, tokens * heads * head_dim))
  for (int64_t tok = 0; tok < tokens; ++tok) {
    const float* ct = cos_t.data() + (tok % seq_len) * half;
    const float* st = sin_t.data() + (tok % seq_len) * half;
    for (int64_t h = 0; h < heads; ++h) {
      const float* xr = x + (tok * heads + h) * head_dim;
      float* yr = y + (tok * heads + h) * head_dim;
#pragma omp simd
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = xr[i], x2 = xr[i + half];
        yr[i] = x1 * ct[i] - x2 * st[i];
        yr[i + half] = x2 * ct[i] + x1 * st[i];
      }
    }
  }
}

template <class T>
void sinusoidal_positions_reference(T* out, int64_t repeats, int64_t seq_len, int64_t dim, double base,
                                    int64_t position_offset) {
  for (int64_t s = 0; s < seq_len; ++s)
    for (int64_t j = 0; j < dim; ++j) {
      const double angle = static_cast<double>(s + position_offset) *
                           std::pow(base, -static_cast<double>(2 * (j / 2)) / static_cast<double>(dim));
      out[s * dim + j] = static_cast<T>(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  for (int64_t r = 1; r < repeats; ++r)
    std::copy(out, out + seq_len * dim, out + r * seq_len * dim);
}
template void sinusoidal_positions_reference(float*, int64_t, int64_t, int64_t, double, int64_t);
template void sinusoidal_positions_reference(double*, int64_t, int64_t, int64_t, double, int64_t);

}  // namespace benchsuite::cpu
