// CUDA kernels of the conv family (float32, contiguous, conventions in conv.h). Each one
// reproduces its CPU reference's sums in the same order, so that results are deterministic
// (no atomics) and, where the reference sums in float, equal to it bit for bit:
//   unfold, max_pool2d, avg_pool2d, depthwise_conv1d: a thread per output element
//     (grid-stride), the window walked in the reference's tap order (max_pool2d: the first
//     maximum wins, a NaN wins, padding never does; avg_pool2d: a double sum over the
//     taps inside, divided by kh*kw: torch's count_include_pad=True);
//   fold and avg_pool2d_backward (scatters on the CPU): a thread per *input* position
//     gathers the windows that cover it: for each tap row i the output row oh with
//     oh*sh - ph + i*dh = ih, if any (and the same for columns); walking i and j downwards
//     visits the windows in increasing (oh, ow), the order in which the CPU adds them;
//   max_pool2d_backward: the op carries the indices only (no window), so a gather would
//     scan every output of the plane for each input; instead a thread per (sample,
//     channel) plane adds its outputs' dy at their argmax in output order (dx cleared
//     first by one memset): the CPU's sums, parallel over planes only;
//   depthwise_conv1d_backward: dx a thread per input element (a gather over the taps, in
//     double, in the reference's order); dw and db a block per (channel, tap) and per
//     channel: double partial sums over (batch, time), one block reduction, no atomics.
// All indexing is int64; grid-stride loops keep grids within 65536 blocks.
#include <cuda_runtime.h>

#include <cmath>

#include "core/cuda/block_reduce.cuh"
#include "core/cuda/launch.cuh"
#include "ops/conv/conv.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

// The window's fields for device code (Window2d's helpers are host functions), with the
// output size.
struct Win {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw, ho, wo;
};
Win device_window(const Window2d& w, int64_t h, int64_t wd) {
  return {w.kh, w.kw, w.sh, w.sw, w.ph, w.pw, w.dh, w.dw, w.out_h(h), w.out_w(wd)};
}

#define BENCHSUITE_GRID_STRIDE(i, n)                                                            \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// ---- unfold: a thread per entry of cols [N, Ho*Wo, C*kh*kw] (coalesced writes) ------------------
__global__ void unfold_kernel(const float* __restrict__ x, float* __restrict__ cols, int64_t total, int64_t c,
                              int64_t h, int64_t w, Win win) {
  const int64_t taps = win.kh * win.kw, width = c * taps;
  BENCHSUITE_GRID_STRIDE(e, total) {
    const int64_t r = e / width, col = e % width;
    const int64_t b = r / (win.ho * win.wo), oh = r / win.wo % win.ho, ow = r % win.wo;
    const int64_t ch = col / taps, k = col % taps, i = k / win.kw, j = k % win.kw;
    const int64_t ih = oh * win.sh - win.ph + i * win.dh, iw = ow * win.sw - win.pw + j * win.dw;
    cols[e] = ih >= 0 && ih < h && iw >= 0 && iw < w ? x[((b * c + ch) * h + ih) * w + iw] : 0.0f;
  }
}

// The output row (column) whose tap i (j) lands on input row ih, or -1: oh*sh = ih + ph - i*dh.
__device__ __forceinline__ int64_t covering(int64_t in, int64_t tap, int64_t stride, int64_t pad, int64_t dil,
                                            int64_t out) {
  const int64_t t = in + pad - tap * dil;
  if (t < 0 || t % stride != 0) return -1;
  const int64_t o = t / stride;
  return o < out ? o : -1;
}

// The sum over the windows covering input (ih, iw) of term(oh, ow, i, j) (tap (i, j) of output
// (oh, ow) lands there), in increasing (oh, ow): the order the CPU's scatter adds them in.
template <class Term>
__device__ __forceinline__ float sum_covering(int64_t ih, int64_t iw, const Win& win, Term term) {
  float sum = 0.0f;
  for (int64_t i = win.kh - 1; i >= 0; --i) {  // increasing oh
    const int64_t oh = covering(ih, i, win.sh, win.ph, win.dh, win.ho);
    if (oh < 0) continue;
    for (int64_t j = win.kw - 1; j >= 0; --j) {  // increasing ow
      const int64_t ow = covering(iw, j, win.sw, win.pw, win.dw, win.wo);
      if (ow >= 0) sum += term(oh, ow, i, j);
    }
  }
  return sum;
}

