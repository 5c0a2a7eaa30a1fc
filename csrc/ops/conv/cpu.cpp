// CPU kernels of the conv family: straight loops over every output position and window tap,
// in the index order conv.h spells out. With `parallel` (the v2 versions) the outermost
// independent loop (output rows, or planes each thread owns) runs over OpenMP threads: every
// sum is formed in the same order, so v2 equals v1 bit for bit.
#include <algorithm>
#include <limits>
#include <vector>

#include "ops/conv/conv.h"

namespace benchsuite::cpu {

namespace {
// Calls f(k, ih, iw, inside) for each tap k = i*kw + j of output (oh, ow).
template <class F>
void taps(const Window2d& win, int64_t h, int64_t w, int64_t oh, int64_t ow, F f) {
  for (int64_t i = 0; i < win.kh; ++i)
    for (int64_t j = 0; j < win.kw; ++j) {
      const int64_t ih = oh * win.sh - win.ph + i * win.dh, iw = ow * win.sw - win.pw + j * win.dw;
      f(i * win.kw + j, ih, iw, ih >= 0 && ih < h && iw >= 0 && iw < w);
    }
}
}  // namespace

void unfold_reference(const float* x, float* cols, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                      bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w), taps_per = win.kh * win.kw, width = c * taps_per;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < n * ho * wo; ++r) {
    const int64_t b = r / (ho * wo), oh = r / wo % ho, ow = r % wo;
    float* row = cols + r * width;
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* plane = x + (b * c + ch) * h * w;
      taps(win, h, w, oh, ow, [&](int64_t k, int64_t ih, int64_t iw, bool inside) {
        row[ch * taps_per + k] = inside ? plane[ih * w + iw] : 0.0f;
      });
    }
  }
}

void fold_reference(const float* cols, float* x, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                    bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w), taps_per = win.kh * win.kw, width = c * taps_per;
  // Plane by plane: each position's additions come in (oh, ow, tap) order, as a row-major walk.
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    const int64_t b = p / c, ch = p % c;
    float* plane = x + p * h * w;
    std::fill(plane, plane + h * w, 0.0f);
    for (int64_t oh = 0; oh < ho; ++oh)
      for (int64_t ow = 0; ow < wo; ++ow) {
        const float* row = cols + ((b * ho + oh) * wo + ow) * width;
        taps(win, h, w, oh, ow, [&](int64_t k, int64_t ih, int64_t iw, bool inside) {
          if (inside) plane[ih * w + iw] += row[ch * taps_per + k];
        });
      }
  }
}

void max_pool2d_reference(const float* x, float* y, int64_t* indices, int64_t n, int64_t c, int64_t h, int64_t w,
                          const Window2d& win, bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    const float* plane = x + p * h * w;
    for (int64_t oh = 0; oh < ho; ++oh)
      for (int64_t ow = 0; ow < wo; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        int64_t at = -1;
        taps(win, h, w, oh, ow, [&](int64_t, int64_t ih, int64_t iw, bool inside) {
          if (!inside) return;
          // The first maximum in window order; a NaN wins (the first one), as in torch.
          const float v = plane[ih * w + iw];
          if (at < 0 || v > best || (v != v && best == best)) best = v, at = ih * w + iw;
        });
        y[(p * ho + oh) * wo + ow] = best;
        indices[(p * ho + oh) * wo + ow] = at;
      }
  }
}

void max_pool2d_backward_reference(const float* dy, const int64_t* indices, float* dx, int64_t n, int64_t c,
                                   int64_t h, int64_t w, int64_t ho, int64_t wo, bool parallel) {
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    std::fill(dx + p * h * w, dx + (p + 1) * h * w, 0.0f);
    for (int64_t o = 0; o < ho * wo; ++o) {
      const int64_t at = indices[p * ho * wo + o];
      if (at >= 0) dx[p * h * w + at] += dy[p * ho * wo + o];
    }
  }
}

void avg_pool2d_reference(const float* x, float* y, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                          bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w);
  const double area = static_cast<double>(win.kh * win.kw);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    const float* plane = x + p * h * w;
    for (int64_t oh = 0; oh < ho; ++oh)
      for (int64_t ow = 0; ow < wo; ++ow) {
        double sum = 0.0;
        taps(win, h, w, oh, ow, [&](int64_t, int64_t ih, int64_t iw, bool inside) {
          if (inside) sum += plane[ih * w + iw];
        });
        y[(p * ho + oh) * wo + ow] = static_cast<float>(sum / area);
      }
  }
}

void avg_pool2d_backward_reference(const float* dy, float* dx, int64_t n, int64_t c, int64_t h, int64_t w,
                                   const Window2d& win, bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w);
  const double area = static_cast<double>(win.kh * win.kw);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    float* plane = dx + p * h * w;
    std::fill(plane, plane + h * w, 0.0f);
    for (int64_t oh = 0; oh < ho; ++oh)
      for (int64_t ow = 0; ow < wo; ++ow) {
        const float g = static_cast<float>(dy[(p * ho + oh) * wo + ow] / area);
        taps(win, h, w, oh, ow, [&](int64_t, int64_t ih, int64_t iw, bool inside) {
          if (inside) plane[ih * w + iw] += g;
        });
      }
  }
}

void depthwise_conv1d_reference(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                                int64_t channels, int64_t len, int64_t kernel, int64_t pad_left, bool parallel) {
  const int64_t out_len = len + pad_left - kernel + 1;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < batch * channels; ++p) {
    const int64_t c = p % channels;
    const float* in = x + p * len;
    for (int64_t t = 0; t < out_len; ++t) {
      double sum = bias != nullptr ? bias[c] : 0.0;
      for (int64_t k = 0; k < kernel; ++k) {
        const int64_t s = t + k - pad_left;
        if (s >= 0 && s < len) sum += static_cast<double>(w[c * kernel + k]) * in[s];
      }
      y[p * out_len + t] = static_cast<float>(sum);
    }
  }
}

void depthwise_conv1d_backward_reference(const float* dy, const float* x, const float* w, float* dx, float* dw,
                                         float* db, int64_t batch, int64_t channels, int64_t len, int64_t kernel,
                                         int64_t pad_left, bool parallel) {
  const int64_t out_len = len + pad_left - kernel + 1;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t c = 0; c < channels; ++c) {
    std::vector<double> gx(static_cast<size_t>(len)), gw(static_cast<size_t>(kernel), 0.0);
    double gb = 0;
    for (int64_t b = 0; b < batch; ++b) {
      const float *in = x + (b * channels + c) * len, *g = dy + (b * channels + c) * out_len;
      std::fill(gx.begin(), gx.end(), 0.0);
      for (int64_t t = 0; t < out_len; ++t) {
        gb += g[t];
        for (int64_t k = 0; k < kernel; ++k) {
          const int64_t s = t + k - pad_left;
          if (s < 0 || s >= len) continue;
          gw[k] += static_cast<double>(g[t]) * in[s];
          gx[s] += static_cast<double>(g[t]) * w[c * kernel + k];
        }
      }
      for (int64_t s = 0; s < len; ++s) dx[(b * channels + c) * len + s] = static_cast<float>(gx[s]);
    }
    for (int64_t k = 0; k < kernel; ++k) dw[c * kernel + k] = static_cast<float>(gw[k]);
    db[c] = static_cast<float>(gb);
  }
}

}  // namespace benchsuite::cpu
