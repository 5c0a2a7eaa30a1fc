// CPU kernels of scaled dot-product attention (formulas in ops/attention/attention.h).
// References: one (b, h) at a time with an S x S double buffer. v2: flash-style blocks of
// 64 queries x 64 keys with an online softmax; results never depend on the thread count.
#include "ops/attention/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/fast_math.h"
#include "core/tensor.h"

namespace benchsuite::cpu {

namespace {
constexpr int64_t kBlock = 64;
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr float kNegInfF = -std::numeric_limits<float>::infinity();

// Keys query i may see: [0, S) or [0, i] when causal.
inline int64_t key_end(int64_t i, int64_t seq_len, bool causal) { return causal ? i + 1 : seq_len; }

inline float dot(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t d = 0; d < n; ++d) s += a[d] * b[d];
  return s;
}
}  // namespace

// ---- reference -------------------------------------------------------------------------------
template <class T>
void attention_forward_reference(const T* q, const T* k, const T* v, T* o, T* lse, int64_t bh, int64_t seq_len,
                                 int64_t head_dim, float scale, bool causal) {
  const int64_t S = seq_len, D = head_dim;
  std::vector<double> p(static_cast<size_t>(checked_numel({S, S})));  // S x S scores: S may be huge
  for (int64_t b = 0; b < bh; ++b) {
    const T *qb = q + b * S * D, *kb = k + b * S * D, *vb = v + b * S * D;
    for (int64_t i = 0; i < S; ++i) {
      double* row = p.data() + i * S;
      double m = kNegInf;
      for (int64_t j = 0; j < S; ++j) {
        if (j >= key_end(i, S, causal)) {
          row[j] = kNegInf;
          continue;
        }
        double s = 0;
        for (int64_t d = 0; d < D; ++d) s += static_cast<double>(qb[i * D + d]) * kb[j * D + d];
        row[j] = s * scale;
        m = std::max(m, row[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < S; ++j) {
        row[j] = row[j] == kNegInf ? 0.0 : std::exp(row[j] - m);
        sum += row[j];
      }
      for (int64_t j = 0; j < S; ++j) row[j] /= sum;
      lse[b * S + i] = static_cast<T>(m + std::log(sum));
      // Only the keys query i sees: a masked key's value (NaN, inf) must not reach it as 0 * v.
      const int64_t jend = key_end(i, S, causal);
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < jend; ++j) acc += row[j] * vb[j * D + d];
        o[(b * S + i) * D + d] = static_cast<T>(acc);
      }
    }
  }
}

template <class T>
void attention_backward_reference(const T* dout, const T* q, const T* k, const T* v, const T* o, const T* lse, T* dq,
                                  T* dk, T* dv, int64_t bh, int64_t seq_len, int64_t head_dim, float scale,
                                  bool causal) {
  const int64_t S = seq_len, D = head_dim;
  const size_t scores = static_cast<size_t>(checked_numel({S, S}));  // S x S: S may be huge
  std::vector<double> p(scores), ds(scores), dr(static_cast<size_t>(S));
  for (int64_t b = 0; b < bh; ++b) {
    const int64_t off = b * S * D;
    const T *qb = q + off, *kb = k + off, *vb = v + off, *ob = o + off, *gb = dout + off;
    for (int64_t i = 0; i < S; ++i) {
      double r = 0;
      for (int64_t d = 0; d < D; ++d) r += static_cast<double>(gb[i * D + d]) * ob[i * D + d];
      dr[i] = r;
      for (int64_t j = 0; j < S; ++j) {
        double pij = 0, dsij = 0;
        if (j < key_end(i, S, causal)) {
          double s = 0, dp = 0;
          for (int64_t d = 0; d < D; ++d) {
            s += static_cast<double>(qb[i * D + d]) * kb[j * D + d];
            dp += static_cast<double>(gb[i * D + d]) * vb[j * D + d];
          }
          pij = std::exp(s * scale - lse[b * S + i]);
          dsij = pij * (dp - r);
        }
        p[i * S + j] = pij;
        ds[i * S + j] = dsij;
      }
    }
    // Sums over visible (i, j) pairs only, as the forward: masked keys contribute nothing.
    for (int64_t i = 0; i < S; ++i)
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < key_end(i, S, causal); ++j) acc += ds[i * S + j] * kb[j * D + d];
        dq[off + i * D + d] = static_cast<T>(acc * scale);
      }
    for (int64_t j = 0; j < S; ++j)
      for (int64_t d = 0; d < D; ++d) {
        double acc_k = 0, acc_v = 0;
        for (int64_t i = causal ? j : 0; i < S; ++i) {
          acc_k += ds[i * S + j] * qb[i * D + d];
          acc_v += p[i * S + j] * gb[i * D + d];
        }
        dk[off + j * D + d] = static_cast<T>(acc_k * scale);
        dv[off + j * D + d] = static_cast<T>(acc_v);
      }
  }
}

