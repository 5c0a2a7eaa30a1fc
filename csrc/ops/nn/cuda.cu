// CUDA kernels of the nn ops: embedding forward (warp per token row) and deterministic
// backward (CUB radix sort of positions by id, then a block per vocabulary row),
// cross-entropy forward/backward (block per row, online max/sum) with a deterministic
// mean, RoPE (sincosf of a double-reduced angle) and the sinusoidal position table (a
// thread per entry, in double as the CPU reference). All indexing is int64.
#include <cub/device/device_radix_sort.cuh>
#include <math_constants.h>

#include <cfloat>
#include <cmath>

#include "ops/reduce/reduce.h"  // reduce_all_f32
#include "core/cuda/block_reduce.cuh"
#include "core/cuda/launch.cuh"
#include "ops/nn/nn.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr unsigned kMaxBlocks = 65536;

unsigned blocks_for(int64_t work_items) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(work_items, kMaxBlocks)));
}

// ---- embedding forward -------------------------------------------------------------------------
// Warp w copies token rows w, w + warps, ...; kVec: float4 (dim % 4 == 0, aligned buffers).
template <bool kVec>
__global__ void __launch_bounds__(kThreads) embedding_kernel(const float* __restrict__ weight,
                                                             const int64_t* __restrict__ ids, float* __restrict__ out,
                                                             int64_t tokens, int64_t vocab, int64_t dim) {
  const int lane = threadIdx.x & 31;
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) >> 5;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarps;
  for (int64_t t = warp; t < tokens; t += warps) {
    const int64_t id = ids[t];
    float* dst = out + t * dim;
    if (id < 0 || id >= vocab) {  // flagged, never read out of bounds
      for (int64_t d = lane; d < dim; d += 32) dst[d] = CUDART_NAN_F;
      continue;
    }
    const float* src = weight + id * dim;
    if (kVec) {
      const float4* s4 = reinterpret_cast<const float4*>(src);
      float4* d4 = reinterpret_cast<float4*>(dst);
      for (int64_t d = lane; d < dim / 4; d += 32) d4[d] = s4[d];
    } else {
      for (int64_t d = lane; d < dim; d += 32) dst[d] = src[d];
    }
  }
}

// ---- embedding backward ------------------------------------------------------------------------
__global__ void iota_kernel(int* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = static_cast<int>(i);
}

// First k in [0, n) with keys[k] >= value (n when none).
__device__ __forceinline__ int64_t lower_bound(const unsigned long long* keys, int64_t n, unsigned long long value) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = (lo + hi) >> 1;
    if (keys[mid] < value)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// Block v sums dout rows pos[lo..hi) (the tokens of id v, in token order) column by column.
__global__ void embedding_backward_rows_kernel(const float* __restrict__ dout,
                                               const unsigned long long* __restrict__ sorted_ids,
                                               const int* __restrict__ positions, float* __restrict__ dweight,
                                               int64_t tokens, int64_t vocab, int64_t dim) {
  for (int64_t v = blockIdx.x; v < vocab; v += gridDim.x) {
    // Every thread searches: the loads are the same address across a warp (one transaction).
    const int64_t lo = lower_bound(sorted_ids, tokens, static_cast<unsigned long long>(v));
    const int64_t hi = lo + lower_bound(sorted_ids + lo, tokens - lo, static_cast<unsigned long long>(v) + 1);
    for (int64_t d = threadIdx.x; d < dim; d += blockDim.x) {
      float acc = 0.0f;
      for (int64_t k = lo; k < hi; ++k) acc += dout[static_cast<int64_t>(positions[k]) * dim + d];
      dweight[v * dim + d] = acc;
    }
  }
}

int bits_for(int64_t vocab) {  // key bits the radix sort must look at: ids < vocab
  int bits = 1;
  while (bits < 63 && (int64_t{1} << bits) < vocab) ++bits;
  return bits;
}

size_t align_up(size_t bytes) { return (bytes + 255) & ~size_t{255}; }

