// CUDA kernels of the mixture-of-experts family (formulas in moe.h), float32 with int64
// indices, every one deterministic (no float atomics, every sum in a fixed order) and
// matching the CPU references' conventions:
//   topk_gate: a thread per token picks the k largest logits one after another, each the
//     largest that comes after the previous pick in (descending logit, ascending index)
//     order, so ties go to the lower index as the reference's stable sort; then the
//     softmax over the k (fp32, relative to the largest).
//   topk_gate_backward: a thread per token zeroes its row of dlogits and scatters the k
//     softmax-backward terms.
//   moe_permute: one block runs the stable counting sort: a thread per expert counts its
//     assignments, thread 0 scans the counts into offsets, then each expert's thread walks
//     the assignments in order and places its own (token order within an expert, as the
//     reference). The walk reads the same index at once across the block (a broadcast);
//     E threads of work is enough for a v1 whose cost is the row copies, which a grid-
//     stride gather does next.
//   moe_permute_backward / moe_unpermute: the inverse of `order` is built in a workspace,
//     then each output element gathers its token's k rows in slot order (no scatter).
//   moe_unpermute_backward: a block per row: dys scaled by its weight, dweights a
//     block-reduced dot product.
//   grouped_matmul: a 16x16 shared-memory tiled GEMM; grid.y walks the row tiles of all
//     segments (each block finds its expert and tile from the offsets in device memory, as
//     moe_permute leaves them there), so segments of any length, 0 included, cost their
//     own tiles only. grid.y's bound ceil(N/16) + E is known on the host.
//   grouped_matmul_weight_grad: a block per (16x16 tile of dW[e], expert) sums its
//     segment's rows 16 at a time through shared memory, in row order.
// Kernels index in int64; the grid dimensions are checked or walked by grid-stride loops.
// Indices that the validated ops would reject (a corrupt order or offsets in a graph) are
// guarded so that they read no memory outside the tensors.
#include <algorithm>
#include <cstdint>

#include "core/cuda/block_reduce.cuh"
#include "core/cuda/launch.cuh"
#include "core/error.h"
#include "ops/moe/moe.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;     // grid-stride and per-token kernels
constexpr int kRowThreads = 128;  // block per row (moe_unpermute_backward)
constexpr int kTile = 16;         // grouped GEMM tiles: 16x16 threads, one output each
constexpr unsigned kMaxGridYZ = 65535;
constexpr int64_t kMaxGridX = 2147483647LL;

unsigned clamp_grid(int64_t blocks, int64_t limit) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, limit)));
}

// ---- top-k gate ---------------------------------------------------------------------------
__global__ void topk_gate_kernel(const float* __restrict__ logits, float* __restrict__ weights,
                                 int64_t* __restrict__ indices, int64_t tokens, int64_t experts, int64_t k) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < tokens; t += stride) {
    const float* row = logits + t * experts;
    int64_t* idx = indices + t * k;
    int64_t prev = -1;
    for (int64_t j = 0; j < k; ++j) {
      int64_t best = -1;
      for (int64_t e = 0; e < experts; ++e) {
        // After the previous pick in (descending logit, ascending index) order.
        const bool after = prev < 0 || row[e] < row[prev] || (row[e] == row[prev] && e > prev);
        if (after && (best < 0 || row[e] > row[best])) best = e;  // strict: the lower index on ties
      }
      if (best < 0) best = prev;  // only with NaN logits (the reference's sort is undefined there too)
      idx[j] = best;
      prev = best;
    }
    const float top = row[idx[0]];
    float total = 0.0f;
    for (int64_t j = 0; j < k; ++j) total += expf(row[idx[j]] - top);
    for (int64_t j = 0; j < k; ++j) weights[t * k + j] = expf(row[idx[j]] - top) / total;
  }
}

__global__ void topk_gate_backward_kernel(const float* __restrict__ dweights, const float* __restrict__ weights,
                                          const int64_t* __restrict__ indices, float* __restrict__ dlogits,
                                          int64_t tokens, int64_t experts, int64_t k) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < tokens; t += stride) {
    float* row = dlogits + t * experts;
    for (int64_t e = 0; e < experts; ++e) row[e] = 0.0f;
    float dot = 0.0f;  // softmax backward over the chosen k: w_j (g_j - sum_i w_i g_i)
    for (int64_t j = 0; j < k; ++j) dot += weights[t * k + j] * dweights[t * k + j];
    for (int64_t j = 0; j < k; ++j) {
      const int64_t e = indices[t * k + j];
      if (e >= 0 && e < experts) row[e] = weights[t * k + j] * (dweights[t * k + j] - dot);
    }
  }
}