template void attention_forward_reference(const float*, const float*, const float*, float*, float*, int64_t, int64_t,
                                          int64_t, float, bool);
template void attention_forward_reference(const double*, const double*, const double*, double*, double*, int64_t,
                                          int64_t, int64_t, float, bool);
template void attention_backward_reference(const float*, const float*, const float*, const float*, const float*,
                                           const float*, float*, float*, float*, int64_t, int64_t, int64_t, float,
                                           bool);
template void attention_backward_reference(const double*, const double*, const double*, const double*, const double*,
                                           const double*, double*, double*, double*, int64_t, int64_t, int64_t, float,
                                           bool);

// ---- v2: flash-style blocks ------------------------------------------------------------------
void attention_forward_f32(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                           int64_t seq_len, int64_t head_dim, float scale, bool causal) {
  const int64_t S = seq_len, D = head_dim;
  const int64_t qblocks = (S + kBlock - 1) / kBlock;
  const int64_t tasks = bh * qblocks;
#pragma omp parallel
  {
    std::vector<float> acc(static_cast<size_t>(kBlock * D)), s(static_cast<size_t>(kBlock * kBlock));
    float m[kBlock], l[kBlock];
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t b = t / qblocks, i0 = (t % qblocks) * kBlock, ni = std::min(kBlock, S - i0);
      const float *qb = q + b * S * D, *kb = k + b * S * D, *vb = v + b * S * D;
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(m, m + kBlock, kNegInfF);
      std::fill(l, l + kBlock, 0.0f);
      // Causal: key blocks past the last query of this block are all masked.
      const int64_t kend = causal ? i0 + ni : S;
      for (int64_t j0 = 0; j0 < kend; j0 += kBlock) {
        const int64_t nj = std::min(kBlock, kend - j0);
        for (int64_t ii = 0; ii < ni; ++ii) {
          const int64_t i = i0 + ii, jmax = std::min(nj, key_end(i, S, causal) - j0);  // valid keys in block
          if (jmax <= 0) continue;
          float* srow = s.data() + ii * kBlock;
          float bmax = kNegInfF;
          for (int64_t jj = 0; jj < jmax; ++jj) {
            srow[jj] = dot(qb + i * D, kb + (j0 + jj) * D, D) * scale;
            bmax = std::max(bmax, srow[jj]);
          }
          const float m_new = std::max(m[ii], bmax);
          const float alpha = std::exp(m[ii] - m_new);  // 0 on the first block (m = -inf)
          float* a = acc.data() + ii * D;
          float sum = 0.0f;
          for (int64_t d = 0; d < D; ++d) a[d] *= alpha;
          for (int64_t jj = 0; jj < jmax; ++jj) {
            const float pj = std::exp(srow[jj] - m_new);
            sum += pj;
            const float* vr = vb + (j0 + jj) * D;
            for (int64_t d = 0; d < D; ++d) a[d] += pj * vr[d];
          }
          l[ii] = l[ii] * alpha + sum;
          m[ii] = m_new;
        }
      }
      for (int64_t ii = 0; ii < ni; ++ii) {
        const int64_t i = i0 + ii;
        const float inv = 1.0f / l[ii];
        for (int64_t d = 0; d < D; ++d) o[(b * S + i) * D + d] = acc[ii * D + d] * inv;
        lse[b * S + i] = m[ii] + std::log(l[ii]);
      }
    }
  }
}