size_t cub_temp_bytes(int64_t tokens, int64_t vocab) {
  size_t bytes = 0;
  BENCHSUITE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, bytes, static_cast<const unsigned long long*>(nullptr), static_cast<unsigned long long*>(nullptr),
      static_cast<const int*>(nullptr), static_cast<int*>(nullptr), static_cast<int>(tokens), 0, bits_for(vocab)));
  return bytes;
}

// ---- cross-entropy -----------------------------------------------------------------------------
// Online max / sum of exp over a row: the block-wide helper shared with softmax.
__device__ __forceinline__ void row_max_sum(const float* __restrict__ xr, int64_t cols, float& m, float& s) {
  detail::block_online_max_sum<kThreads>(xr, cols, m, s);
}

// Per-row loss and kept flag (1 unless ignored). Branches on the target are block-uniform.
__global__ void __launch_bounds__(kThreads) cross_entropy_rows_kernel(const float* __restrict__ logits,
                                                                      const int64_t* __restrict__ targets,
                                                                      float* __restrict__ row_loss,
                                                                      float* __restrict__ kept, int64_t rows,
                                                                      int64_t classes, int64_t ignore_index) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t t = targets[r];
    if (t == ignore_index) {
      if (threadIdx.x == 0) row_loss[r] = kept[r] = 0.0f;
      continue;
    }
    const float* xr = logits + r * classes;
    float m, s;
    row_max_sum(xr, classes, m, s);
    if (threadIdx.x == 0) {
      kept[r] = 1.0f;
      row_loss[r] = (t >= 0 && t < classes) ? m + logf(s) - xr[t] : CUDART_NAN_F;
    }
  }
}

__global__ void mean_kernel(const float* __restrict__ sums, float* __restrict__ loss) {
  loss[0] = sums[0] / sums[1];  // 0 / 0 = NaN when every row is ignored
}

__global__ void kept_kernel(const int64_t* __restrict__ targets, float* __restrict__ kept, int64_t rows,
                            int64_t ignore_index) {
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x)
    kept[r] = targets[r] != ignore_index ? 1.0f : 0.0f;
}

// dlogits = (softmax - onehot) * dloss / kept_count; two reads of the row, one write.
__global__ void __launch_bounds__(kThreads) cross_entropy_backward_kernel(
    const float* __restrict__ logits, const int64_t* __restrict__ targets, float* __restrict__ dlogits,
    int64_t rows, int64_t classes, int64_t ignore_index, float dloss, const float* __restrict__ kept_count) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t t = targets[r];
    const float* xr = logits + r * classes;
    float* gr = dlogits + r * classes;
    if (t == ignore_index || t < 0 || t >= classes) {
      const float fill = t == ignore_index ? 0.0f : CUDART_NAN_F;
      for (int64_t c = threadIdx.x; c < classes; c += kThreads) gr[c] = fill;
      continue;
    }
    float m, s;
    row_max_sum(xr, classes, m, s);
    const float scale = dloss / kept_count[0];
    const float k = scale / s;
    for (int64_t c = threadIdx.x; c < classes; c += kThreads)
      gr[c] = expf(xr[c] - m) * k - (c == t ? scale : 0.0f);
  }
}

