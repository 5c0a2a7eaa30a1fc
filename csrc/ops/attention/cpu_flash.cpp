// CPU flash attention on register tiles (attention v3, attention_kv v3): 16-float vectors whose
// lanes are query rows, so the online softmax of a row lives in one lane and needs no horizontal
// reductions, and both products are outer-product FMA tiles (formulas in ops/attention/attention.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/fast_math.h"
#include "ops/attention/attention.h"

namespace benchsuite::cpu {

namespace {
using fast_math::exp16;
using fast_math::v16f;
using fast_math::v16i;

constexpr int kLanes = 16;
// Keys per block: a multiple of every tile height below (6, 12, 24), small enough that the
// scores (kKeys x 64 floats) stay in L1 beside the packed queries.
constexpr int64_t kKeys = 48;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Lane windows are kept relative to a block's first key and clamped to this, so they fit int32
// whatever the sequence length (a block never spans more keys than that).
constexpr int64_t kRelClamp = int64_t{1} << 30;

template <int NV>
constexpr int tile_rows() {  // 24 accumulators a tile whatever the width
  return 24 / NV;
}

inline v16f load(const float* p) {
  v16f v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store(float* p, v16f v) { std::memcpy(p, &v, sizeof(v)); }
inline v16f vmax(v16f a, v16f b) { return a > b ? a : b; }  // a NaN score never becomes the max

// One query block: NV vectors of lanes (M = 16 NV queries), its queries packed transposed and
// the running softmax state; a thread reuses it for all its tasks.
template <int NV>
struct LaneBlock {
  static constexpr int M = NV * kLanes;
  float* qt;  // [D, M] queries, transposed; unused lanes zero
  float* ot;  // [D, M] unnormalised outputs, transposed
  float* st;  // [kKeys, M] scores, then probabilities, of one key block
  v16i* vis;  // [kKeys, NV] lane masks of one key block (-1: the lane sees the key)
  v16f m[NV], l[NV];
  // Lane windows of a masked block: a lane sees the block's key n when lo <= rel[n] <= hi.
  v16i lo[NV], hi[NV];
  int32_t rel[kKeys];
};

// st[n, :] = q . k_n for keys krow[0..R): R key rows x NV vectors of lanes, a K element
// broadcast against M queries per FMA.
template <int NV, int R>
inline void score_tile(const float* qt, const float* const* krow, int64_t D, float* st) {
  constexpr int M = NV * kLanes;
  v16f acc[R][NV] = {};
  for (int64_t d = 0; d < D; ++d) {
    v16f qv[NV];  // element loads and stores throughout: a memcpy of a whole array would keep it in memory
    for (int c = 0; c < NV; ++c) qv[c] = load(qt + d * M + c * kLanes);
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) {
      const float kr = krow[r][d];
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) acc[r][c] += kr * qv[c];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) store(st + r * M + c * kLanes, acc[r][c]);
}

// ot[d0..d0+R, :] = alpha * ot + sum_n v[n, d] p[n, :]. kMasked: a lane takes key n only where
// it sees it, so a masked key's non-finite value never reaches it as 0 * inf.
template <int NV, int R, bool kMasked>
inline void value_tile(LaneBlock<NV>& lb, const float* const* vrow, int64_t nj, int64_t d0, const v16f* alpha) {
  constexpr int M = NV * kLanes;
  v16f acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) acc[r][c] = load(lb.ot + (d0 + r) * M + c * kLanes) * alpha[c];
  for (int64_t n = 0; n < nj; ++n) {
    v16f pv[NV];
    for (int c = 0; c < NV; ++c) pv[c] = load(lb.st + n * M + c * kLanes);
    const float* vn = vrow[n] + d0;
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) {
      const float vr = vn[r];
#pragma GCC unroll 4
      for (int c = 0; c < NV; ++c) {
        if constexpr (kMasked)
          acc[r][c] = lb.vis[n * NV + c] ? acc[r][c] + vr * pv[c] : acc[r][c];
        else
          acc[r][c] += vr * pv[c];
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NV; ++c) store(lb.ot + (d0 + r) * M + c * kLanes, acc[r][c]);
}

// One key block (nj <= kKeys keys, rows krow / vrow) into the lane block: scores, the online
// softmax update (m, l, and alpha = exp(m_old - m_new) rescaling the outputs), then P V.
template <int NV, bool kMasked>
void key_block(LaneBlock<NV>& lb, const float* const* krow, const float* const* vrow, int64_t nj, int64_t D,
               float scale) {
  constexpr int M = NV * kLanes, R = tile_rows<NV>();
  int64_t n = 0;
  for (; n + R <= nj; n += R) score_tile<NV, R>(lb.qt, krow + n, D, lb.st + n * M);
  for (; n < nj; ++n) score_tile<NV, 1>(lb.qt, krow + n, D, lb.st + n * M);

  v16f bmax[NV];
  for (int c = 0; c < NV; ++c) bmax[c] = v16f{} + kNegInf;
  for (n = 0; n < nj; ++n)
    for (int c = 0; c < NV; ++c) {
      v16f s = load(lb.st + n * M + c * kLanes) * scale;
      if constexpr (kMasked) {
        const v16i key = v16i{} + lb.rel[n];
        const v16i seen = (lb.lo[c] <= key) & (lb.hi[c] >= key);
        lb.vis[n * NV + c] = seen;
        s = seen ? s : v16f{} + kNegInf;  // a masked key's score may be NaN: replaced, not added to
      }
      store(lb.st + n * M + c * kLanes, s);
      bmax[c] = vmax(bmax[c], s);
    }
  v16f alpha[NV], m_use[NV], sum[NV];
  for (int c = 0; c < NV; ++c) {
    const v16f m_new = vmax(lb.m[c], bmax[c]);
    // A lane that has seen no key yet keeps m = -inf: exponents taken against 0 there, so
    // -inf - -inf never makes a NaN (its probabilities are exact zeros either way).
    m_use[c] = m_new == v16f{} + kNegInf ? v16f{} : m_new;
    alpha[c] = exp16(lb.m[c] - m_use[c]);
    lb.m[c] = m_new;
    sum[c] = v16f{};
  }
  for (n = 0; n < nj; ++n)
    for (int c = 0; c < NV; ++c) {
      const v16f p = exp16(load(lb.st + n * M + c * kLanes) - m_use[c]);
      store(lb.st + n * M + c * kLanes, p);
      sum[c] += p;
    }
  for (int c = 0; c < NV; ++c) lb.l[c] = lb.l[c] * alpha[c] + sum[c];

  int64_t d = 0;
  for (; d + R <= D; d += R) value_tile<NV, R, kMasked>(lb, vrow, nj, d, alpha);
  for (; d < D; ++d) value_tile<NV, 1, kMasked>(lb, vrow, nj, d, alpha);
}

// Start a task: lanes [0, rows) take the query rows qrow[0..rows), the others zeros.
template <int NV>
void begin_lanes(LaneBlock<NV>& lb, const float* const* qrow, int rows, int64_t D) {
  constexpr int M = NV * kLanes;
  std::fill(lb.qt, lb.qt + D * M, 0.0f);
  for (int r = 0; r < rows; ++r)
    for (int64_t d = 0; d < D; ++d) lb.qt[d * M + r] = qrow[r][d];
  std::fill(lb.ot, lb.ot + D * M, 0.0f);
  for (int c = 0; c < NV; ++c) {
    lb.m[c] = v16f{} + kNegInf;
    lb.l[c] = v16f{};
  }
}

// Lane windows of a masked block whose first key is `base`: lane r sees absolute keys
// [lo_abs[r], hi_abs[r]]; rel[n] = key[n] - base.
template <int NV>
void set_windows(LaneBlock<NV>& lb, const int64_t* lo_abs, const int64_t* hi_abs, int64_t base) {
  for (int r = 0; r < NV * kLanes; ++r) {
    lb.lo[r / kLanes][r % kLanes] = static_cast<int32_t>(std::clamp(lo_abs[r] - base, -kRelClamp, kRelClamp));
    lb.hi[r / kLanes][r % kLanes] = static_cast<int32_t>(std::clamp(hi_abs[r] - base, -kRelClamp, kRelClamp));
  }
}

// Per-thread scratch, allocated before the parallel region (an exception must not leave one):
// the lane block's three buffers plus lane masks, 64-byte aligned.
class Scratch {
 public:
  Scratch(int threads, int64_t head_dim, int nv)
      : per_thread_(round_up(2 * head_dim * nv * kLanes + kKeys * nv * kLanes + kKeys * nv * kLanes)),
        buf_(static_cast<size_t>(threads * per_thread_ + kLanes)) {}
  template <int NV>
  LaneBlock<NV> block(int thread, int64_t D) {
    constexpr int M = NV * kLanes;
    float* base = aligned() + thread * per_thread_;
    LaneBlock<NV> lb;
    lb.qt = base;
    lb.ot = base + D * M;
    lb.st = base + 2 * D * M;
    lb.vis = reinterpret_cast<v16i*>(base + 2 * D * M + kKeys * M);
    return lb;
  }

