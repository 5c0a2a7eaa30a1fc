// CUDA selective scan: v1 sequential over T with one thread per (batch, channel, state),
// v2 the three-kernel chunked scan. Both run the same chunk kernel: a group of G lanes
// (G = min(32, pow2ceil(N)), aligned within a warp) owns one (batch, chunk, channel) and
// reduces y over the states with segmented shuffles; v1 is the case of one chunk of T.
#include <algorithm>

#include "core/cuda/launch.cuh"
#include "ops/scan/scan.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 128;  // a multiple of 32, so groups never straddle a warp

enum class Pass {
  sequential,  // from h0 (or 0) over the whole chunk; writes y and the final state
  local,       // from 0; writes y, the chunk's end state and its product of a
  fixup,       // adds sum_n c_t[n] prod_{s<=t}(a_s[n]) carry[n] to y
};

struct ScanArgs {
  const float *x, *a, *b, *c;  // [B, T, D], [B, T, D, N] x2, [B, T, N]
  const float* init;           // sequential: h0 [B, D, N] or null; fixup: carries [B, chunks, D, N]
  float* y;                    // [B, T, D]
  float* state_out;            // sequential: h_last [B, D, N]; local: end states [B, chunks, D, N]
  float* decay_out;            // local: decay products [B, chunks, D, N]
  int64_t batch, seq_len, dim, state, chunk, chunks;
  int group;                   // G lanes per (batch, chunk, channel): 1, 2, 4, ..., 32
  bool skip_first_chunk;       // fixup without h0: chunk 0's carry is zero
};

// kPer states per lane in registers: one sweep covers G * kPer states; a larger N repeats
// the sweep over the next slice of states and adds into y.
template <int kPer, Pass kPass>
__global__ void __launch_bounds__(kThreads) scan_chunk_kernel(const ScanArgs s) {
  const int g_lanes = s.group;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t g = tid / g_lanes;
  const int lane = static_cast<int>(threadIdx.x) % g_lanes;
  if (g >= s.batch * s.chunks * s.dim) return;  // whole groups leave together
  const unsigned warp_lane = threadIdx.x & 31u;
  const unsigned mask = g_lanes == 32 ? 0xffffffffu : ((1u << g_lanes) - 1u) << (warp_lane & ~(g_lanes - 1u));
  const int64_t d = g % s.dim, k = (g / s.dim) % s.chunks, bb = g / (s.dim * s.chunks);
  if (kPass == Pass::fixup && k == 0 && s.skip_first_chunk) return;
  const int64_t t0 = k * s.chunk, t1 = min(s.seq_len, t0 + s.chunk);
  const int64_t N = s.state;
  const int64_t state_base = kPass == Pass::sequential ? (bb * s.dim + d) * N : ((bb * s.chunks + k) * s.dim + d) * N;

  int64_t n0 = 0;
  do {  // at least once, so that y is written even when N == 0
    float h[kPer], p[kPer];
#pragma unroll
    for (int j = 0; j < kPer; ++j) {
      const int64_t n = n0 + lane + static_cast<int64_t>(j) * g_lanes;
      const bool valid = n < N;
      h[j] = (kPass != Pass::local && s.init && valid) ? s.init[state_base + n] : 0.0f;  // fixup: the carry
      p[j] = 1.0f;
    }
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t row = (bb * s.seq_len + t) * s.dim + d;
      const float* at = s.a + row * N;
      const float* ct = s.c + (bb * s.seq_len + t) * N;
      const float xv = kPass == Pass::fixup ? 0.0f : s.x[row];
      float acc = 0.0f;
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const int64_t n = n0 + lane + static_cast<int64_t>(j) * g_lanes;
        if (n < N) {
          const float av = at[n];
          if (kPass == Pass::fixup) {
            p[j] *= av;
            acc += ct[n] * p[j] * h[j];
          } else {
            h[j] = av * h[j] + s.b[row * N + n] * xv;
            if (kPass == Pass::local) p[j] *= av;
            acc += ct[n] * h[j];
          }
        }
      }
      for (int off = g_lanes >> 1; off > 0; off >>= 1) acc += __shfl_xor_sync(mask, acc, off);
      if (lane == 0) {
        if (kPass == Pass::fixup || n0 > 0)
          s.y[row] += acc;
        else
          s.y[row] = acc;
      }
    }
    if (kPass != Pass::fixup) {
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const int64_t n = n0 + lane + static_cast<int64_t>(j) * g_lanes;
        if (n < N) {
          s.state_out[state_base + n] = h[j];
          if (kPass == Pass::local) s.decay_out[state_base + n] = p[j];
        }
      }
    }
    n0 += static_cast<int64_t>(g_lanes) * kPer;
  } while (n0 < N);
}