// ---- permutation --------------------------------------------------------------------------
// One block: the stable counting sort of `assignments` expert indices (see the header).
// Indices outside [0, experts) are not placed (the validated op rejects them).
__global__ void __launch_bounds__(kThreads) permute_order_kernel(const int64_t* __restrict__ indices,
                                                                 int64_t* __restrict__ order,
                                                                 int64_t* __restrict__ offsets, int64_t assignments,
                                                                 int64_t experts) {
  for (int64_t e = threadIdx.x; e < experts; e += blockDim.x) {
    int64_t count = 0;
    for (int64_t a = 0; a < assignments; ++a) count += indices[a] == e;
    offsets[e + 1] = count;
  }
  __syncthreads();  // also orders global memory within the block
  if (threadIdx.x == 0) {
    offsets[0] = 0;
    for (int64_t e = 0; e < experts; ++e) offsets[e + 1] += offsets[e];
  }
  __syncthreads();
  for (int64_t e = threadIdx.x; e < experts; e += blockDim.x) {
    int64_t row = offsets[e];
    for (int64_t a = 0; a < assignments; ++a)
      if (indices[a] == e) order[row++] = a;
  }
}

// xs[row] = x[order[row] / k]; a row whose order entry is out of range (never placed) is zero.
__global__ void permute_gather_kernel(const float* __restrict__ x, const int64_t* __restrict__ order,
                                      float* __restrict__ xs, int64_t rows, int64_t width, int64_t k) {
  const int64_t n = rows * width, stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t row = i / width, c = i % width, a = order[row];
    xs[i] = a >= 0 && a < rows ? x[(a / k) * width + c] : 0.0f;
  }
}

// row_of[order[row]] = row.
__global__ void inverse_order_kernel(const int64_t* __restrict__ order, int64_t* __restrict__ row_of, int64_t rows) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; row < rows; row += stride) {
    const int64_t a = order[row];
    if (a >= 0 && a < rows) row_of[a] = row;
  }
}

// out[t, c] = sum over j of (weights[t, j] or 1) * rows[row_of[t*k + j], c], in slot order. An
// entry of row_of is used only when order maps it back (a corrupt order leaves some unset).
__global__ void gather_rows_kernel(const float* __restrict__ rows_in, const int64_t* __restrict__ order,
                                   const int64_t* __restrict__ row_of, const float* __restrict__ weights,
                                   float* __restrict__ out, int64_t tokens, int64_t width, int64_t k) {
  const int64_t n = tokens * width, rows = tokens * k, stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t t = i / width, c = i % width;
    float sum = 0.0f;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t a = t * k + j, r = row_of[a];
      if (r < 0 || r >= rows || order[r] != a) continue;
      const float v = rows_in[r * width + c];
      sum += weights ? weights[a] * v : v;
    }
    out[i] = sum;
  }
}

// A block per row (grid-stride over rows): dys[row] = weights[a] * dout[t], dweights[a] =
// dout[t] . ys[row], with a = order[row], t = a / k.
__global__ void __launch_bounds__(kRowThreads) unpermute_backward_kernel(
    const float* __restrict__ dout, const float* __restrict__ ys, const int64_t* __restrict__ order,
    const float* __restrict__ weights, float* __restrict__ dys, float* __restrict__ dweights, int64_t rows,
    int64_t width, int64_t k) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int64_t a = order[row];
    const bool valid = a >= 0 && a < rows;  // uniform across the block
    const float wa = valid ? weights[a] : 0.0f;
    const float* g = dout + (valid ? a / k : 0) * width;
    float dot = 0.0f;
    for (int64_t c = threadIdx.x; c < width; c += kRowThreads) {
      const float gc = valid ? g[c] : 0.0f;
      dys[row * width + c] = wa * gc;
      dot += gc * ys[row * width + c];
    }
    dot = detail::block_sum<kRowThreads>(dot);
    if (threadIdx.x == 0 && valid) dweights[a] = dot;
  }
}

// ---- grouped GEMM -------------------------------------------------------------------------
// Expert e's rows [lo, hi) from the offsets, clamped into [0, rows].
__device__ __forceinline__ void segment(const int64_t* __restrict__ offsets, int64_t e, int64_t rows, int64_t& lo,
                                        int64_t& hi) {
  lo = min(max(offsets[e], int64_t{0}), rows);
  hi = max(min(max(offsets[e + 1], int64_t{0}), rows), lo);
}