 private:
  static int64_t round_up(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }
  float* aligned() {
    auto p = reinterpret_cast<uintptr_t>(buf_.data());
    return reinterpret_cast<float*>((p + 63) & ~uintptr_t{63});
  }
  int64_t per_thread_;
  std::vector<float> buf_;
};

int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// ---- attention v3 ------------------------------------------------------------------------------
template <int NV>
void forward_lanes(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh, int64_t S,
                   int64_t D, float scale, bool causal) {
  constexpr int M = NV * kLanes;
  const int64_t qblocks = (S + M - 1) / M, tasks = bh * qblocks;
  const int threads = static_cast<int>(std::clamp<int64_t>(tasks, 1, max_threads()));
  Scratch scratch(threads, D, NV);
#pragma omp parallel num_threads(threads)
  {
    LaneBlock<NV> lb = scratch.block<NV>(thread_id(), D);
    const float* qrow[M];
    const float *krow[kKeys], *vrow[kKeys];
    int64_t lo_abs[M], hi_abs[M];
    std::fill(lo_abs, lo_abs + M, 0);
    for (int n = 0; n < kKeys; ++n) lb.rel[n] = n;
    // Causal blocks differ in cost (the last query block sees every key): the heaviest first,
    // so the dynamic schedule ends with short tasks.
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t b = t % bh, qb = qblocks - 1 - t / bh;
      const int64_t i0 = qb * M;
      const int rows = static_cast<int>(std::min<int64_t>(M, S - i0));
      const float *qb_ = q + b * S * D, *kb = k + b * S * D, *vb = v + b * S * D;
      for (int r = 0; r < rows; ++r) qrow[r] = qb_ + (i0 + r) * D;
      begin_lanes<NV>(lb, qrow, rows, D);
      // Unused lanes copy the last query's window, so they never make a block masked.
      for (int r = 0; r < M; ++r) hi_abs[r] = i0 + std::min(r, rows - 1);
      const int64_t kend = causal ? i0 + rows : S;
      for (int64_t j0 = 0; j0 < kend; j0 += kKeys) {
        const int64_t nj = std::min(kKeys, kend - j0);
        for (int64_t n = 0; n < nj; ++n) {
          krow[n] = kb + (j0 + n) * D;
          vrow[n] = vb + (j0 + n) * D;
        }
        if (causal && j0 + nj - 1 > i0) {  // some lane in the block is before some key
          set_windows<NV>(lb, lo_abs, hi_abs, j0);
          key_block<NV, true>(lb, krow, vrow, nj, D, scale);
        } else {
          key_block<NV, false>(lb, krow, vrow, nj, D, scale);
        }
      }
      for (int r = 0; r < rows; ++r) {
        const float l = lb.l[r / kLanes][r % kLanes], inv = 1.0f / l;
        float* orow = o + (b * S + i0 + r) * D;
        for (int64_t d = 0; d < D; ++d) orow[d] = lb.ot[d * M + r] * inv;
        lse[b * S + i0 + r] = lb.m[r / kLanes][r % kLanes] + std::log(l);
      }
    }
  }
}

// ---- attention_kv v3 ---------------------------------------------------------------------------
// The query rows of one (batch, kv head) are contiguous in q and o (its group's heads are
// consecutive): row r is head r / Sq of the group, query r % Sq, at position q_offset + r % Sq.
struct KvTask {
  const float *q, *k, *v, *key_mask;  // q: the group's first row; k, v: the kv head; key_mask: its batch row or null
  float* o;
};

// Lane r of a task sees keys [lo_abs[r], hi_abs[r]] (before the key mask); the union of the
// windows of rows [r0, r0 + rows) is [first, last] (empty when first > last).
void kv_windows(const AttentionKvShape& s, const AttentionKvParams& p, int64_t r0, int rows, int lanes,
                int64_t* lo_abs, int64_t* hi_abs, int64_t& first, int64_t& last) {
  first = p.kv_len;
  last = -1;
  for (int r = 0; r < lanes; ++r) {
    const int64_t pos = p.q_offset + (r0 + std::min(r, rows - 1)) % s.q_len;
    lo_abs[r] = p.window > 0 ? std::max<int64_t>(0, pos - p.window + 1) : 0;
    hi_abs[r] = p.causal ? std::min(pos, p.kv_len - 1) : p.kv_len - 1;
    if (lo_abs[r] <= hi_abs[r]) {
      first = std::min(first, lo_abs[r]);
      last = std::max(last, hi_abs[r]);
    }
  }
}

// The next run of up to kKeys keys at or after j (<= last) that the key mask lets through, as
// row pointers and absolute indices (kept within kRelClamp of the first); returns the count
// and moves j past them.
int gather_keys(const KvTask& t, int64_t D, int64_t last, int64_t& j, const float** krow, const float** vrow,
                int64_t* idx) {
  int n = 0;
  for (; j <= last && n < kKeys; ++j) {
    if (t.key_mask != nullptr && t.key_mask[j] == 0.0f) continue;
    if (n > 0 && j - idx[0] >= kRelClamp) break;
    krow[n] = t.k + j * D;
    vrow[n] = t.v + j * D;
    idx[n++] = j;
  }
  return n;
}

template <int NV>
void kv_lanes(const float* q, const float* k, const float* v, const float* key_mask, float* o,
              const AttentionKvShape& s, const AttentionKvParams& p) {
  constexpr int M = NV * kLanes;
  const int64_t D = s.head_dim, group = s.q_heads / s.kv_heads, rows = group * s.q_len;
  const int64_t lblocks = (rows + M - 1) / M, kv_rows = s.batch * s.kv_heads, tasks = kv_rows * lblocks;
  const int threads = static_cast<int>(std::clamp<int64_t>(tasks, 1, max_threads()));
  Scratch scratch(threads, D, NV);
#pragma omp parallel num_threads(threads)
  {
    LaneBlock<NV> lb = scratch.block<NV>(thread_id(), D);
    const float* qrow[M];
    const float *krow[kKeys], *vrow[kKeys];
    int64_t lo_abs[M], hi_abs[M], idx[kKeys];
#pragma omp for schedule(dynamic)
    for (int64_t t = 0; t < tasks; ++t) {
      const int64_t bk = t % kv_rows, r0 = (lblocks - 1 - t / kv_rows) * M, b = bk / s.kv_heads;
      const KvTask task{q + (b * s.q_heads + bk % s.kv_heads * group) * s.q_len * D, k + bk * s.kv_cap * D,
                        v + bk * s.kv_cap * D, key_mask != nullptr ? key_mask + b * s.kv_cap : nullptr,
                        o + (b * s.q_heads + bk % s.kv_heads * group) * s.q_len * D};
      const int n_rows = static_cast<int>(std::min<int64_t>(M, rows - r0));
      for (int r = 0; r < n_rows; ++r) qrow[r] = task.q + (r0 + r) * D;
      begin_lanes<NV>(lb, qrow, n_rows, D);
      int64_t first, last;
      kv_windows(s, p, r0, n_rows, M, lo_abs, hi_abs, first, last);
      const int64_t lo_max = *std::max_element(lo_abs, lo_abs + M), hi_min = *std::min_element(hi_abs, hi_abs + M);
      for (int64_t j = first; j <= last;) {
        const int nj = gather_keys(task, D, last, j, krow, vrow, idx);
        if (nj == 0) break;
        if (idx[0] >= lo_max && idx[nj - 1] <= hi_min) {
          key_block<NV, false>(lb, krow, vrow, nj, D, p.scale);
        } else {
          set_windows<NV>(lb, lo_abs, hi_abs, idx[0]);
          for (int n = 0; n < nj; ++n) lb.rel[n] = static_cast<int32_t>(idx[n] - idx[0]);
          key_block<NV, true>(lb, krow, vrow, nj, D, p.scale);
        }
      }
      for (int r = 0; r < n_rows; ++r) {
        const float l = lb.l[r / kLanes][r % kLanes], inv = l > 0.0f ? 1.0f / l : 0.0f;  // no key seen: zeros
        float* orow = task.o + (r0 + r) * D;
        for (int64_t d = 0; d < D; ++d) orow[d] = lb.ot[d * M + r] * inv;
      }
    }
  }
}

// A few rows per (batch, kv head) - a decode step: lanes along head_dim instead (a lane block
// would leave most of its lanes idle). Each row keeps its running max, sum and output; keys come
// in runs of 16, scored by dot products and exponentiated 16 at a time.
inline float hsum(v16f x) {
  typedef float v8 __attribute__((vector_size(32)));
  v8 lo, hi;
  std::memcpy(&lo, &x, sizeof(lo));
  std::memcpy(&hi, reinterpret_cast<const char*>(&x) + sizeof(lo), sizeof(hi));
  return fast_math::sum8(lo + hi);
}

// q . k for 4 key rows: their 16-lane partial sums folded together by shuffles (a key ends in
// lane 0, 8, 4 or 12), a few operations a key instead of a horizontal sum each.
inline void dot4(const float* qr, const float* const* krow, int64_t dv, float* out) {
  v16f a0 = v16f{}, a1 = v16f{}, a2 = v16f{}, a3 = v16f{};
  for (int64_t d = 0; d < dv; d += kLanes) {
    const v16f qv = load(qr + d);
    a0 += qv * load(krow[0] + d);
    a1 += qv * load(krow[1] + d);
    a2 += qv * load(krow[2] + d);
    a3 += qv * load(krow[3] + d);
  }
  const v16i lo8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
  const v16i hi8 = lo8 + 8;
  const v16f s01 = __builtin_shuffle(a0, a1, lo8) + __builtin_shuffle(a0, a1, hi8);  // key 0 | key 1
  const v16f s23 = __builtin_shuffle(a2, a3, lo8) + __builtin_shuffle(a2, a3, hi8);  // key 2 | key 3
  const v16i lo4 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
  v16f t = __builtin_shuffle(s01, s23, lo4) + __builtin_shuffle(s01, s23, lo4 + 4);  // keys 0, 2, 1, 3
  t += __builtin_shuffle(t, v16i{2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13});
  t += __builtin_shuffle(t, v16i{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14});
  out[0] = t[0];
  out[1] = t[8];
  out[2] = t[4];
  out[3] = t[12];
}

void kv_rows(const float* q, const float* k, const float* v, const float* key_mask, float* o,
             const AttentionKvShape& s, const AttentionKvParams& p) {
  const int64_t D = s.head_dim, group = s.q_heads / s.kv_heads, rows = group * s.q_len;
  const int64_t kv_rows = s.batch * s.kv_heads, dv = D / kLanes * kLanes;
  const int threads = static_cast<int>(std::clamp<int64_t>(kv_rows, 1, max_threads()));
  // Per thread: one output accumulator row and the scores of one run.
  std::vector<float> scratch(static_cast<size_t>(threads * (D + kLanes)));
#pragma omp parallel num_threads(threads)
  {
    float* acc = scratch.data() + thread_id() * (D + kLanes);
    float* sc = acc + D;
    const float *krow[kLanes], *vrow[kLanes];
#pragma omp for schedule(dynamic)
    for (int64_t bk = 0; bk < kv_rows; ++bk) {
      const int64_t b = bk / s.kv_heads;
      const KvTask task{q + (b * s.q_heads + bk % s.kv_heads * group) * s.q_len * D, k + bk * s.kv_cap * D,
                        v + bk * s.kv_cap * D, key_mask != nullptr ? key_mask + b * s.kv_cap : nullptr,
                        o + (b * s.q_heads + bk % s.kv_heads * group) * s.q_len * D};
      for (int64_t r = 0; r < rows; ++r) {
        const float* qr = task.q + r * D;
        int64_t lo, hi, first, last;
        kv_windows(s, p, r, 1, 1, &lo, &hi, first, last);
        std::fill(acc, acc + D, 0.0f);
        float m = kNegInf, l = 0.0f;
        for (int64_t j = first; j <= last;) {
          int n = 0;  // a run of up to 16 visible keys
          for (; j <= last && n < kLanes; ++j) {
            if (task.key_mask != nullptr && task.key_mask[j] == 0.0f) continue;
            krow[n] = task.k + j * D;
            vrow[n++] = task.v + j * D;
          }
          if (n == 0) break;
          int t = 0;
          for (; t + 4 <= n; t += 4) dot4(qr, krow + t, dv, sc + t);
          for (; t < n; ++t) {
            v16f a = v16f{};
            for (int64_t d = 0; d < dv; d += kLanes) a += load(qr + d) * load(krow[t] + d);
            sc[t] = hsum(a);
          }
          float bmax = kNegInf;
          for (t = 0; t < n; ++t) {
            for (int64_t d = dv; d < D; ++d) sc[t] += qr[d] * krow[t][d];
            sc[t] *= p.scale;
            bmax = std::max(bmax, sc[t]);
          }
          const float m_new = std::max(m, bmax), m_use = m_new == kNegInf ? 0.0f : m_new;
          for (t = n; t < kLanes; ++t) sc[t] = kNegInf;
          const v16f e = exp16(load(sc) - m_use);
          const float alpha = fast_math::exp(m - m_use);
          store(sc, e);
          l = l * alpha + hsum(e);
          m = m_new;
          for (int64_t d = 0; d < dv; d += kLanes) {
            v16f a = load(acc + d) * alpha;
            for (int t = 0; t < n; ++t) a += sc[t] * load(vrow[t] + d);
            store(acc + d, a);
          }
          for (int64_t d = dv; d < D; ++d) {
            float a = acc[d] * alpha;
            for (int t = 0; t < n; ++t) a += sc[t] * vrow[t][d];
            acc[d] = a;
          }
        }
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;  // no key seen: zeros
        float* orow = task.o + r * D;
        for (int64_t d = 0; d < D; ++d) orow[d] = acc[d] * inv;
      }
    }
  }
}
}  // namespace