// One thread per (batch, channel, state): carry_{k+1} = decay_k * carry_k + end_k over the
// chunks, carry_0 = h0 (or 0). ends[k] is overwritten with carry_k; h_last = carry_chunks.
__global__ void scan_carry_kernel(const float* __restrict__ h0, float* __restrict__ ends,
                                  const float* __restrict__ decay, float* __restrict__ h_last, int64_t dim,
                                  int64_t state, int64_t chunks, int64_t total) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int64_t n = i % state, bd = i / state, d = bd % dim, bb = bd / dim;
    float carry = h0 ? h0[i] : 0.0f;
    for (int64_t k = 0; k < chunks; ++k) {
      const int64_t idx = ((bb * chunks + k) * dim + d) * state + n;
      const float end = ends[idx];
      ends[idx] = carry;
      carry = decay[idx] * carry + end;
    }
    h_last[i] = carry;
  }
}

int group_lanes(int64_t state) {
  int g = 1;
  while (g < state && g < 32) g <<= 1;
  return g;
}

template <Pass kPass>
void launch_chunk_pass(const ScanArgs& s, StreamHandle stream) {
  const int64_t groups = s.batch * s.chunks * s.dim;
  if (groups == 0) return;
  const int64_t blocks = (groups * s.group + kThreads - 1) / kThreads;
  BENCHSUITE_CHECK_ARG(blocks <= 2147483647LL, "selective_scan: B*chunks*D=", groups,
                       " groups exceed the CUDA grid limit (2^31-1 blocks)");
  const dim3 grid(static_cast<unsigned>(blocks));
  cudaStream_t st = detail::as_stream(stream);
  const int64_t per = (s.state + s.group - 1) / s.group;  // states per lane for one sweep over N
  if (per <= 1)
    scan_chunk_kernel<1, kPass><<<grid, kThreads, 0, st>>>(s);
  else if (per <= 2)
    scan_chunk_kernel<2, kPass><<<grid, kThreads, 0, st>>>(s);
  else if (per <= 4)
    scan_chunk_kernel<4, kPass><<<grid, kThreads, 0, st>>>(s);
  else
    scan_chunk_kernel<8, kPass><<<grid, kThreads, 0, st>>>(s);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

ScanArgs make_args(const float* x, const float* a, const float* b, const float* c, float* y, int64_t batch,
                   int64_t seq_len, int64_t dim, int64_t state) {
  ScanArgs s{};
  s.x = x, s.a = a, s.b = b, s.c = c, s.y = y;
  s.batch = batch, s.seq_len = seq_len, s.dim = dim, s.state = state;
  s.group = group_lanes(state);
  return s;
}

int64_t chunk_count(int64_t seq_len, int64_t chunk) { return (seq_len + chunk - 1) / chunk; }
}  // namespace

void selective_scan_sequential_f32(const float* x, const float* a, const float* b, const float* c, const float* h0,
                                   float* y, float* h_last, int64_t batch, int64_t seq_len, int64_t dim,
                                   int64_t state, StreamHandle stream) {
  ScanArgs s = make_args(x, a, b, c, y, batch, seq_len, dim, state);
  s.init = h0;
  s.state_out = h_last;
  s.chunk = std::max<int64_t>(seq_len, 1);  // one chunk: T = 0 still writes h_last = h0
  s.chunks = 1;
  launch_chunk_pass<Pass::sequential>(s, stream);
}

int64_t selective_scan_chunked_workspace(int64_t batch, int64_t seq_len, int64_t dim, int64_t state, int64_t chunk) {
  return 2 * batch * chunk_count(seq_len, chunk) * dim * state;
}

void selective_scan_chunked_f32(const float* x, const float* a, const float* b, const float* c, const float* h0,
                                float* y, float* h_last, float* workspace, int64_t batch, int64_t seq_len,
                                int64_t dim, int64_t state, int64_t chunk, StreamHandle stream) {
  const int64_t chunks = chunk_count(seq_len, chunk);
  float* ends = workspace;
  float* decay = workspace + batch * chunks * dim * state;
  ScanArgs s = make_args(x, a, b, c, y, batch, seq_len, dim, state);
  s.chunk = chunk;
  s.chunks = chunks;
  s.state_out = ends;
  s.decay_out = decay;
  launch_chunk_pass<Pass::local>(s, stream);

  const int64_t states = batch * dim * state;
  if (states > 0) {
    constexpr int kCarryThreads = 256;
    scan_carry_kernel<<<detail::grid_for(states, kCarryThreads), kCarryThreads, 0, detail::as_stream(stream)>>>(
        h0, ends, decay, h_last, dim, state, chunks, states);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }

  s.init = ends;  // now the carries into each chunk
  s.skip_first_chunk = h0 == nullptr;
  launch_chunk_pass<Pass::fixup>(s, stream);
}

}  // namespace benchsuite::cuda