// ys[r] = xs[r] W[e] for the rows r of expert e; w [E, K, M]. Thread (ty, tx) owns row
// row0 + ty and column blockIdx.x * 16 + tx of its tile.
__global__ void __launch_bounds__(kTile * kTile) grouped_matmul_kernel(const float* __restrict__ xs,
                                                                       const int64_t* __restrict__ offsets,
                                                                       const float* __restrict__ w,
                                                                       float* __restrict__ ys, int64_t rows,
                                                                       int64_t experts, int64_t kdim, int64_t mdim,
                                                                       int64_t max_tiles) {
  __shared__ float as[kTile][kTile + 1];  // as[r][q] = xs[row0 + r, k0 + q]
  __shared__ float bs[kTile][kTile + 1];  // bs[q][m] = W[e, k0 + q, col0 + m]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kTile + tx;
  for (int64_t tile = blockIdx.y; tile < max_tiles; tile += gridDim.y) {
    // This tile's expert and first row: the segments' tiles in expert order.
    int64_t e = -1, row0 = 0, end = 0, seen = 0;
    for (int64_t q = 0; q < experts; ++q) {
      int64_t lo, hi;
      segment(offsets, q, rows, lo, hi);
      const int64_t tiles = (hi - lo + kTile - 1) / kTile;
      if (tile < seen + tiles) {
        e = q;
        row0 = lo + (tile - seen) * kTile;
        end = hi;
        break;
      }
      seen += tiles;
    }
    if (e < 0) break;  // past the last segment's tiles: the same for every thread of the block
    const float* we = w + e * kdim * mdim;
    const int64_t r = row0 + ty;
    float acc = 0.0f;
    for (int64_t k0 = 0; k0 < kdim; k0 += kTile) {
      as[ty][tx] = (r < end && k0 + tx < kdim) ? xs[r * kdim + k0 + tx] : 0.0f;
      bs[ty][tx] = (k0 + ty < kdim && col < mdim) ? we[(k0 + ty) * mdim + col] : 0.0f;
      __syncthreads();
#pragma unroll
      for (int q = 0; q < kTile; ++q) acc += as[ty][q] * bs[q][tx];
      __syncthreads();
    }
    if (r < end && col < mdim) ys[r * mdim + col] = acc;
  }
}

// dW[e] = xs_e^T dys_e: block (tile of K x M, expert); thread (ty, tx) owns dW[e, q0 + ty,
// m0 + tx], summed over the segment's rows in order, 16 rows per shared-memory step.
__global__ void __launch_bounds__(kTile * kTile) grouped_weight_grad_kernel(const float* __restrict__ xs,
                                                                            const float* __restrict__ dys,
                                                                            const int64_t* __restrict__ offsets,
                                                                            float* __restrict__ dw, int64_t rows,
                                                                            int64_t experts, int64_t kdim,
                                                                            int64_t mdim, bool out_in) {
  __shared__ float xt[kTile][kTile + 1];  // xt[r][q] = xs[r0 + r, q0 + q]
  __shared__ float gt[kTile][kTile + 1];  // gt[r][m] = dys[r0 + r, m0 + m]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t tiles_m = (mdim + kTile - 1) / kTile;
  const int64_t q0 = (blockIdx.x / tiles_m) * kTile, m0 = (blockIdx.x % tiles_m) * kTile;
  const int64_t q = q0 + ty, m = m0 + tx;
  for (int64_t e = blockIdx.y; e < experts; e += gridDim.y) {
    int64_t lo, hi;
    segment(offsets, e, rows, lo, hi);
    float acc = 0.0f;
    for (int64_t r0 = lo; r0 < hi; r0 += kTile) {
      const int64_t r = r0 + ty;
      xt[ty][tx] = (r < hi && q0 + tx < kdim) ? xs[r * kdim + q0 + tx] : 0.0f;
      gt[ty][tx] = (r < hi && m < mdim) ? dys[r * mdim + m] : 0.0f;
      __syncthreads();
#pragma unroll
      for (int i = 0; i < kTile; ++i) acc += xt[i][ty] * gt[i][tx];
      __syncthreads();
    }
    if (q < kdim && m < mdim) dw[out_in ? (e * mdim + m) * kdim + q : (e * kdim + q) * mdim + m] = acc;
  }
}

// The inverse of order into row_of, then each token's k rows gathered (weighted when
// weights is given).
void gather_tokens(const float* rows_in, const int64_t* order, const float* weights, int64_t* row_of,
                   float* out, int64_t tokens, int64_t width, int64_t k, cudaStream_t st) {
  const int64_t rows = tokens * k, n = tokens * width;
  if (n == 0) return;
  if (rows > 0) {
    inverse_order_kernel<<<detail::grid_for(rows, kThreads), kThreads, 0, st>>>(order, row_of, rows);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  gather_rows_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, st>>>(rows_in, order, row_of, weights, out, tokens,
                                                                         width, k);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}
}  // namespace