// ---- fold: a thread per x [N, C, H, W] entry, gathering its column entries ---------------------
__global__ void fold_kernel(const float* __restrict__ cols, float* __restrict__ x, int64_t total, int64_t c,
                            int64_t h, int64_t w, Win win) {
  const int64_t taps = win.kh * win.kw, width = c * taps;
  BENCHSUITE_GRID_STRIDE(e, total) {
    const int64_t iw = e % w, ih = e / w % h, ch = e / (h * w) % c, b = e / (c * h * w);
    x[e] = sum_covering(ih, iw, win, [&](int64_t oh, int64_t ow, int64_t i, int64_t j) {
      return cols[((b * win.ho + oh) * win.wo + ow) * width + ch * taps + i * win.kw + j];
    });
  }
}

// ---- max_pool2d: a thread per output -------------------------------------------------------------
__global__ void max_pool2d_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t* __restrict__ indices,
                                  int64_t total, int64_t h, int64_t w, Win win) {
  BENCHSUITE_GRID_STRIDE(e, total) {
    const int64_t ow = e % win.wo, oh = e / win.wo % win.ho, p = e / (win.ho * win.wo);
    const float* plane = x + p * h * w;
    float best = -INFINITY;
    int64_t at = -1;
    for (int64_t i = 0; i < win.kh; ++i) {
      const int64_t ih = oh * win.sh - win.ph + i * win.dh;
      if (ih < 0 || ih >= h) continue;
      for (int64_t j = 0; j < win.kw; ++j) {
        const int64_t iw = ow * win.sw - win.pw + j * win.dw;
        if (iw < 0 || iw >= w) continue;
        // The first maximum in window order; a NaN wins (the first one), as in torch.
        const float v = plane[ih * w + iw];
        if (at < 0 || v > best || (v != v && best == best)) best = v, at = ih * w + iw;
      }
    }
    y[e] = best;
    indices[e] = at;
  }
}

// ---- max_pool2d_backward: a thread per plane, its outputs in order (dx zeroed before) ------------
__global__ void max_pool2d_backward_kernel(const float* __restrict__ dy, const int64_t* __restrict__ indices,
                                           float* __restrict__ dx, int64_t planes, int64_t hw, int64_t outs) {
  BENCHSUITE_GRID_STRIDE(p, planes) {
    const float* g = dy + p * outs;
    const int64_t* at = indices + p * outs;
    float* plane = dx + p * hw;
    for (int64_t o = 0; o < outs; ++o)
      if (at[o] >= 0 && at[o] < hw) plane[at[o]] += g[o];
  }
}

// ---- avg_pool2d: a thread per output, a double sum over the taps inside --------------------------
__global__ void avg_pool2d_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t total, int64_t h,
                                  int64_t w, Win win) {
  const double area = static_cast<double>(win.kh * win.kw);
  BENCHSUITE_GRID_STRIDE(e, total) {
    const int64_t ow = e % win.wo, oh = e / win.wo % win.ho, p = e / (win.ho * win.wo);
    const float* plane = x + p * h * w;
    double sum = 0.0;
    for (int64_t i = 0; i < win.kh; ++i) {
      const int64_t ih = oh * win.sh - win.ph + i * win.dh;
      if (ih < 0 || ih >= h) continue;
      for (int64_t j = 0; j < win.kw; ++j) {
        const int64_t iw = ow * win.sw - win.pw + j * win.dw;
        if (iw >= 0 && iw < w) sum += plane[ih * w + iw];
      }
    }
    y[e] = static_cast<float>(sum / area);
  }
}

