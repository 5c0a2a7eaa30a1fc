// The channel normalisations: validation, versions and the ops users call (formulas in
// channel_norms.h).
#include <cmath>

#include "core/error.h"
#include "ops/channel_norms/channel_norms.h"
#include "ops/dispatch.h"

namespace benchsuite::ops {

namespace {
int64_t spatial(const Tensor& x) { return x.size(1) == 0 ? 0 : x.numel() / (x.size(0) * x.size(1)); }

// T: float, or double for float64 tensors (v1 only, through by_dtype: CUDA lists float32 alone).
template <class T>
const T* in(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

template <class T>
void group_norm_cpu(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, float eps,
                    const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle) {
  cpu::group_norm_reference(in<T>(x), in<T>(gamma), in<T>(beta), y.data<T>(), mean.data<T>(), rstd.data<T>(), x.size(0),
                            x.size(1), spatial(x), groups, eps);
}
template <class T>
void group_norm_backward_cpu(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                             const Tensor& rstd, int64_t groups, const Tensor& dx, const Tensor& dgamma,
                             const Tensor& dbeta, StreamHandle) {
  cpu::group_norm_backward_reference(in<T>(dy), in<T>(x), in<T>(gamma), in<T>(mean), in<T>(rstd), dx.data<T>(),
                                     dgamma.data<T>(), dbeta.data<T>(), x.size(0), x.size(1), spatial(x), groups);
}
template <class T>
void batch_norm_cpu(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                    const Tensor& running_var, bool training, float eps, const Tensor& y, const Tensor& mean,
                    const Tensor& rstd, StreamHandle) {
  cpu::batch_norm_reference(in<T>(x), in<T>(gamma), in<T>(beta), in<T>(running_mean), in<T>(running_var), training,
                            y.data<T>(), mean.data<T>(), rstd.data<T>(), x.size(0), x.size(1), spatial(x), eps);
}
template <class T>
void batch_norm_backward_cpu(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                             const Tensor& rstd, bool training, const Tensor& dx, const Tensor& dgamma,
                             const Tensor& dbeta, StreamHandle) {
  cpu::batch_norm_backward_reference(in<T>(dy), in<T>(x), in<T>(gamma), in<T>(mean), in<T>(rstd), training,
                                     dx.data<T>(), dgamma.data<T>(), dbeta.data<T>(), x.size(0), x.size(1), spatial(x));
}
// v1: the float or the double instantiation by the first tensor's dtype.
template <auto kFloat, auto kDouble, class... Rest>
void by_dtype(const Tensor& first, Rest... rest) {
  (first.dtype() == DType::float64 ? kDouble : kFloat)(first, rest...);
}

#ifdef BENCHSUITE_WITH_CUDA
const float* f(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }
float* w(const Tensor& t) { return t.data<float>(); }

void group_norm_cuda(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, float eps,
                     const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle st) {
  cuda::group_norm_f32(f(x), f(gamma), f(beta), w(y), w(mean), w(rstd), x.size(0), x.size(1), spatial(x), groups, eps,
                       st);
}
void group_norm_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                              const Tensor& rstd, int64_t groups, const Tensor& dx, const Tensor& dgamma,
                              const Tensor& dbeta, StreamHandle st) {
  cuda::group_norm_backward_f32(f(dy), f(x), f(gamma), f(mean), f(rstd), w(dx), w(dgamma), w(dbeta), x.size(0),
                                x.size(1), spatial(x), groups, st);
}
void batch_norm_cuda(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                     const Tensor& running_var, bool training, float eps, const Tensor& y, const Tensor& mean,
                     const Tensor& rstd, StreamHandle st) {
  cuda::batch_norm_f32(f(x), f(gamma), f(beta), f(running_mean), f(running_var), training, w(y), w(mean), w(rstd),
                       x.size(0), x.size(1), spatial(x), eps, st);
}
void batch_norm_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                              const Tensor& rstd, bool training, const Tensor& dx, const Tensor& dgamma,
                              const Tensor& dbeta, StreamHandle st) {
  cuda::batch_norm_backward_f32(f(dy), f(x), f(gamma), f(mean), f(rstd), training, w(dx), w(dgamma), w(dbeta),
                                x.size(0), x.size(1), spatial(x), st);
}
#endif

void check_channel_param(const char* op, const char* name, const Tensor& t, const Tensor& x) {
  BENCHSUITE_CHECK_ARG(t.defined(), op, ": ", name, " is required");
  BENCHSUITE_CHECK_ARG(t.dtype() == x.dtype() && t.ndim() == 1 && t.size(0) == x.size(1), op, ": ", name, " is ",
                       t.describe(), ", must be ", dtype_name(x.dtype()), " [", x.size(1), "] (x's channels)");
  check_same_device(op, "x", x, name, t);
}
void check_x(const char* op, const Tensor& x, double eps) {
  BENCHSUITE_CHECK_ARG(is_full_precision(x.dtype()), op, ": x.dtype=", dtype_name(x.dtype()),
                       " must be float32 or float64");
  BENCHSUITE_CHECK_ARG(x.ndim() >= 2, op, ": x is ", x.describe(), ", must be [N, C, ...]");
  BENCHSUITE_CHECK_ARG(std::isfinite(eps) && eps > 0, op, ": eps=", eps, " must be > 0");
}
void check_same(const char* op, const char* name, const Tensor& t, const Tensor& like) {
  BENCHSUITE_CHECK_ARG(t.shape() == like.shape() && t.dtype() == like.dtype(), op, ": ", name, " is ", t.describe(),
                       ", must be ", like.describe());
  check_same_device(op, name, t, "x", like);
}
Tensor stats_like(int64_t n, const Tensor& x) { return Tensor::empty({n}, stats_dtype(x.dtype()), x.device()); }
void begin(const OpVersion& v, const Tensor& x) {
  check_version_dtype(v, x.dtype());
  make_current(x);
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(channel_norms) {
  // The references also take float64 (the same sums, every array in double).
  const std::vector<DType> ref = {DType::float32, DType::float64};
  const DeviceType cpu = DeviceType::cpu;
  const unsigned both = kReference | kDefault;
  table.add<GroupNormOp>({"v1", "reference: double sums, one thread", cpu, ref, both},
                         by_dtype<group_norm_cpu<float>, group_norm_cpu<double>>);
  table.add<GroupNormBackwardOp>({"v1", "reference: double sums, one thread", cpu, ref, both},
                                 by_dtype<group_norm_backward_cpu<float>, group_norm_backward_cpu<double>>);
  table.add<BatchNormOp>({"v1", "reference: double sums, one thread", cpu, ref, both},
                         by_dtype<batch_norm_cpu<float>, batch_norm_cpu<double>>);
  table.add<BatchNormBackwardOp>({"v1", "reference: double sums, one thread", cpu, ref, both},
                                 by_dtype<batch_norm_backward_cpu<float>, batch_norm_backward_cpu<double>>);
#ifdef BENCHSUITE_WITH_CUDA
  const std::vector<DType> f32 = {DType::float32};
  const DeviceType gpu = DeviceType::cuda;
  const char* sets = "block per statistics set: double sums (mean, then centred variance), then the set's outputs";
  const char* grads = "dx: block per statistics set; dgamma, dbeta: block per channel; double sums, no atomics";
  table.add<GroupNormOp>({"v1", sets, gpu, f32, kDefault}, group_norm_cuda);
  table.add<GroupNormBackwardOp>({"v1", grads, gpu, f32, kDefault}, group_norm_backward_cuda);
  table.add<BatchNormOp>({"v1", sets, gpu, f32, kDefault}, batch_norm_cuda);
  table.add<BatchNormBackwardOp>({"v1", grads, gpu, f32, kDefault}, batch_norm_backward_cuda);
#endif
}

void check_group_norm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps) {
  check_x("group_norm", x, eps);
  BENCHSUITE_CHECK_ARG(groups >= 1 && x.size(1) % groups == 0, "group_norm: groups=", groups,
                       " must divide the channels (", x.size(1), ")");
  check_channel_param("group_norm", "gamma", gamma, x);
  check_channel_param("group_norm", "beta", beta, x);
}

void check_batch_norm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                           const Tensor& running_var, bool training, double eps) {
  check_x("batch_norm", x, eps);
  check_channel_param("batch_norm", "gamma", gamma, x);
  check_channel_param("batch_norm", "beta", beta, x);
  if (!training) {
    check_channel_param("batch_norm", "running_mean", running_mean, x);
    check_channel_param("batch_norm", "running_var", running_var, x);
  }
}

