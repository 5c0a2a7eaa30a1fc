// CPU kernels of the conv family: straight loops over every output position and window tap,
// in the index order conv.h spells out. With `parallel` (the v2 versions) the outermost
// independent loop (output rows, or planes each thread owns) runs over OpenMP threads: every
// sum is formed in the same order, so v2 equals v1 bit for bit. T: float, or double (the v1
// references on float64 tensors, for the finite-difference gradient checks).
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

template <class T>
void unfold_reference(const T* x, T* cols, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                      bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w), taps_per = win.kh * win.kw, width = c * taps_per;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < n * ho * wo; ++r) {
    const int64_t b = r / (ho * wo), oh = r / wo % ho, ow = r % wo;
    T* row = cols + r * width;
    for (int64_t ch = 0; ch < c; ++ch) {
      const T* plane = x + (b * c + ch) * h * w;
      taps(win, h, w, oh, ow, [&](int64_t k, int64_t ih, int64_t iw, bool inside) {
        row[ch * taps_per + k] = inside ? plane[ih * w + iw] : T(0);
      });
    }
  }
}

template <class T>
void fold_reference(const T* cols, T* x, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                    bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w), taps_per = win.kh * win.kw, width = c * taps_per;
  // Plane by plane: each position's additions come in (oh, ow, tap) order, as a row-major walk.
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    const int64_t b = p / c, ch = p % c;
    T* plane = x + p * h * w;
    std::fill(plane, plane + h * w, T(0));
    for (int64_t oh = 0; oh < ho; ++oh)
      for (int64_t ow = 0; ow < wo; ++ow) {
        const T* row = cols + ((b * ho + oh) * wo + ow) * width;
        taps(win, h, w, oh, ow, [&](int64_t k, int64_t ih, int64_t iw, bool inside) {
          if (inside) plane[ih * w + iw] += row[ch * taps_per + k];
        });
      }
  }
}

template <class T>
void max_pool2d_reference(const T* x, T* y, int64_t* indices, int64_t n, int64_t c, int64_t h, int64_t w,
                          const Window2d& win, bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    const T* plane = x + p * h * w;
    for (int64_t oh = 0; oh < ho; ++oh)
      for (int64_t ow = 0; ow < wo; ++ow) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t at = -1;
        taps(win, h, w, oh, ow, [&](int64_t, int64_t ih, int64_t iw, bool inside) {
          if (!inside) return;
          // The first maximum in window order; a NaN wins (the first one), as in torch.
          const T v = plane[ih * w + iw];
          if (at < 0 || v > best || (v != v && best == best)) best = v, at = ih * w + iw;
        });
        y[(p * ho + oh) * wo + ow] = best;
        indices[(p * ho + oh) * wo + ow] = at;
      }
  }
}

template <class T>
void max_pool2d_backward_reference(const T* dy, const int64_t* indices, T* dx, int64_t n, int64_t c, int64_t h,
                                   int64_t w, int64_t ho, int64_t wo, bool parallel) {
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    std::fill(dx + p * h * w, dx + (p + 1) * h * w, T(0));
    for (int64_t o = 0; o < ho * wo; ++o) {
      const int64_t at = indices[p * ho * wo + o];
      if (at >= 0) dx[p * h * w + at] += dy[p * ho * wo + o];
    }
  }
}

template <class T>
void avg_pool2d_reference(const T* x, T* y, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                          bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w);
  const double area = static_cast<double>(win.kh * win.kw);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    const T* plane = x + p * h * w;
    for (int64_t oh = 0; oh < ho; ++oh)
      for (int64_t ow = 0; ow < wo; ++ow) {
        double sum = 0.0;
        taps(win, h, w, oh, ow, [&](int64_t, int64_t ih, int64_t iw, bool inside) {
          if (inside) sum += plane[ih * w + iw];
        });
        y[(p * ho + oh) * wo + ow] = static_cast<T>(sum / area);
      }
  }
}