// ---- RoPE --------------------------------------------------------------------------------------
// threadIdx.x: frequency i (stride blockDim.x); threadIdx.y: heads (stride blockDim.y);
// blocks: tokens (b, t) in a grid-stride loop. sign = -1 rotates backwards.
__global__ void rope_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t tokens, int64_t seq_len,
                            int64_t heads, int64_t head_dim, double log2_base, int64_t position_offset, float sign) {
  const int64_t half = head_dim / 2;
  for (int64_t i = threadIdx.x; i < half; i += blockDim.x) {
    // inv_freq = base^(-2i/head_dim), in double so that long positions keep their angle.
    const double inv_freq = exp2(-(2.0 * static_cast<double>(i) / static_cast<double>(head_dim)) * log2_base);
    for (int64_t tok = blockIdx.x; tok < tokens; tok += gridDim.x) {
      const double angle = static_cast<double>(tok % seq_len + position_offset) * inv_freq;
      const double turns = rint(angle * 0.15915494309189535);  // angle / (2 pi)
      const float reduced = static_cast<float>(fma(-turns, 6.283185307179586, angle));  // in [-pi, pi]
      float s, c;
      sincosf(reduced, &s, &c);
      s *= sign;
      for (int64_t h = threadIdx.y; h < heads; h += blockDim.y) {
        const int64_t row = (tok * heads + h) * head_dim;
        const float x1 = x[row + i], x2 = x[row + i + half];
        y[row + i] = x1 * c - x2 * s;
        y[row + i + half] = x2 * c + x1 * s;
      }
    }
  }
}

// ---- sinusoidal positions ------------------------------------------------------------------------
__global__ void sinusoidal_kernel(float* __restrict__ out, int64_t total, int64_t seq_len, int64_t dim, double base,
                                  int64_t position_offset) {
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = e % dim, s = e / dim % seq_len;
    const double angle = static_cast<double>(s + position_offset) *
                         pow(base, -static_cast<double>(2 * (j / 2)) / static_cast<double>(dim));
    out[e] = static_cast<float>(j % 2 == 0 ? sin(angle) : cos(angle));
  }
}
}  // namespace

// ---- launchers -----------------------------------------------------------------------------------
void embedding_f32(const float* weight, const int64_t* ids, float* out, int64_t tokens, int64_t vocab, int64_t dim,
                   StreamHandle stream) {
  if (tokens == 0 || dim == 0) return;
  const unsigned blocks = blocks_for((tokens + kWarps - 1) / kWarps);
  const bool vec = dim % 4 == 0 && reinterpret_cast<uintptr_t>(weight) % 16 == 0 &&
                   reinterpret_cast<uintptr_t>(out) % 16 == 0;
  if (vec)
    embedding_kernel<true><<<blocks, kThreads, 0, detail::as_stream(stream)>>>(weight, ids, out, tokens, vocab, dim);
  else
    embedding_kernel<false><<<blocks, kThreads, 0, detail::as_stream(stream)>>>(weight, ids, out, tokens, vocab, dim);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

size_t embedding_backward_workspace_bytes(int64_t tokens, int64_t vocab) {
  BENCHSUITE_CHECK_ARG(tokens < (int64_t{1} << 31), "embedding_backward: tokens=", tokens,
                       " exceeds the CUDA version's limit (2^31-1)");
  if (tokens == 0) return 0;
  const size_t n = static_cast<size_t>(tokens);
  return align_up(n * sizeof(unsigned long long)) + 2 * align_up(n * sizeof(int)) + cub_temp_bytes(tokens, vocab);
}

void embedding_backward_f32(const float* dout, const int64_t* ids, float* dweight, int64_t tokens, int64_t vocab,
                            int64_t dim, void* workspace, size_t workspace_bytes, StreamHandle stream) {
  if (vocab == 0 || dim == 0) return;
  cudaStream_t s = detail::as_stream(stream);
  unsigned long long* sorted_ids = nullptr;
  int* positions = nullptr;
  if (tokens > 0) {
    const size_t n = static_cast<size_t>(tokens);
    char* base = static_cast<char*>(workspace);
    sorted_ids = reinterpret_cast<unsigned long long*>(base);
    int* positions_in = reinterpret_cast<int*>(base + align_up(n * sizeof(unsigned long long)));
    positions = reinterpret_cast<int*>(reinterpret_cast<char*>(positions_in) + align_up(n * sizeof(int)));
    char* temp = reinterpret_cast<char*>(positions) + align_up(n * sizeof(int));
    const size_t used = static_cast<size_t>(temp - base);
    BENCHSUITE_CHECK(workspace_bytes >= used, "embedding_backward: workspace of ", workspace_bytes,
                     " bytes is too small");
    size_t temp_bytes = workspace_bytes - used;  // CUB reports an error if that is short
    iota_kernel<<<detail::grid_for(tokens, kThreads), kThreads, 0, s>>>(positions_in, tokens);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
    // ids in [0, vocab) are non-negative: as unsigned keys they sort the same. Radix sort
    // is stable, so each id's positions come out in token order.
    BENCHSUITE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes,
                                                          reinterpret_cast<const unsigned long long*>(ids), sorted_ids,
                                                          positions_in, positions, static_cast<int>(tokens), 0,
                                                          bits_for(vocab), s));
  }
  const int threads = static_cast<int>(std::min<int64_t>(kThreads, (dim + 31) / 32 * 32));
  embedding_backward_rows_kernel<<<blocks_for(vocab), threads, 0, s>>>(dout, sorted_ids, positions, dweight, tokens,
                                                                      vocab, dim);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