// ---- avg_pool2d_backward: a thread per dx entry, gathering dy / area of the covering windows -----
__global__ void avg_pool2d_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx, int64_t total,
                                           int64_t h, int64_t w, Win win) {
  const double area = static_cast<double>(win.kh * win.kw);
  BENCHSUITE_GRID_STRIDE(e, total) {
    const int64_t iw = e % w, ih = e / w % h, p = e / (h * w);
    const float* g = dy + p * win.ho * win.wo;
    dx[e] = sum_covering(ih, iw, win, [&](int64_t oh, int64_t ow, int64_t, int64_t) {
      return static_cast<float>(g[oh * win.wo + ow] / area);
    });
  }
}

// ---- depthwise conv1d ----------------------------------------------------------------------------
__global__ void depthwise_conv1d_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                        const float* __restrict__ bias, float* __restrict__ y, int64_t total,
                                        int64_t channels, int64_t len, int64_t kernel, int64_t pad_left,
                                        int64_t out_len) {
  BENCHSUITE_GRID_STRIDE(e, total) {
    const int64_t t = e % out_len, p = e / out_len, c = p % channels;
    const float* in = x + p * len;
    double sum = bias != nullptr ? bias[c] : 0.0;
    for (int64_t k = 0; k < kernel; ++k) {
      const int64_t s = t + k - pad_left;
      if (s >= 0 && s < len) sum += static_cast<double>(w[c * kernel + k]) * in[s];
    }
    y[e] = static_cast<float>(sum);
  }
}

// dx[b, c, s] = sum over t (increasing) of dy[b, c, t] * w[c, s + pad_left - t].
__global__ void depthwise_conv1d_backward_dx_kernel(const float* __restrict__ dy, const float* __restrict__ w,
                                                    float* __restrict__ dx, int64_t total, int64_t channels,
                                                    int64_t len, int64_t kernel, int64_t pad_left, int64_t out_len) {
  BENCHSUITE_GRID_STRIDE(e, total) {
    const int64_t s = e % len, p = e / len, c = p % channels;
    const float* g = dy + p * out_len;
    const int64_t first = s + pad_left - kernel + 1, last = s + pad_left;  // t with k in [0, kernel)
    double sum = 0.0;
    for (int64_t t = first > 0 ? first : 0; t <= last && t < out_len; ++t)
      sum += static_cast<double>(g[t]) * w[c * kernel + (s + pad_left - t)];
    dx[e] = static_cast<float>(sum);
  }
}

// Block (c, k): dw[c, k] = sum over (b, t) of dy[b, c, t] * x[b, c, t + k - pad_left] for
// k < kernel; block (c, kernel): db[c] = sum of dy[b, c, :]. Grid (channels, kernel + 1).
__global__ void __launch_bounds__(kThreads) depthwise_conv1d_backward_params_kernel(
    const float* __restrict__ dy, const float* __restrict__ x, float* __restrict__ dw, float* __restrict__ db,
    int64_t batch, int64_t channels, int64_t len, int64_t kernel, int64_t pad_left, int64_t out_len) {
  const int64_t c = blockIdx.x, k = blockIdx.y;
  double sum = 0.0;
  for (int64_t e = threadIdx.x; e < batch * out_len; e += kThreads) {
    const int64_t b = e / out_len, t = e % out_len;
    const float g = dy[(b * channels + c) * out_len + t];
    if (k == kernel) {
      sum += g;
    } else {
      const int64_t s = t + k - pad_left;
      if (s >= 0 && s < len) sum += static_cast<double>(g) * x[(b * channels + c) * len + s];
    }
  }
  sum = detail::block_sum_f64<kThreads>(sum);
  if (threadIdx.x == 0) {
    if (k == kernel)
      db[c] = static_cast<float>(sum);
    else
      dw[c * kernel + k] = static_cast<float>(sum);
  }
}

// Grid for a grid-stride loop over `total` items (none launched for zero).
unsigned grid(int64_t total) { return detail::grid_for(total, kThreads); }
}  // namespace

