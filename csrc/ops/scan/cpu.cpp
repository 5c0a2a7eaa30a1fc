// CPU selective scan: the sequential reference (double accumulation, float32 or float64
// storage) and the three-pass chunked scan over OpenMP. Shapes and the recurrence are in ops/scan/scan.h.
#include "ops/scan/scan.h"

#include <algorithm>
#include <vector>

namespace benchsuite::cpu {

namespace {
// Work (elements of a) below which the OpenMP team costs more than it saves.
bool worth_threads(int64_t tasks, int64_t elements) { return tasks > 1 && elements > (1 << 15); }
// Floats of state a chunked task keeps per buffer: a few KiB, well inside L1.
constexpr int64_t kBlockFloats = 512;
int64_t chunk_count(int64_t seq_len, int64_t chunk) { return (seq_len + chunk - 1) / chunk; }
}  // namespace

template <class T>
void selective_scan_reference(const T* x, const T* a, const T* b, const T* c, const T* h0, T* y, T* h_last,
                              int64_t batch, int64_t seq_len, int64_t dim, int64_t state) {
  std::vector<double> h(static_cast<size_t>(state));
  for (int64_t bb = 0; bb < batch; ++bb) {
    for (int64_t d = 0; d < dim; ++d) {
      const int64_t hs = (bb * dim + d) * state;
      for (int64_t n = 0; n < state; ++n) h[n] = h0 ? h0[hs + n] : 0.0;
      for (int64_t t = 0; t < seq_len; ++t) {
        const int64_t row = (bb * seq_len + t) * dim + d;  // (b, t, d)
        const double xv = x[row];
        const T *at = a + row * state, *bt = b + row * state, *ct = c + (bb * seq_len + t) * state;
        double acc = 0;
        for (int64_t n = 0; n < state; ++n) {
          h[n] = at[n] * h[n] + bt[n] * xv;
          acc += ct[n] * h[n];
        }
        y[row] = static_cast<T>(acc);
      }
      for (int64_t n = 0; n < state; ++n) h_last[hs + n] = static_cast<T>(h[n]);
    }
  }
}

template void selective_scan_reference(const float*, const float*, const float*, const float*, const float*, float*,
                                       float*, int64_t, int64_t, int64_t, int64_t);
template void selective_scan_reference(const double*, const double*, const double*, const double*, const double*,
                                       double*, double*, int64_t, int64_t, int64_t, int64_t);

int64_t selective_scan_chunked_workspace(int64_t batch, int64_t seq_len, int64_t dim, int64_t state, int64_t chunk) {
  return 2 * batch * chunk_count(seq_len, chunk) * dim * state;
}

void selective_scan_chunked(const float* x, const float* a, const float* b, const float* c, const float* h0,
                            float* y, float* h_last, float* workspace, int64_t batch, int64_t seq_len, int64_t dim,
                            int64_t state, int64_t chunk) {
  const int64_t chunks = chunk_count(seq_len, chunk);
  const int64_t per_array = batch * chunks * dim * state;
  float* ends = workspace;               // [B, chunks, D, N]: end state from h = 0, then the carry in
  float* decay = workspace + per_array;  // [B, chunks, D, N]: product of a over the chunk
  // A task owns a block of adjacent channels, so each time step reads one contiguous run of
  // a and b (block * N floats) instead of N floats D * N apart.
  const int64_t block = std::max<int64_t>(1, std::min<int64_t>(dim, kBlockFloats / std::max<int64_t>(state, 1)));
  const int64_t blocks = (dim + block - 1) / block;
  const int64_t tasks = batch * chunks * blocks;  // (b, chunk, channel block), the block fastest
  const bool threads = worth_threads(tasks, batch * seq_len * dim * state);
  const size_t buffer = static_cast<size_t>(block * state);

  // Pass 1: each chunk from h = 0; local outputs, end state and decay product.
#pragma omp parallel if (threads)
  {
    std::vector<float> h(buffer), p(buffer);
#pragma omp for schedule(static)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t d0 = task % blocks * block, d1 = std::min(dim, d0 + block);
      const int64_t k = (task / blocks) % chunks, bb = task / (blocks * chunks);
      const int64_t t0 = k * chunk, t1 = std::min(seq_len, t0 + chunk), width = (d1 - d0) * state;
      std::fill(h.begin(), h.end(), 0.0f);
      std::fill(p.begin(), p.end(), 1.0f);
      for (int64_t t = t0; t < t1; ++t) {
        const float* ct = c + (bb * seq_len + t) * state;
        for (int64_t d = d0; d < d1; ++d) {
          const int64_t row = (bb * seq_len + t) * dim + d;
          const float xv = x[row];
          const float *at = a + row * state, *bt = b + row * state;
          float *hp = h.data() + (d - d0) * state, *pp = p.data() + (d - d0) * state;
          float acc = 0;
#pragma omp simd reduction(+ : acc)
          for (int64_t n = 0; n < state; ++n) {
            hp[n] = at[n] * hp[n] + bt[n] * xv;
            pp[n] *= at[n];
            acc += ct[n] * hp[n];
          }
          y[row] = acc;
        }
      }
      const int64_t ws = ((bb * chunks + k) * dim + d0) * state;
      std::copy(h.begin(), h.begin() + width, ends + ws);
      std::copy(p.begin(), p.begin() + width, decay + ws);
    }
  }