void attention_backward_f32(const float* dout, const float* q, const float* k, const float* v, const float* o,
                            const float* lse, float* dq, float* dk, float* dv, int64_t bh, int64_t seq_len,
                            int64_t head_dim, float scale, bool causal) {
  const int64_t S = seq_len, D = head_dim;
#pragma omp parallel
  {
    std::vector<float> dr(static_cast<size_t>(S));
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < bh; ++b) {
      const int64_t off = b * S * D;
      const float *qb = q + off, *kb = k + off, *vb = v + off, *ob = o + off, *gb = dout + off, *lb = lse + b * S;
      float *dqb = dq + off, *dkb = dk + off, *dvb = dv + off;
      std::fill(dqb, dqb + S * D, 0.0f);
      std::fill(dkb, dkb + S * D, 0.0f);
      std::fill(dvb, dvb + S * D, 0.0f);
      for (int64_t i = 0; i < S; ++i) dr[i] = dot(gb + i * D, ob + i * D, D);
      for (int64_t i0 = 0; i0 < S; i0 += kBlock) {
        const int64_t iend = std::min(S, i0 + kBlock);
        const int64_t kend = causal ? iend : S;
        for (int64_t j0 = 0; j0 < kend; j0 += kBlock) {
          const int64_t jend = std::min(kend, j0 + kBlock);
          for (int64_t i = i0; i < iend; ++i) {
            const int64_t je = std::min(jend, key_end(i, S, causal));
            const float *qi = qb + i * D, *gi = gb + i * D;
            float* dqi = dqb + i * D;
            for (int64_t j = j0; j < je; ++j) {
              const float p = std::exp(dot(qi, kb + j * D, D) * scale - lb[i]);
              const float ds = p * (dot(gi, vb + j * D, D) - dr[i]) * scale;
              const float* kj = kb + j * D;
              float *dkj = dkb + j * D, *dvj = dvb + j * D;
              for (int64_t d = 0; d < D; ++d) {
                dvj[d] += p * gi[d];
                dqi[d] += ds * kj[d];
                dkj[d] += ds * qi[d];
              }
            }
          }
        }
      }
    }
  }
}

// ---- attention_kv ---------------------------------------------------------------------------------
namespace {
// Whether query i (absolute position pos) of batch row b sees key j.
inline bool visible(const float* key_mask, int64_t b, int64_t cap, int64_t j, int64_t pos,
                    const AttentionKvParams& p) {
  if (p.causal && j > pos) return false;
  if (p.window > 0 && j <= pos - p.window) return false;
  return key_mask == nullptr || key_mask[b * cap + j] != 0.0f;
}
}  // namespace

template <class T>
void attention_kv_reference(const T* q, const T* k, const T* v, const float* key_mask, T* o, const AttentionKvShape& s,
                            const AttentionKvParams& p) {
  const int64_t D = s.head_dim, group = s.q_heads / s.kv_heads;
  std::vector<double> scores(static_cast<size_t>(std::max<int64_t>(p.kv_len, 1)));
  std::vector<double> acc(static_cast<size_t>(D));
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.q_heads; ++h) {
      const int64_t kvh = b * s.kv_heads + h / group;
      const T *kb = k + kvh * s.kv_cap * D, *vb = v + kvh * s.kv_cap * D;
      for (int64_t i = 0; i < s.q_len; ++i) {
        const T* qi = q + ((b * s.q_heads + h) * s.q_len + i) * D;
        T* oi = o + ((b * s.q_heads + h) * s.q_len + i) * D;
        const int64_t pos = p.q_offset + i;
        double m = kNegInf;
        for (int64_t j = 0; j < p.kv_len; ++j) {
          if (!visible(key_mask, b, s.kv_cap, j, pos, p)) {
            scores[j] = kNegInf;
            continue;
          }
          double dot_ij = 0;
          for (int64_t d = 0; d < D; ++d) dot_ij += static_cast<double>(qi[d]) * kb[j * D + d];
          scores[j] = dot_ij * p.scale;
          m = std::max(m, scores[j]);
        }
        std::fill(acc.begin(), acc.end(), 0.0);
        double total = 0;
        if (m != kNegInf)
          for (int64_t j = 0; j < p.kv_len; ++j) {
            if (scores[j] == kNegInf) continue;
            const double e = std::exp(scores[j] - m);
            total += e;
            for (int64_t d = 0; d < D; ++d) acc[d] += e * vb[j * D + d];
          }
        for (int64_t d = 0; d < D; ++d) oi[d] = total > 0 ? static_cast<T>(acc[d] / total) : T(0);
      }
    }
}