void attention_forward_lanes(const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh,
                             int64_t seq_len, int64_t head_dim, float scale, bool causal) {
  // Short sequences take narrower blocks: fewer idle lanes.
  if (seq_len <= kLanes)
    forward_lanes<1>(q, k, v, o, lse, bh, seq_len, head_dim, scale, causal);
  else if (seq_len <= 2 * kLanes)
    forward_lanes<2>(q, k, v, o, lse, bh, seq_len, head_dim, scale, causal);
  else
    forward_lanes<4>(q, k, v, o, lse, bh, seq_len, head_dim, scale, causal);
}

void attention_kv_lanes(const float* q, const float* k, const float* v, const float* key_mask, float* o,
                        const AttentionKvShape& shape, const AttentionKvParams& params) {
  const int64_t rows = shape.q_heads / shape.kv_heads * shape.q_len;  // query rows per kv head
  if (rows <= 4)
    kv_rows(q, k, v, key_mask, o, shape, params);
  else if (rows <= kLanes)
    kv_lanes<1>(q, k, v, key_mask, o, shape, params);
  else if (rows <= 2 * kLanes)
    kv_lanes<2>(q, k, v, key_mask, o, shape, params);
  else
    kv_lanes<4>(q, k, v, key_mask, o, shape, params);
}

}  // namespace benchsuite::cpu