void unfold_f32(const float* x, float* cols, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                StreamHandle stream) {
  const Win dwin = device_window(win, h, w);
  const int64_t total = n * dwin.ho * dwin.wo * c * win.kh * win.kw;
  if (total == 0) return;
  unfold_kernel<<<grid(total), kThreads, 0, detail::as_stream(stream)>>>(x, cols, total, c, h, w, dwin);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void fold_f32(const float* cols, float* x, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
              StreamHandle stream) {
  const int64_t total = n * c * h * w;
  if (total == 0) return;
  fold_kernel<<<grid(total), kThreads, 0, detail::as_stream(stream)>>>(cols, x, total, c, h, w,
                                                                       device_window(win, h, w));
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void max_pool2d_f32(const float* x, float* y, int64_t* indices, int64_t n, int64_t c, int64_t h, int64_t w,
                    const Window2d& win, StreamHandle stream) {
  const Win dwin = device_window(win, h, w);
  const int64_t total = n * c * dwin.ho * dwin.wo;
  if (total == 0) return;
  max_pool2d_kernel<<<grid(total), kThreads, 0, detail::as_stream(stream)>>>(x, y, indices, total, h, w, dwin);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void max_pool2d_backward_f32(const float* dy, const int64_t* indices, float* dx, int64_t n, int64_t c, int64_t h,
                             int64_t w, int64_t ho, int64_t wo, StreamHandle stream) {
  const int64_t planes = n * c;
  if (planes * h * w == 0) return;
  BENCHSUITE_CUDA_CHECK(
      cudaMemsetAsync(dx, 0, static_cast<size_t>(planes * h * w) * sizeof(float), detail::as_stream(stream)));
  if (ho * wo == 0) return;
  max_pool2d_backward_kernel<<<grid(planes), kThreads, 0, detail::as_stream(stream)>>>(dy, indices, dx, planes, h * w,
                                                                                      ho * wo);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void avg_pool2d_f32(const float* x, float* y, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                    StreamHandle stream) {
  const Win dwin = device_window(win, h, w);
  const int64_t total = n * c * dwin.ho * dwin.wo;
  if (total == 0) return;
  avg_pool2d_kernel<<<grid(total), kThreads, 0, detail::as_stream(stream)>>>(x, y, total, h, w, dwin);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void avg_pool2d_backward_f32(const float* dy, float* dx, int64_t n, int64_t c, int64_t h, int64_t w,
                             const Window2d& win, StreamHandle stream) {
  const int64_t total = n * c * h * w;
  if (total == 0) return;
  avg_pool2d_backward_kernel<<<grid(total), kThreads, 0, detail::as_stream(stream)>>>(dy, dx, total, h, w,
                                                                                      device_window(win, h, w));
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void depthwise_conv1d_f32(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                          int64_t channels, int64_t len, int64_t kernel, int64_t pad_left, StreamHandle stream) {
  const int64_t out_len = len + pad_left - kernel + 1, total = batch * channels * out_len;
  if (total <= 0) return;
  depthwise_conv1d_kernel<<<grid(total), kThreads, 0, detail::as_stream(stream)>>>(x, w, bias, y, total, channels,
                                                                                   len, kernel, pad_left, out_len);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void depthwise_conv1d_backward_f32(const float* dy, const float* x, const float* w, float* dx, float* dw, float* db,
                                   int64_t batch, int64_t channels, int64_t len, int64_t kernel, int64_t pad_left,
                                   StreamHandle stream) {
  const int64_t out_len = len + pad_left - kernel + 1;
  if (channels == 0) return;
  BENCHSUITE_CHECK_ARG(channels <= 2147483647LL && kernel < 65535, "depthwise_conv1d_backward: channels=", channels,
                       " and kernel=", kernel, " exceed the CUDA grid (2^31-1 channels, 65534 taps)");
  const cudaStream_t s = detail::as_stream(stream);
  const int64_t total = batch * channels * len;
  if (total > 0) {
    depthwise_conv1d_backward_dx_kernel<<<grid(total), kThreads, 0, s>>>(dy, w, dx, total, channels, len, kernel,
                                                                         pad_left, out_len);
    BENCHSUITE_CUDA_CHECK_LAUNCH();
  }
  const dim3 blocks(static_cast<unsigned>(channels), static_cast<unsigned>(kernel + 1));
  depthwise_conv1d_backward_params_kernel<<<blocks, kThreads, 0, s>>>(dy, x, dw, db, batch, channels, len, kernel,
                                                                       pad_left, out_len);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