void attention_kv_f32(const float* q, const float* k, const float* v, const float* key_mask, float* o,
                      const AttentionKvShape& s, const AttentionKvParams& p) {
  using namespace fast_math;
  const int64_t D = s.head_dim, group = s.q_heads / s.kv_heads, rows = s.batch * s.q_heads * s.q_len;
#pragma omp parallel
  {
    // Per query row: the visible keys' scores in one buffer (vectorised dots), one vector exp
    // pass, then P V as scaled row additions, so every inner loop runs on 8-float vectors.
    std::vector<float> acc(static_cast<size_t>(D)), scores(static_cast<size_t>(std::max<int64_t>(p.kv_len, 1)) + 8);
    std::vector<int64_t> keys(static_cast<size_t>(std::max<int64_t>(p.kv_len, 1)));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r % s.q_len, bh = r / s.q_len, b = bh / s.q_heads, h = bh % s.q_heads;
      const int64_t kvh = b * s.kv_heads + h / group;
      const float *kb = k + kvh * s.kv_cap * D, *vb = v + kvh * s.kv_cap * D, *qi = q + r * D;
      float* oi = o + r * D;
      const int64_t pos = p.q_offset + i;
      const int64_t end = p.causal ? std::min(p.kv_len, pos + 1) : p.kv_len;
      const int64_t begin = p.window > 0 ? std::max<int64_t>(0, pos - p.window + 1) : 0;
      int64_t n = 0;
      float m = kNegInfF;
      for (int64_t j = begin; j < end; ++j) {
        if (key_mask != nullptr && key_mask[b * s.kv_cap + j] == 0.0f) continue;
        const float* kj = kb + j * D;
        float dot_ij = 0.0f;
#pragma omp simd reduction(+ : dot_ij)
        for (int64_t d = 0; d < D; ++d) dot_ij += qi[d] * kj[d];
        const float score = dot_ij * p.scale;
        keys[n] = j;
        scores[n++] = score;
        m = std::max(m, score);
      }
      std::fill(acc.begin(), acc.end(), 0.0f);
      float total = 0.0f;
      int64_t t = 0;
      for (; t + 8 <= n; t += 8) store8(scores.data() + t, exp8(load8(scores.data() + t) - m));
      for (; t < n; ++t) scores[t] = fast_math::exp(scores[t] - m);
      for (t = 0; t < n; ++t) {
        const float e = scores[t];
        const float* vj = vb + keys[t] * D;
        total += e;
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) acc[d] += e * vj[d];
      }
      const float inv = total > 0.0f ? 1.0f / total : 0.0f;
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) oi[d] = acc[d] * inv;
    }
  }
}