void topk_gate_f32(const float* logits, float* weights, int64_t* indices, int64_t tokens, int64_t experts, int64_t k,
                   StreamHandle stream) {
  if (tokens == 0 || k == 0) return;
  topk_gate_kernel<<<detail::grid_for(tokens, kThreads), kThreads, 0, detail::as_stream(stream)>>>(
      logits, weights, indices, tokens, experts, k);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void topk_gate_backward_f32(const float* dweights, const float* weights, const int64_t* indices, float* dlogits,
                            int64_t tokens, int64_t experts, int64_t k, StreamHandle stream) {
  if (tokens == 0 || experts == 0) return;
  topk_gate_backward_kernel<<<detail::grid_for(tokens, kThreads), kThreads, 0, detail::as_stream(stream)>>>(
      dweights, weights, indices, dlogits, tokens, experts, k);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void moe_permute_f32(const float* x, const int64_t* indices, float* xs, int64_t* order, int64_t* offsets,
                     int64_t tokens, int64_t width, int64_t experts, int64_t k, StreamHandle stream) {
  cudaStream_t st = detail::as_stream(stream);
  const int64_t rows = tokens * k;
  // Always: offsets [experts + 1] are written even when there are no rows.
  permute_order_kernel<<<1, kThreads, 0, st>>>(indices, order, offsets, rows, experts);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
  if (rows * width == 0) return;
  permute_gather_kernel<<<detail::grid_for(rows * width, kThreads), kThreads, 0, st>>>(x, order, xs, rows, width, k);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void moe_permute_backward_f32(const float* dxs, const int64_t* order, int64_t* row_of, float* dx, int64_t tokens,
                              int64_t width, int64_t k, StreamHandle stream) {
  gather_tokens(dxs, order, nullptr, row_of, dx, tokens, width, k, detail::as_stream(stream));
}

void grouped_matmul_f32(const float* xs, const int64_t* offsets, const float* w, float* ys, int64_t rows,
                        int64_t experts, int64_t kdim, int64_t mdim, StreamHandle stream) {
  if (rows == 0 || mdim == 0) return;
  const int64_t col_tiles = (mdim + kTile - 1) / kTile;
  BENCHSUITE_CHECK_ARG(col_tiles <= kMaxGridX, "grouped_matmul: M=", mdim, " needs ", col_tiles,
                       " column tiles, over the CUDA grid limit (2^31-1)");
  const int64_t max_tiles = (rows + kTile - 1) / kTile + experts;  // sum over e of ceil(rows_e / 16)
  const dim3 grid(static_cast<unsigned>(col_tiles), clamp_grid(max_tiles, kMaxGridYZ));
  grouped_matmul_kernel<<<grid, dim3(kTile, kTile), 0, detail::as_stream(stream)>>>(xs, offsets, w, ys, rows, experts,
                                                                                     kdim, mdim, max_tiles);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void grouped_matmul_weight_grad_f32(const float* xs, const float* dys, const int64_t* offsets, float* dw,
                                    int64_t rows, int64_t experts, int64_t kdim, int64_t mdim, bool out_in,
                                    StreamHandle stream) {
  if (experts == 0 || kdim == 0 || mdim == 0) return;
  const int64_t tiles = ((kdim + kTile - 1) / kTile) * ((mdim + kTile - 1) / kTile);
  BENCHSUITE_CHECK_ARG(tiles <= kMaxGridX, "grouped_matmul_weight_grad: K=", kdim, ", M=", mdim, " need ", tiles,
                       " tiles, over the CUDA grid limit (2^31-1)");
  const dim3 grid(static_cast<unsigned>(tiles), clamp_grid(experts, kMaxGridYZ));
  grouped_weight_grad_kernel<<<grid, dim3(kTile, kTile), 0, detail::as_stream(stream)>>>(xs, dys, offsets, dw, rows,
                                                                                          experts, kdim, mdim, out_in);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void moe_unpermute_f32(const float* ys, const int64_t* order, const float* weights, int64_t* row_of, float* out,
                       int64_t tokens, int64_t width, int64_t k, StreamHandle stream) {
  gather_tokens(ys, order, weights, row_of, out, tokens, width, k, detail::as_stream(stream));
}

void moe_unpermute_backward_f32(const float* dout, const float* ys, const int64_t* order, const float* weights,
                                float* dys, float* dweights, int64_t tokens, int64_t width, int64_t k,
                                StreamHandle stream) {
  const int64_t rows = tokens * k;
  if (rows == 0) return;
  unpermute_backward_kernel<<<detail::grid_for(rows, 1), kRowThreads, 0, detail::as_stream(stream)>>>(
      dout, ys, order, weights, dys, dweights, rows, width, k);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