  // Pass 2: carries across chunks, sequential in k (T/L steps); ends[k] becomes carry_k.
#pragma omp parallel if (worth_threads(batch * blocks, per_array))
  {
    std::vector<float> s(buffer);
#pragma omp for schedule(static)
    for (int64_t task = 0; task < batch * blocks; ++task) {
      const int64_t bb = task / blocks, d0 = task % blocks * block, d1 = std::min(dim, d0 + block);
      const int64_t width = (d1 - d0) * state, hs = (bb * dim + d0) * state;
      float* sp = s.data();
      for (int64_t i = 0; i < width; ++i) sp[i] = h0 ? h0[hs + i] : 0.0f;
      for (int64_t k = 0; k < chunks; ++k) {
        const int64_t ws = ((bb * chunks + k) * dim + d0) * state;
        float *e = ends + ws, *p = decay + ws;
#pragma omp simd
        for (int64_t i = 0; i < width; ++i) {
          const float end = e[i];
          e[i] = sp[i];
          sp[i] = p[i] * sp[i] + end;
        }
      }
      std::copy(s.begin(), s.begin() + width, h_last + hs);
    }
  }

  // Pass 3: add the carried-in state's contribution, prod(a up to t) * carry, to every output.
#pragma omp parallel if (threads)
  {
    std::vector<float> p(buffer);
#pragma omp for schedule(static)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t d0 = task % blocks * block, d1 = std::min(dim, d0 + block);
      const int64_t k = (task / blocks) % chunks, bb = task / (blocks * chunks);
      if (k == 0 && !h0) continue;  // carry_0 = 0
      const int64_t t0 = k * chunk, t1 = std::min(seq_len, t0 + chunk);
      const float* carry = ends + ((bb * chunks + k) * dim + d0) * state;
      std::fill(p.begin(), p.end(), 1.0f);
      for (int64_t t = t0; t < t1; ++t) {
        const float* ct = c + (bb * seq_len + t) * state;
        for (int64_t d = d0; d < d1; ++d) {
          const int64_t row = (bb * seq_len + t) * dim + d;
          const float* at = a + row * state;
          const float* cr = carry + (d - d0) * state;
          float* pp = p.data() + (d - d0) * state;
          float acc = 0;
#pragma omp simd reduction(+ : acc)
          for (int64_t n = 0; n < state; ++n) {
            pp[n] *= at[n];
            acc += ct[n] * pp[n] * cr[n];
          }
          y[row] += acc;
        }
      }
    }
  }
}

}  // namespace benchsuite::cpu