template <class T>
void attention_kv_backward_reference(const T* dout, const T* q, const T* k, const T* v, const float* key_mask, T* dq,
                                     T* dk, T* dv, T* stats, const AttentionKvShape& s, const AttentionKvParams& p,
                                     bool parallel) {
  const int64_t D = s.head_dim, group = s.q_heads / s.kv_heads, keys = std::max<int64_t>(p.kv_len, 1);
  const int64_t kv_rows = s.batch * s.kv_heads;
  // A (batch, kv head) owns its dk / dv rows and the dq rows of its query heads: the work
  // splits over them with no shared writes, and every sum runs in the same order either way.
#pragma omp parallel for schedule(dynamic) if (parallel)
  for (int64_t bk = 0; bk < kv_rows; ++bk) {
    const int64_t b = bk / s.kv_heads;
    const T *kb = k + bk * s.kv_cap * D, *vb = v + bk * s.kv_cap * D;
    std::vector<double> probs(static_cast<size_t>(keys)), dprobs(static_cast<size_t>(keys)),
        acc(static_cast<size_t>(D));
    std::vector<double> dk_acc(static_cast<size_t>(s.kv_cap * D)), dv_acc(static_cast<size_t>(s.kv_cap * D));
    for (int64_t h = (bk % s.kv_heads) * group; h < (bk % s.kv_heads + 1) * group; ++h)
      for (int64_t i = 0; i < s.q_len; ++i) {
        const int64_t row = (b * s.q_heads + h) * s.q_len + i;
        const T *qi = q + row * D, *doi = dout + row * D;
        const int64_t pos = p.q_offset + i;
        double m = kNegInf;
        for (int64_t j = 0; j < p.kv_len; ++j) {
          probs[j] = kNegInf;
          if (!visible(key_mask, b, s.kv_cap, j, pos, p)) continue;
          double dot_ij = 0;
          for (int64_t d = 0; d < D; ++d) dot_ij += static_cast<double>(qi[d]) * kb[j * D + d];
          probs[j] = dot_ij * p.scale;
          m = std::max(m, probs[j]);
        }
        double total = 0;
        if (m != kNegInf)
          for (int64_t j = 0; j < p.kv_len; ++j) total += probs[j] == kNegInf ? 0.0 : std::exp(probs[j] - m);
        // P, dP and Dr = sum_j P dP over the visible keys
        double dr = 0;
        for (int64_t j = 0; j < p.kv_len; ++j) {
          if (probs[j] == kNegInf) {
            probs[j] = dprobs[j] = 0;
            continue;
          }
          probs[j] = std::exp(probs[j] - m) / total;
          double dp = 0;
          for (int64_t d = 0; d < D; ++d) dp += static_cast<double>(doi[d]) * vb[j * D + d];
          dprobs[j] = dp;
          dr += probs[j] * dp;
        }
        stats[2 * row] = m == kNegInf ? static_cast<T>(kNegInf) : static_cast<T>(m + std::log(total));
        stats[2 * row + 1] = static_cast<T>(dr);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = 0; j < p.kv_len; ++j) {
          if (probs[j] == 0) continue;
          const double ds = probs[j] * (dprobs[j] - dr) * p.scale;
          for (int64_t d = 0; d < D; ++d) {
            acc[d] += ds * kb[j * D + d];
            dk_acc[j * D + d] += ds * qi[d];
            dv_acc[j * D + d] += probs[j] * doi[d];
          }
        }
        for (int64_t d = 0; d < D; ++d) dq[row * D + d] = static_cast<T>(acc[d]);
      }
    for (int64_t e = 0; e < s.kv_cap * D; ++e) {
      dk[bk * s.kv_cap * D + e] = static_cast<T>(dk_acc[e]);
      dv[bk * s.kv_cap * D + e] = static_cast<T>(dv_acc[e]);
    }
  }
}

template void attention_kv_reference(const float*, const float*, const float*, const float*, float*,
                                     const AttentionKvShape&, const AttentionKvParams&);
template void attention_kv_reference(const double*, const double*, const double*, const float*, double*,
                                     const AttentionKvShape&, const AttentionKvParams&);
template void attention_kv_backward_reference(const float*, const float*, const float*, const float*, const float*,
                                              float*, float*, float*, float*, const AttentionKvShape&,
                                              const AttentionKvParams&, bool);
template void attention_kv_backward_reference(const double*, const double*, const double*, const double*, const float*,
                                              double*, double*, double*, double*, const AttentionKvShape&,
                                              const AttentionKvParams&, bool);

}  // namespace benchsuite::cpu