template <class T>
void avg_pool2d_backward_reference(const T* dy, T* dx, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                                   bool parallel) {
  const int64_t ho = win.out_h(h), wo = win.out_w(w);
  const double area = static_cast<double>(win.kh * win.kw);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < n * c; ++p) {
    T* plane = dx + p * h * w;
    std::fill(plane, plane + h * w, T(0));
    for (int64_t oh = 0; oh < ho; ++oh)
      for (int64_t ow = 0; ow < wo; ++ow) {
        const T g = static_cast<T>(dy[(p * ho + oh) * wo + ow] / area);
        taps(win, h, w, oh, ow, [&](int64_t, int64_t ih, int64_t iw, bool inside) {
          if (inside) plane[ih * w + iw] += g;
        });
      }
  }
}

template <class T>
void depthwise_conv1d_reference(const T* x, const T* w, const T* bias, T* y, int64_t batch, int64_t channels,
                                int64_t len, int64_t kernel, int64_t pad_left, bool parallel) {
  const int64_t out_len = len + pad_left - kernel + 1;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < batch * channels; ++p) {
    const int64_t c = p % channels;
    const T* in = x + p * len;
    for (int64_t t = 0; t < out_len; ++t) {
      double sum = bias != nullptr ? bias[c] : 0.0;
      for (int64_t k = 0; k < kernel; ++k) {
        const int64_t s = t + k - pad_left;
        if (s >= 0 && s < len) sum += static_cast<double>(w[c * kernel + k]) * in[s];
      }
      y[p * out_len + t] = static_cast<T>(sum);
    }
  }
}

template <class T>
void depthwise_conv1d_backward_reference(const T* dy, const T* x, const T* w, T* dx, T* dw, T* db, int64_t batch,
                                         int64_t channels, int64_t len, int64_t kernel, int64_t pad_left,
                                         bool parallel) {
  const int64_t out_len = len + pad_left - kernel + 1;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t c = 0; c < channels; ++c) {
    std::vector<double> gx(static_cast<size_t>(len)), gw(static_cast<size_t>(kernel), 0.0);
    double gb = 0;
    for (int64_t b = 0; b < batch; ++b) {
      const T *in = x + (b * channels + c) * len, *g = dy + (b * channels + c) * out_len;
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
      for (int64_t s = 0; s < len; ++s) dx[(b * channels + c) * len + s] = static_cast<T>(gx[s]);
    }
    for (int64_t k = 0; k < kernel; ++k) dw[c * kernel + k] = static_cast<T>(gw[k]);
    db[c] = static_cast<T>(gb);
  }
}

#define BENCHSUITE_CONV_REFERENCES(T)                                                                             \
  template void unfold_reference(const T*, T*, int64_t, int64_t, int64_t, int64_t, const Window2d&, bool);        \
  template void fold_reference(const T*, T*, int64_t, int64_t, int64_t, int64_t, const Window2d&, bool);          \
  template void max_pool2d_reference(const T*, T*, int64_t*, int64_t, int64_t, int64_t, int64_t, const Window2d&, \
                                     bool);                                                                       \
  template void max_pool2d_backward_reference(const T*, const int64_t*, T*, int64_t, int64_t, int64_t, int64_t,   \
                                              int64_t, int64_t, bool);                                            \
  template void avg_pool2d_reference(const T*, T*, int64_t, int64_t, int64_t, int64_t, const Window2d&, bool);    \
  template void avg_pool2d_backward_reference(const T*, T*, int64_t, int64_t, int64_t, int64_t, const Window2d&,  \
                                              bool);                                                              \
  template void depthwise_conv1d_reference(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t,  \
                                           int64_t, bool);                                                        \
  template void depthwise_conv1d_backward_reference(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t,   \
                                                    int64_t, int64_t, int64_t, bool);
BENCHSUITE_CONV_REFERENCES(float)
BENCHSUITE_CONV_REFERENCES(double)
#undef BENCHSUITE_CONV_REFERENCES

}  // namespace benchsuite::cpu
