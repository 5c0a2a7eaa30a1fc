// The conv family's ops: validation, versions and the ops users call (conventions in conv.h).
#include "core/error.h"
#include "ops/conv/conv.h"
#include "ops/dispatch.h"

namespace benchsuite::ops {

namespace {
// x [N, C, H, W] is the input of unfold / pools, the output of fold / pool backwards.
// kParallel: v2 (OpenMP over rows or planes), else the v1 reference. T: float, or double for
// float64 tensors (v1 only, through by_dtype: v2 and CUDA list float32 alone).
template <class T, bool kParallel>
void unfold_cpu(const Tensor& x, const Tensor& cols, const Window2d& win, StreamHandle) {
  cpu::unfold_reference(x.data<T>(), cols.data<T>(), x.size(0), x.size(1), x.size(2), x.size(3), win, kParallel);
}
template <class T, bool kParallel>
void fold_cpu(const Tensor& cols, const Tensor& x, const Window2d& win, StreamHandle) {
  cpu::fold_reference(cols.data<T>(), x.data<T>(), x.size(0), x.size(1), x.size(2), x.size(3), win, kParallel);
}
template <class T, bool kParallel>
void avg_pool_cpu(const Tensor& x, const Tensor& y, const Window2d& win, StreamHandle) {
  cpu::avg_pool2d_reference(x.data<T>(), y.data<T>(), x.size(0), x.size(1), x.size(2), x.size(3), win, kParallel);
}
template <class T, bool kParallel>
void avg_pool_backward_cpu(const Tensor& dy, const Tensor& dx, const Window2d& win, StreamHandle) {
  cpu::avg_pool2d_backward_reference(dy.data<T>(), dx.data<T>(), dx.size(0), dx.size(1), dx.size(2), dx.size(3), win,
                                     kParallel);
}
template <class T, bool kParallel>
void max_pool_cpu(const Tensor& x, const Tensor& y, const Tensor& indices, const Window2d& win, StreamHandle) {
  cpu::max_pool2d_reference(x.data<T>(), y.data<T>(), indices.data<int64_t>(), x.size(0), x.size(1), x.size(2),
                            x.size(3), win, kParallel);
}
template <class T, bool kParallel>
void max_pool_backward_cpu(const Tensor& dy, const Tensor& indices, const Tensor& dx, StreamHandle) {
  cpu::max_pool2d_backward_reference(dy.data<T>(), indices.data<int64_t>(), dx.data<T>(), dx.size(0), dx.size(1),
                                     dx.size(2), dx.size(3), dy.size(2), dy.size(3), kParallel);
}
template <class T, bool kParallel>
void depthwise_cpu(const Tensor& x, const Tensor& wt, const Tensor& bias, int64_t pad_left, const Tensor& y,
                   StreamHandle) {
  cpu::depthwise_conv1d_reference(x.data<T>(), wt.data<T>(), bias.defined() ? bias.data<T>() : nullptr, y.data<T>(),
                                  x.size(0), x.size(1), x.size(2), wt.size(1), pad_left, kParallel);
}
template <class T, bool kParallel>
void depthwise_backward_cpu(const Tensor& dy, const Tensor& x, const Tensor& wt, int64_t pad_left, const Tensor& dx,
                            const Tensor& dw, const Tensor& db, StreamHandle) {
  cpu::depthwise_conv1d_backward_reference(dy.data<T>(), x.data<T>(), wt.data<T>(), dx.data<T>(), dw.data<T>(),
                                           db.data<T>(), x.size(0), x.size(1), x.size(2), wt.size(1), pad_left,
                                           kParallel);
}
// v1: the float or the double instantiation by the first tensor's dtype.
template <auto kFloat, auto kDouble, class... Rest>
void by_dtype(const Tensor& first, Rest... rest) {
  (first.dtype() == DType::float64 ? kDouble : kFloat)(first, rest...);
}
#ifdef BENCHSUITE_WITH_CUDA
const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }

void unfold_cuda(const Tensor& x, const Tensor& cols, const Window2d& win, StreamHandle s) {
  cuda::unfold_f32(f(x), w(cols), x.size(0), x.size(1), x.size(2), x.size(3), win, s);
}
void fold_cuda(const Tensor& cols, const Tensor& x, const Window2d& win, StreamHandle s) {
  cuda::fold_f32(f(cols), w(x), x.size(0), x.size(1), x.size(2), x.size(3), win, s);
}
void avg_pool_cuda(const Tensor& x, const Tensor& y, const Window2d& win, StreamHandle s) {
  cuda::avg_pool2d_f32(f(x), w(y), x.size(0), x.size(1), x.size(2), x.size(3), win, s);
}
void avg_pool_backward_cuda(const Tensor& dy, const Tensor& dx, const Window2d& win, StreamHandle s) {
  cuda::avg_pool2d_backward_f32(f(dy), w(dx), dx.size(0), dx.size(1), dx.size(2), dx.size(3), win, s);
}
void max_pool_cuda(const Tensor& x, const Tensor& y, const Tensor& indices, const Window2d& win, StreamHandle s) {
  cuda::max_pool2d_f32(f(x), w(y), indices.data<int64_t>(), x.size(0), x.size(1), x.size(2), x.size(3), win, s);
}
void max_pool_backward_cuda(const Tensor& dy, const Tensor& indices, const Tensor& dx, StreamHandle s) {
  cuda::max_pool2d_backward_f32(f(dy), indices.data<int64_t>(), w(dx), dx.size(0), dx.size(1), dx.size(2),
                                dx.size(3), dy.size(2), dy.size(3), s);
}
void depthwise_cuda(const Tensor& x, const Tensor& wt, const Tensor& bias, int64_t pad_left, const Tensor& y,
                    StreamHandle s) {
  cuda::depthwise_conv1d_f32(f(x), f(wt), bias.defined() ? f(bias) : nullptr, w(y), x.size(0), x.size(1), x.size(2),
                             wt.size(1), pad_left, s);
}
void depthwise_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& wt, int64_t pad_left, const Tensor& dx,
                             const Tensor& dw, const Tensor& db, StreamHandle s) {
  cuda::depthwise_conv1d_backward_f32(f(dy), f(x), f(wt), w(dx), w(dw), w(db), x.size(0), x.size(1), x.size(2),
                                      wt.size(1), pad_left, s);
}
#endif
void begin(const OpVersion& v, const Tensor& t) {
  check_version_dtype(v, t.dtype());
  make_current(t);
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(conv) {
  const std::vector<DType> f32 = {DType::float32};
  // The references also take float64 (the same loops in double, for finite-difference checks).
  const std::vector<DType> ref = {DType::float32, DType::float64};
  const DeviceType cpu = DeviceType::cpu;
  // v2 of each: the v1 loops with the outermost independent one over OpenMP threads.
  const char* rows = "the v1 loops, output rows over OpenMP threads (the same sums)";
  const char* planes = "the v1 loops, (sample, channel) planes over OpenMP threads (the same sums)";
  table.add<DepthwiseConv1dOp>({"v1", "reference: double sums, one channel at a time", cpu, ref, kReference},
                               by_dtype<depthwise_cpu<float, false>, depthwise_cpu<double, false>>);
  table.add<DepthwiseConv1dOp>({"v2", planes, cpu, f32, kDefault}, depthwise_cpu<float, true>);
  table.add<DepthwiseConv1dBackwardOp>(
      {"v1", "reference: double sums, one channel at a time", cpu, ref, kReference},
      by_dtype<depthwise_backward_cpu<float, false>, depthwise_backward_cpu<double, false>>);
  table.add<DepthwiseConv1dBackwardOp>(
      {"v2", "the v1 loops, channels over OpenMP threads (the same sums)", cpu, f32, kDefault},
      depthwise_backward_cpu<float, true>);
  table.add<UnfoldOp>({"v1", "reference: one output position and tap at a time", cpu, ref, kReference},
                      by_dtype<unfold_cpu<float, false>, unfold_cpu<double, false>>);
  table.add<UnfoldOp>({"v2", rows, cpu, f32, kDefault}, unfold_cpu<float, true>);
  table.add<FoldOp>({"v1", "reference: per plane, zero, then add every column entry in order", cpu, ref, kReference},
                    by_dtype<fold_cpu<float, false>, fold_cpu<double, false>>);
  table.add<FoldOp>({"v2", planes, cpu, f32, kDefault}, fold_cpu<float, true>);
  table.add<AvgPool2dOp>({"v1", "reference: double window sums", cpu, ref, kReference},
                         by_dtype<avg_pool_cpu<float, false>, avg_pool_cpu<double, false>>);
  table.add<AvgPool2dOp>({"v2", planes, cpu, f32, kDefault}, avg_pool_cpu<float, true>);
  table.add<AvgPool2dBackwardOp>({"v1", "reference: dy / area added over each window", cpu, ref, kReference},
                                 by_dtype<avg_pool_backward_cpu<float, false>, avg_pool_backward_cpu<double, false>>);
  table.add<AvgPool2dBackwardOp>({"v2", planes, cpu, f32, kDefault}, avg_pool_backward_cpu<float, true>);
  table.add<MaxPool2dOp>({"v1", "reference: first maximum in window order, NaN wins", cpu, ref, kReference},
                         by_dtype<max_pool_cpu<float, false>, max_pool_cpu<double, false>>);
  table.add<MaxPool2dOp>({"v2", planes, cpu, f32, kDefault}, max_pool_cpu<float, true>);
  table.add<MaxPool2dBackwardOp>({"v1", "reference: dy added at each argmax", cpu, ref, kReference},
                                 by_dtype<max_pool_backward_cpu<float, false>, max_pool_backward_cpu<double, false>>);
  table.add<MaxPool2dBackwardOp>({"v2", planes, cpu, f32, kDefault}, max_pool_backward_cpu<float, true>);
#ifdef BENCHSUITE_WITH_CUDA
  const DeviceType gpu = DeviceType::cuda;
  table.add<DepthwiseConv1dOp>({"v1", "thread per output, double sums in tap order", gpu, f32, kDefault},
                               depthwise_cuda);
  table.add<DepthwiseConv1dBackwardOp>(
      {"v1", "dx: thread per input, a double gather; dw, db: block per (channel, tap), one reduction, no atomics", gpu,
       f32, kDefault},
      depthwise_backward_cuda);
  table.add<UnfoldOp>({"v1", "thread per column entry (coalesced writes)", gpu, f32, kDefault}, unfold_cuda);
  table.add<FoldOp>({"v1", "thread per input position, gathering its windows in the CPU's order (no atomics)", gpu,
                     f32, kDefault},
                    fold_cuda);
  table.add<AvgPool2dOp>({"v1", "thread per output, double window sums", gpu, f32, kDefault}, avg_pool_cuda);
  table.add<AvgPool2dBackwardOp>(
      {"v1", "thread per input position, gathering dy / area of its windows in the CPU's order (no atomics)", gpu, f32,
       kDefault},
      avg_pool_backward_cuda);
  table.add<MaxPool2dOp>({"v1", "thread per output: first maximum in window order, NaN wins", gpu, f32, kDefault},
                         max_pool_cuda);
  table.add<MaxPool2dBackwardOp>(
      {"v1", "memset, then a thread per plane adds dy at each argmax in output order (the CPU's sums, no atomics)", gpu,
       f32, kDefault},
      max_pool_backward_cuda);
#endif
}

void check_window(const char* op, const Window2d& win, int64_t h, int64_t w) {
  BENCHSUITE_CHECK_ARG(win.kh >= 1 && win.kw >= 1, op, ": kernel=(", win.kh, ", ", win.kw, ") must be >= 1");
  BENCHSUITE_CHECK_ARG(win.sh >= 1 && win.sw >= 1, op, ": stride=(", win.sh, ", ", win.sw, ") must be >= 1");
  BENCHSUITE_CHECK_ARG(win.dh >= 1 && win.dw >= 1, op, ": dilation=(", win.dh, ", ", win.dw, ") must be >= 1");
  BENCHSUITE_CHECK_ARG(win.ph >= 0 && win.pw >= 0, op, ": padding=(", win.ph, ", ", win.pw, ") must be >= 0");
  BENCHSUITE_CHECK_ARG(h + 2 * win.ph - win.dh * (win.kh - 1) - 1 >= 0 && w + 2 * win.pw - win.dw * (win.kw - 1) - 1 >= 0,
                       op, ": the window (kernel (", win.kh, ", ", win.kw, "), dilation (", win.dh, ", ", win.dw,
                       "), padding (", win.ph, ", ", win.pw, ")) is larger than the input ", h, "x", w);
}

void check_nchw(const char* op, const char* name, const Tensor& t) {
  BENCHSUITE_CHECK_ARG(is_full_precision(t.dtype()) && t.ndim() == 4, op, ": ", name, " is ", t.describe(),
                       ", must be float32 or float64 [N, C, H, W]");
}

void run_window(const OpVersion& v, const Tensor& in, const Tensor& out, const Window2d& window, StreamHandle stream) {
  begin(v, in);
  v.fn<WindowSignature>()(in, out, window, stream);
}
void run_max_pool2d(const OpVersion& v, const Tensor& x, const Tensor& y, const Tensor& indices,
                    const Window2d& window, StreamHandle stream) {
  begin(v, x);
  v.fn<MaxPoolSignature>()(x, y, indices, window, stream);
}
void run_max_pool2d_backward(const OpVersion& v, const Tensor& dy, const Tensor& indices, const Tensor& dx,
                             StreamHandle stream) {
  begin(v, dy);
  v.fn<MaxPoolBackwardSignature>()(dy, indices, dx, stream);
}

Tensor unfold(const Tensor& x, const Window2d& window, const std::string& impl) {
  check_nchw("unfold", "x", x);
  check_window("unfold", window, x.size(2), x.size(3));
  const OpVersion& v = select_version(UnfoldOp::name, x.device(), x.dtype(), impl);
  Tensor cols = Tensor::empty({x.size(0), window.out_h(x.size(2)) * window.out_w(x.size(3)),
                               x.size(1) * window.kh * window.kw},
                              x.dtype(), x.device());
  run_window(v, x.contiguous(), cols, window);
  return cols;
}

Tensor fold(const Tensor& cols, int64_t channels, int64_t h, int64_t w, const Window2d& window,
            const std::string& impl) {
  check_window("fold", window, h, w);
  BENCHSUITE_CHECK_ARG(channels >= 1, "fold: channels=", channels, " must be >= 1");
  const Shape want = {cols.ndim() == 3 ? cols.size(0) : -1, window.out_h(h) * window.out_w(w),
                      channels * window.kh * window.kw};
  BENCHSUITE_CHECK_ARG(is_full_precision(cols.dtype()) && cols.ndim() == 3 && cols.shape() == want, "fold: cols is ",
                       cols.describe(), ", must be float32 or float64 [N, ", want[1], ", ", want[2], "]");
  const OpVersion& v = select_version(FoldOp::name, cols.device(), cols.dtype(), impl);
  Tensor x = Tensor::empty({cols.size(0), channels, h, w}, cols.dtype(), cols.device());
  run_window(v, cols.contiguous(), x, window);
  return x;
}

std::vector<Tensor> max_pool2d(const Tensor& x, const Window2d& window, const std::string& impl) {
  check_nchw("max_pool2d", "x", x);
  check_window("max_pool2d", window, x.size(2), x.size(3));
  const OpVersion& v = select_version(MaxPool2dOp::name, x.device(), x.dtype(), impl);
  const Shape shape = {x.size(0), x.size(1), window.out_h(x.size(2)), window.out_w(x.size(3))};
  Tensor y = Tensor::empty(shape, x.dtype(), x.device()), indices = Tensor::empty(shape, DType::int64, x.device());
  run_max_pool2d(v, x.contiguous(), y, indices, window);
  return {y, indices};
}

Tensor max_pool2d_backward(const Tensor& dy, const Tensor& indices, int64_t h, int64_t w, const std::string& impl) {
  check_nchw("max_pool2d_backward", "dy", dy);
  BENCHSUITE_CHECK_ARG(indices.dtype() == DType::int64 && indices.shape() == dy.shape(),
                       "max_pool2d_backward: indices is ", indices.describe(), ", must be int64 of dy's shape");
  check_same_device("max_pool2d_backward", "dy", dy, "indices", indices);
  BENCHSUITE_CHECK_ARG(h >= 1 && w >= 1, "max_pool2d_backward: the input size ", h, "x", w, " must be positive");
  // Every index in range, read on the host (a copy for CUDA tensors): the op's own check, not in
  // graph runs (run_max_pool2d_backward), whose indices come from max_pool2d.
  const Tensor host = indices.to(Device{DeviceType::cpu, 0}).contiguous();
  const int64_t* at = host.data<int64_t>();
  for (int64_t i = 0; i < host.numel(); ++i)
    BENCHSUITE_CHECK_ARG(at[i] >= -1 && at[i] < h * w, "max_pool2d_backward: indices[", i, "]=", at[i],
                         " is outside the ", h, "x", w, " input");
  const OpVersion& v = select_version(MaxPool2dBackwardOp::name, dy.device(), dy.dtype(), impl);
  Tensor dx = Tensor::empty({dy.size(0), dy.size(1), h, w}, dy.dtype(), dy.device());
  run_max_pool2d_backward(v, dy.contiguous(), indices.contiguous(), dx);
  return dx;
}

Tensor avg_pool2d(const Tensor& x, const Window2d& window, const std::string& impl) {
  check_nchw("avg_pool2d", "x", x);
  check_window("avg_pool2d", window, x.size(2), x.size(3));
  const OpVersion& v = select_version(AvgPool2dOp::name, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty({x.size(0), x.size(1), window.out_h(x.size(2)), window.out_w(x.size(3))}, x.dtype(),
                           x.device());
  run_window(v, x.contiguous(), y, window);
  return y;
}

Tensor avg_pool2d_backward(const Tensor& dy, int64_t h, int64_t w, const Window2d& window, const std::string& impl) {
  check_nchw("avg_pool2d_backward", "dy", dy);
  check_window("avg_pool2d_backward", window, h, w);
  BENCHSUITE_CHECK_ARG(dy.size(2) == window.out_h(h) && dy.size(3) == window.out_w(w), "avg_pool2d_backward: dy is ",
                       dy.describe(), ", the window over ", h, "x", w, " gives ", window.out_h(h), "x",
                       window.out_w(w));
  const OpVersion& v = select_version(AvgPool2dBackwardOp::name, dy.device(), dy.dtype(), impl);
  Tensor dx = Tensor::empty({dy.size(0), dy.size(1), h, w}, dy.dtype(), dy.device());
  run_window(v, dy.contiguous(), dx, window);
  return dx;
}

void run_depthwise_conv1d(const OpVersion& v, const Tensor& x, const Tensor& wt, const Tensor& bias, int64_t pad_left,
                          const Tensor& y, StreamHandle stream) {
  begin(v, x);
  v.fn<DepthwiseConvSignature>()(x, wt, bias, pad_left, y, stream);
}

void run_depthwise_conv1d_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& wt,
                                   int64_t pad_left, const Tensor& dx, const Tensor& dw, const Tensor& db,
                                   StreamHandle stream) {
  begin(v, x);
  v.fn<DepthwiseConvBackwardSignature>()(dy, x, wt, pad_left, dx, dw, db, stream);
}

namespace {
int64_t depthwise_out_len(const char* op, const Tensor& x, const Tensor& wt, const Tensor& bias, int64_t pad_left) {
  BENCHSUITE_CHECK_ARG(is_full_precision(x.dtype()) && x.ndim() == 3, op, ": x is ", x.describe(),
                       ", must be float32 or float64 [B, C, L]");
  const char* dt = dtype_name(x.dtype());
  BENCHSUITE_CHECK_ARG(wt.dtype() == x.dtype() && wt.ndim() == 2 && wt.size(0) == x.size(1) && wt.size(1) >= 1, op,
                       ": w is ", wt.describe(), ", must be ", dt, " [", x.size(1), ", kernel]");
  check_same_device(op, "x", x, "w", wt);
  if (bias.defined()) {
    BENCHSUITE_CHECK_ARG(bias.dtype() == x.dtype() && bias.shape() == Shape{x.size(1)}, op, ": bias is ",
                         bias.describe(), ", must be ", dt, " [", x.size(1), "]");
    check_same_device(op, "x", x, "bias", bias);
  }
  const int64_t out = x.size(2) + pad_left - wt.size(1) + 1;
  BENCHSUITE_CHECK_ARG(pad_left >= 0 && out >= 1, op, ": pad_left=", pad_left, " with kernel ", wt.size(1),
                       " over length ", x.size(2), " leaves no output");
  return out;
}
}  // namespace

Tensor depthwise_conv1d(const Tensor& x, const Tensor& wt, const Tensor& bias, int64_t pad_left,
                        const std::string& impl) {
  const int64_t out = depthwise_out_len("depthwise_conv1d", x, wt, bias, pad_left);
  const OpVersion& v = select_version(DepthwiseConv1dOp::name, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty({x.size(0), x.size(1), out}, x.dtype(), x.device());
  run_depthwise_conv1d(v, x.contiguous(), wt.contiguous(), bias.defined() ? bias.contiguous() : Tensor(), pad_left,
                       y);
  return y;
}

std::vector<Tensor> depthwise_conv1d_backward(const Tensor& dy, const Tensor& x, const Tensor& wt, int64_t pad_left,
                                              const std::string& impl) {
  const int64_t out = depthwise_out_len("depthwise_conv1d_backward", x, wt, Tensor(), pad_left);
  BENCHSUITE_CHECK_ARG(dy.dtype() == x.dtype() && dy.shape() == (Shape{x.size(0), x.size(1), out}),
                       "depthwise_conv1d_backward: dy is ", dy.describe(), ", must be ", dtype_name(x.dtype()), " [",
                       x.size(0), ", ", x.size(1), ", ", out, "]");
  check_same_device("depthwise_conv1d_backward", "x", x, "dy", dy);
  const OpVersion& v = select_version(DepthwiseConv1dBackwardOp::name, x.device(), x.dtype(), impl);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device()), dw = Tensor::empty(wt.shape(), wt.dtype(), x.device());
  Tensor db = Tensor::empty({x.size(1)}, x.dtype(), x.device());
  run_depthwise_conv1d_backward(v, dy.contiguous(), x.contiguous(), wt.contiguous(), pad_left, dx, dw, db);
  return {dx, dw, db};
}

}  // namespace benchsuite::ops