void run_group_norm(const OpVersion& v, const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups,
                    double eps, const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle stream) {
  begin(v, x);
  v.fn<GroupNormSignature>()(x, gamma, beta, groups, static_cast<float>(eps), y, mean, rstd, stream);
}

void run_group_norm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                             const Tensor& mean, const Tensor& rstd, int64_t groups, const Tensor& dx,
                             const Tensor& dgamma, const Tensor& dbeta, StreamHandle stream) {
  begin(v, x);
  v.fn<GroupNormBackwardSignature>()(dy, x, gamma, mean, rstd, groups, dx, dgamma, dbeta, stream);
}

void run_batch_norm(const OpVersion& v, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                    const Tensor& running_mean, const Tensor& running_var, bool training, double eps, const Tensor& y,
                    const Tensor& mean, const Tensor& rstd, StreamHandle stream) {
  begin(v, x);
  v.fn<BatchNormSignature>()(x, gamma, beta, running_mean, running_var, training, static_cast<float>(eps), y, mean,
                             rstd, stream);
}

void run_batch_norm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                             const Tensor& mean, const Tensor& rstd, bool training, const Tensor& dx,
                             const Tensor& dgamma, const Tensor& dbeta, StreamHandle stream) {
  begin(v, x);
  v.fn<BatchNormBackwardSignature>()(dy, x, gamma, mean, rstd, training, dx, dgamma, dbeta, stream);
}

