// The conv family: the sliding-window pieces convolutions and pooling are made of, on
// x [N, C, H, W] (a 1-D signal is H = 1), with torch's conventions.
//   window: kernel kh x kw, stride, zero padding, dilation; Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1
//   unfold (im2col): cols [N, Ho*Wo, C*kh*kw], column c*kh*kw + i*kw + j holding
//     x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (0 outside): a convolution is then one GEMM
//     with the weight [O, C, kh, kw] seen as [O, C*kh*kw];
//   fold (col2im, unfold's adjoint): sums every column entry back onto its x position;
//   max_pool2d: y [N, C, Ho, Wo] and the argmax's flat index into H*W (padding never wins);
//   avg_pool2d: the window mean, the padding counted (torch's count_include_pad=True);
//   and the backwards: max routes dy to its argmax, avg spreads dy / (kh*kw) over the window.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

struct Window2d {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t out_h(int64_t h) const { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t out_w(int64_t w) const { return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
};

// Contiguous; T float (float32), or double (float64: the v1 references only). parallel = false:
// the references (v1, one thread); true: v2, the outermost independent loop over OpenMP
// threads (the same sums, bit for bit).
namespace cpu {
template <class T>
void unfold_reference(const T* x, T* cols, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                      bool parallel = false);
template <class T>
void fold_reference(const T* cols, T* x, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                    bool parallel = false);
template <class T>
void max_pool2d_reference(const T* x, T* y, int64_t* indices, int64_t n, int64_t c, int64_t h, int64_t w,
                          const Window2d& win, bool parallel = false);
template <class T>
void max_pool2d_backward_reference(const T* dy, const int64_t* indices, T* dx, int64_t n, int64_t c, int64_t h,
                                   int64_t w, int64_t ho, int64_t wo, bool parallel = false);
template <class T>
void avg_pool2d_reference(const T* x, T* y, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                          bool parallel = false);
template <class T>
void avg_pool2d_backward_reference(const T* dy, T* dx, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                                   bool parallel = false);
// Depthwise 1-D convolution with left padding (Mamba's causal conv with pad_left = K - 1):
// y[b, c, t] = bias[c] + sum_k w[c, k] x[b, c, t + k - pad_left], x [B, C, L], w [C, K],
// y [B, C, L + pad_left - K + 1]; bias may be null. The backward gives dx, dw, db.
template <class T>
void depthwise_conv1d_reference(const T* x, const T* w, const T* bias, T* y, int64_t batch, int64_t channels,
                                int64_t len, int64_t kernel, int64_t pad_left, bool parallel = false);
template <class T>
void depthwise_conv1d_backward_reference(const T* dy, const T* x, const T* w, T* dx, T* dw, T* db, int64_t batch,
                                         int64_t channels, int64_t len, int64_t kernel, int64_t pad_left,
                                         bool parallel = false);
}  // namespace cpu

// CUDA launchers (no CUDA headers here): device pointers, float32, contiguous, the shapes and
// sums of the cpu:: functions above (cuda.cu says how each is parallelised). Deterministic: no
// atomics; every sum is formed in a fixed order. Indices outside [0, h*w) are skipped, never
// written through (the op layer rejects them first).
namespace cuda {
void unfold_f32(const float* x, float* cols, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                StreamHandle stream);
void fold_f32(const float* cols, float* x, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
              StreamHandle stream);
void max_pool2d_f32(const float* x, float* y, int64_t* indices, int64_t n, int64_t c, int64_t h, int64_t w,
                    const Window2d& win, StreamHandle stream);
void max_pool2d_backward_f32(const float* dy, const int64_t* indices, float* dx, int64_t n, int64_t c, int64_t h,
                             int64_t w, int64_t ho, int64_t wo, StreamHandle stream);
void avg_pool2d_f32(const float* x, float* y, int64_t n, int64_t c, int64_t h, int64_t w, const Window2d& win,
                    StreamHandle stream);
void avg_pool2d_backward_f32(const float* dy, float* dx, int64_t n, int64_t c, int64_t h, int64_t w,
                             const Window2d& win, StreamHandle stream);
void depthwise_conv1d_f32(const float* x, const float* w, const float* bias, float* y, int64_t batch,
                          int64_t channels, int64_t len, int64_t kernel, int64_t pad_left, StreamHandle stream);
void depthwise_conv1d_backward_f32(const float* dy, const float* x, const float* w, float* dx, float* dw, float* db,
                                   int64_t batch, int64_t channels, int64_t len, int64_t kernel, int64_t pad_left,
                                   StreamHandle stream);
}  // namespace cuda

namespace ops {
// unfold (x, cols), fold (cols, x), avg_pool2d (x, y), avg_pool2d_backward (dy, dx):
// the output's shape carries the sizes the window does not determine.
using WindowSignature = void(const Tensor& in, const Tensor& out, const Window2d& window, StreamHandle stream);
using MaxPoolSignature = void(const Tensor& x, const Tensor& y, const Tensor& indices, const Window2d& window,
                              StreamHandle stream);
using MaxPoolBackwardSignature = void(const Tensor& dy, const Tensor& indices, const Tensor& dx, StreamHandle stream);
// depthwise_conv1d (x, w, bias or undefined, pad_left, y); its backward (dy, x, w, pad_left, dx, dw, db).
using DepthwiseConvSignature = void(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t pad_left,
                                    const Tensor& y, StreamHandle stream);
using DepthwiseConvBackwardSignature = void(const Tensor& dy, const Tensor& x, const Tensor& w, int64_t pad_left,
                                            const Tensor& dx, const Tensor& dw, const Tensor& db, StreamHandle stream);
BENCHSUITE_OP(DepthwiseConv1dOp, "depthwise_conv1d", DepthwiseConvSignature);
BENCHSUITE_OP(DepthwiseConv1dBackwardOp, "depthwise_conv1d_backward", DepthwiseConvBackwardSignature);
BENCHSUITE_OP(UnfoldOp, "unfold", WindowSignature);
BENCHSUITE_OP(FoldOp, "fold", WindowSignature);
BENCHSUITE_OP(AvgPool2dOp, "avg_pool2d", WindowSignature);
BENCHSUITE_OP(AvgPool2dBackwardOp, "avg_pool2d_backward", WindowSignature);
BENCHSUITE_OP(MaxPool2dOp, "max_pool2d", MaxPoolSignature);
BENCHSUITE_OP(MaxPool2dBackwardOp, "max_pool2d_backward", MaxPoolBackwardSignature);

// invalid_argument naming the bad field (kernel/stride/dilation >= 1, padding >= 0, an
// output of at least one position) for x [N, C, H, W]; "op" names the caller.
void check_window(const char* op, const Window2d& window, int64_t h, int64_t w);
void check_nchw(const char* op, const char* name, const Tensor& t);

Tensor unfold(const Tensor& x, const Window2d& window, const std::string& impl = "");
// cols [N, L, C*kh*kw] -> x [N, C, H, W] for the given H, W (L must match the window).
Tensor fold(const Tensor& cols, int64_t channels, int64_t h, int64_t w, const Window2d& window,
            const std::string& impl = "");
// -> {y, indices (int64)}
std::vector<Tensor> max_pool2d(const Tensor& x, const Window2d& window, const std::string& impl = "");
Tensor max_pool2d_backward(const Tensor& dy, const Tensor& indices, int64_t h, int64_t w,
                           const std::string& impl = "");
Tensor avg_pool2d(const Tensor& x, const Window2d& window, const std::string& impl = "");
Tensor avg_pool2d_backward(const Tensor& dy, int64_t h, int64_t w, const Window2d& window,
                           const std::string& impl = "");

// x [B, C, L], w [C, K], bias [C] or undefined -> y [B, C, L + pad_left - K + 1].
Tensor depthwise_conv1d(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t pad_left,
                        const std::string& impl = "");
// -> {dx, dw, db}
std::vector<Tensor> depthwise_conv1d_backward(const Tensor& dy, const Tensor& x, const Tensor& w, int64_t pad_left,
                                              const std::string& impl = "");
void run_depthwise_conv1d(const OpVersion& v, const Tensor& x, const Tensor& w, const Tensor& bias, int64_t pad_left,
                          const Tensor& y, StreamHandle stream = nullptr);
void run_depthwise_conv1d_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& w,
                                   int64_t pad_left, const Tensor& dx, const Tensor& dw, const Tensor& db,
                                   StreamHandle stream = nullptr);

void run_window(const OpVersion& v, const Tensor& in, const Tensor& out, const Window2d& window,
                StreamHandle stream = nullptr);
void run_max_pool2d(const OpVersion& v, const Tensor& x, const Tensor& y, const Tensor& indices,
                    const Window2d& window, StreamHandle stream = nullptr);
void run_max_pool2d_backward(const OpVersion& v, const Tensor& dy, const Tensor& indices, const Tensor& dx,
                             StreamHandle stream = nullptr);
}  // namespace ops

}  // namespace benchsuite