int64_t cross_entropy_workspace_floats(int64_t rows) { return kReduceWorkspaceFloats + 2 + rows; }

void cross_entropy_f32(const float* logits, const int64_t* targets, float* loss, float* row_loss, int64_t rows,
                       int64_t classes, int64_t ignore_index, float* workspace, StreamHandle stream) {
  cudaStream_t s = detail::as_stream(stream);
  float* partials = workspace;
  float* sums = workspace + kReduceWorkspaceFloats;  // [loss sum, kept count]
  float* kept = sums + 2;
  if (rows > 0) {
    cross_entropy_rows_kernel<<<blocks_for(rows), kThreads, 0, s>>>(logits, targets, row_loss, kept, rows, classes,
                                                                     ignore_index);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  reduce_all_f32(Reduction::sum, row_loss, sums, rows, partials, stream);
  reduce_all_f32(Reduction::sum, kept, sums + 1, rows, partials, stream);
  mean_kernel<<<1, 1, 0, s>>>(sums, loss);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void cross_entropy_backward_f32(const float* logits, const int64_t* targets, float* dlogits, int64_t rows,
                                int64_t classes, int64_t ignore_index, float dloss, float* workspace,
                                StreamHandle stream) {
  if (rows == 0 || classes == 0) return;
  cudaStream_t s = detail::as_stream(stream);
  float* partials = workspace;
  float* count = workspace + kReduceWorkspaceFloats + 1;
  float* kept = workspace + kReduceWorkspaceFloats + 2;
  kept_kernel<<<detail::grid_for(rows, kThreads), kThreads, 0, s>>>(targets, kept, rows, ignore_index);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
  reduce_all_f32(Reduction::sum, kept, count, rows, partials, stream);
  cross_entropy_backward_kernel<<<blocks_for(rows), kThreads, 0, s>>>(logits, targets, dlogits, rows, classes,
                                                                      ignore_index, dloss, count);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void rope_f32(const float* x, float* y, int64_t batch, int64_t seq_len, int64_t heads, int64_t head_dim, double base,
              int64_t position_offset, bool inverse, StreamHandle stream) {
  const int64_t tokens = batch * seq_len, half = head_dim / 2;
  if (tokens == 0 || heads == 0 || half == 0) return;
  const int bx = static_cast<int>(std::min<int64_t>(kThreads, (half + 31) / 32 * 32));
  const int by = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(kThreads / bx, heads)));
  rope_kernel<<<blocks_for(tokens), dim3(bx, by), 0, detail::as_stream(stream)>>>(
      x, y, tokens, seq_len, heads, head_dim, std::log2(base), position_offset, inverse ? -1.0f : 1.0f);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void sinusoidal_positions_f32(float* out, int64_t repeats, int64_t seq_len, int64_t dim, double base,
                              int64_t position_offset, StreamHandle stream) {
  const int64_t total = repeats * seq_len * dim;
  if (total == 0) return;
  sinusoidal_kernel<<<detail::grid_for(total, kThreads), kThreads, 0, detail::as_stream(stream)>>>(
      out, total, seq_len, dim, base, position_offset);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