std::vector<Tensor> group_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t groups, double eps,
                               const std::string& impl) {
  check_group_norm_args(x, gamma, beta, groups, eps);
  const OpVersion& v = select_version(GroupNormOp::name, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = stats_like(x.size(0) * groups, x), rstd = stats_like(x.size(0) * groups, x);
  run_group_norm(v, x.contiguous(), gamma.contiguous(), beta.contiguous(), groups, eps, y, mean, rstd);
  return {y, mean, rstd};
}

std::vector<Tensor> group_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& rstd, int64_t groups, const std::string& impl) {
  check_group_norm_args(x, gamma, gamma, groups, 1.0);
  check_same("group_norm_backward", "dy", dy, x);
  const Tensor like_stats = stats_like(x.size(0) * groups, x);
  check_same("group_norm_backward", "mean", mean, like_stats);
  check_same("group_norm_backward", "rstd", rstd, like_stats);
  const OpVersion& v = select_version(GroupNormBackwardOp::name, x.device(), x.dtype(), impl);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor dgamma = Tensor::empty(gamma.shape(), gamma.dtype(), x.device()), dbeta = Tensor::empty(gamma.shape(), gamma.dtype(), x.device());
  run_group_norm_backward(v, dy.contiguous(), x.contiguous(), gamma.contiguous(), mean.contiguous(), rstd.contiguous(),
                          groups, dx, dgamma, dbeta);
  return {dx, dgamma, dbeta};
}

std::vector<Tensor> batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                               const Tensor& running_var, bool training, double eps, const std::string& impl) {
  check_batch_norm_args(x, gamma, beta, running_mean, running_var, training, eps);
  const OpVersion& v = select_version(BatchNormOp::name, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = stats_like(x.size(1), x), rstd = stats_like(x.size(1), x);
  run_batch_norm(v, x.contiguous(), gamma.contiguous(), beta.contiguous(),
                 training ? Tensor() : running_mean.contiguous(), training ? Tensor() : running_var.contiguous(),
                 training, eps, y, mean, rstd);
  return {y, mean, rstd};
}

std::vector<Tensor> batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                        const Tensor& rstd, bool training, const std::string& impl) {
  check_batch_norm_args(x, gamma, gamma, mean, rstd, true, 1.0);
  check_same("batch_norm_backward", "dy", dy, x);
  const Tensor like_stats = stats_like(x.size(1), x);
  check_same("batch_norm_backward", "mean", mean, like_stats);
  check_same("batch_norm_backward", "rstd", rstd, like_stats);
  const OpVersion& v = select_version(BatchNormBackwardOp::name, x.device(), x.dtype(), impl);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor dgamma = Tensor::empty(gamma.shape(), gamma.dtype(), x.device()), dbeta = Tensor::empty(gamma.shape(), gamma.dtype(), x.device());
  run_batch_norm_backward(v, dy.contiguous(), x.contiguous(), gamma.contiguous(), mean.contiguous(),
                          rstd.contiguous(), training, dx, dgamma, dbeta);
  return {dx, dgamma, dbeta};
}

}  // namespace benchsuite::ops
