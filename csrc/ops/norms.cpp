// Row-wise normalisations over the last axis: softmax backward, log_softmax forward and
// backward, layernorm and rmsnorm forward (saving mean / rstd) and backward.
#include <cmath>

#include "common/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite::ops {

namespace {
const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }

// ---- CPU ----------------------------------------------------------------------------------
template <bool kReference>
void softmax_backward_cpu(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle) {
  (kReference ? cpu::softmax_backward_reference : cpu::softmax_backward_f32)(f(y), f(dy), w(dx), rows_of(y), cols_of(y));
}
template <bool kReference>
void log_softmax_cpu(const Tensor& x, const Tensor& y, StreamHandle) {
  (kReference ? cpu::log_softmax_reference : cpu::log_softmax_f32)(f(x), w(y), rows_of(x), cols_of(x));
}
void log_softmax_cpu_v3(const Tensor& x, const Tensor& y, StreamHandle) {
  cpu::log_softmax_f32_vectorized(f(x), w(y), rows_of(x), cols_of(x));
}
template <bool kReference>
void log_softmax_backward_cpu(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle) {
  (kReference ? cpu::log_softmax_backward_reference : cpu::log_softmax_backward_f32)(f(y), f(dy), w(dx), rows_of(y),
                                                                                     cols_of(y));
}
template <bool kReference>
void layernorm_cpu(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, const Tensor& y,
                   const Tensor& mean, const Tensor& rstd, StreamHandle) {
  (kReference ? cpu::layernorm_reference : cpu::layernorm_f32)(f(x), f(gamma), f(beta), w(y), w(mean), w(rstd),
                                                               rows_of(x), cols_of(x), eps);
}
template <bool kReference>
void layernorm_backward_cpu(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                            const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                            StreamHandle) {
  (kReference ? cpu::layernorm_backward_reference : cpu::layernorm_backward_f32)(
      f(dy), f(x), f(gamma), f(mean), f(rstd), w(dx), w(dgamma), w(dbeta), rows_of(x), cols_of(x));
}
template <bool kReference>
void rmsnorm_cpu(const Tensor& x, const Tensor& gamma, float eps, const Tensor& y, const Tensor& rstd, StreamHandle) {
  (kReference ? cpu::rmsnorm_reference : cpu::rmsnorm_f32)(f(x), f(gamma), w(y), w(rstd), rows_of(x), cols_of(x), eps);
}
template <bool kReference>
void rmsnorm_backward_cpu(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd, const Tensor& dx,
                          const Tensor& dgamma, StreamHandle) {
  (kReference ? cpu::rmsnorm_backward_reference : cpu::rmsnorm_backward_f32)(f(dy), f(x), f(gamma), f(rstd), w(dx),
                                                                             w(dgamma), rows_of(x), cols_of(x));
}

// ---- CUDA ---------------------------------------------------------------------------------
#ifdef BENCHSUITE_WITH_CUDA
void softmax_backward_cuda(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  cuda::softmax_backward_f32(f(y), f(dy), w(dx), rows_of(y), cols_of(y), s);
}
void log_softmax_cuda(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::log_softmax_f32(f(x), w(y), rows_of(x), cols_of(x), s);
}
void log_softmax_backward_cuda(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  cuda::log_softmax_backward_f32(f(y), f(dy), w(dx), rows_of(y), cols_of(y), s);
}
void layernorm_cuda(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, const Tensor& y,
                    const Tensor& mean, const Tensor& rstd, StreamHandle s) {
  cuda::layernorm_f32(f(x), f(gamma), f(beta), w(y), w(mean), w(rstd), rows_of(x), cols_of(x), eps, s);
}
void layernorm_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                             const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                             StreamHandle s) {
  cuda::layernorm_backward_f32(f(dy), f(x), f(gamma), f(mean), f(rstd), w(dx), w(dgamma), w(dbeta), rows_of(x),
                               cols_of(x), s);
}
void rmsnorm_cuda(const Tensor& x, const Tensor& gamma, float eps, const Tensor& y, const Tensor& rstd, StreamHandle s) {
  cuda::rmsnorm_f32(f(x), f(gamma), w(y), w(rstd), rows_of(x), cols_of(x), eps, s);
}
void rmsnorm_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                           const Tensor& dx, const Tensor& dgamma, StreamHandle s) {
  cuda::rmsnorm_backward_f32(f(dy), f(x), f(gamma), f(rstd), w(dx), w(dgamma), rows_of(x), cols_of(x), s);
}
#endif

const std::vector<DType> kF32 = {DType::float32};

void check_rows(const char* op, const Tensor& x) {
  BENCHSUITE_CHECK_ARG(x.ndim() >= 1, op, ": x must have at least 1 dimension, got shape ", shape_str(x.shape()));
  BENCHSUITE_CHECK_ARG(is_floating(x.dtype()), op, ": x.dtype=", dtype_name(x.dtype()), " must be a floating type");
}
void check_like(const char* op, const char* name, const Tensor& t, const Tensor& x, const char* x_name = "x") {
  BENCHSUITE_CHECK_ARG(t.device() == x.device() && t.dtype() == x.dtype(), op, ": ", name, " is ", t.describe(),
                       " but ", x_name, " is ", x.describe());
  BENCHSUITE_CHECK_ARG(t.shape() == x.shape(), op, ": ", name, ".shape=", shape_str(t.shape()), " must equal ",
                       x_name, ".shape=", shape_str(x.shape()));
}
void check_vector(const char* op, const char* name, const Tensor& t, const Tensor& x, int64_t length) {
  BENCHSUITE_CHECK_ARG(t.device() == x.device() && t.dtype() == x.dtype(), op, ": ", name, " is ", t.describe(),
                       " but x is ", x.describe());
  BENCHSUITE_CHECK_ARG(t.ndim() == 1 && t.shape()[0] == length, op, ": ", name, ".shape=", shape_str(t.shape()),
                       " must be [", length, "]");
}
void check_stats(const char* op, const char* name, const Tensor& t, const Tensor& x) {
  Shape expected(x.shape().begin(), x.shape().end() - 1);
  BENCHSUITE_CHECK_ARG(t.device() == x.device() && t.dtype() == x.dtype(), op, ": ", name, " is ", t.describe(),
                       " but x is ", x.describe());
  BENCHSUITE_CHECK_ARG(t.shape() == expected, op, ": ", name, ".shape=", shape_str(t.shape()),
                       " must be x.shape[:-1]=", shape_str(expected));
}
void check_eps(const char* op, double eps) {
  BENCHSUITE_CHECK_ARG(std::isfinite(eps) && eps > 0, op, ": eps=", eps, " must be a finite number > 0");
}
void make_current(const Tensor& t) {
  if (t.device().is_cuda()) cuda_set_device(t.device().index);
}
}  // namespace

void register_norm_versions(std::vector<OpVersion>& t) {
  const char* ref = "reference: one row at a time, double sums";
  const char* omp = "rows over OpenMP threads, float sums (parameter gradients in double)";
  t.push_back({"softmax_backward", "v1", ref, DeviceType::cpu, kF32, true, nullptr, softmax_backward_cpu<true>});
  t.push_back({"softmax_backward", "v2", omp, DeviceType::cpu, kF32, false, nullptr, softmax_backward_cpu<false>});
  t.push_back({"log_softmax", "v1", ref, DeviceType::cpu, kF32, true, log_softmax_cpu<true>});
  t.push_back({"log_softmax", "v2", omp, DeviceType::cpu, kF32, false, log_softmax_cpu<false>});
  t.push_back({"log_softmax", "v3", "v2 with vectorised exp (branch-free Cephes polynomial, omp simd)",
               DeviceType::cpu, kF32, false, log_softmax_cpu_v3});
  t.push_back({"log_softmax_backward", "v1", ref, DeviceType::cpu, kF32, true, nullptr,
               log_softmax_backward_cpu<true>});
  t.push_back({"log_softmax_backward", "v2", omp, DeviceType::cpu, kF32, false, nullptr,
               log_softmax_backward_cpu<false>});
  t.push_back(erased("layernorm", "v1", ref, DeviceType::cpu, true, &layernorm_cpu<true>));
  t.push_back(erased("layernorm", "v2", omp, DeviceType::cpu, false, &layernorm_cpu<false>));
  t.push_back(erased("layernorm_backward", "v1", ref, DeviceType::cpu, true, &layernorm_backward_cpu<true>));
  t.push_back(erased("layernorm_backward", "v2", omp, DeviceType::cpu, false, &layernorm_backward_cpu<false>));
  t.push_back(erased("rmsnorm", "v1", ref, DeviceType::cpu, true, &rmsnorm_cpu<true>));
  t.push_back(erased("rmsnorm", "v2", omp, DeviceType::cpu, false, &rmsnorm_cpu<false>));
  t.push_back(erased("rmsnorm_backward", "v1", ref, DeviceType::cpu, true, &rmsnorm_backward_cpu<true>));
  t.push_back(erased("rmsnorm_backward", "v2", omp, DeviceType::cpu, false, &rmsnorm_backward_cpu<false>));
#ifdef BENCHSUITE_WITH_CUDA
  const char* block = "block per row, block-wide shuffle reductions";
  const char* block_cols = "block per row for dx; a thread per column sums the parameter gradients";
  t.push_back({"softmax_backward", "v1", block, DeviceType::cuda, kF32, false, nullptr, softmax_backward_cuda});
  t.push_back({"log_softmax", "v1", block, DeviceType::cuda, kF32, false, log_softmax_cuda});
  t.push_back({"log_softmax_backward", "v1", block, DeviceType::cuda, kF32, false, nullptr, log_softmax_backward_cuda});
  t.push_back(erased("layernorm", "v1", "block per row: mean, then variance of the centred row", DeviceType::cuda,
                     false, &layernorm_cuda));
  t.push_back(erased("layernorm_backward", "v1", block_cols, DeviceType::cuda, false, &layernorm_backward_cuda));
  t.push_back(erased("rmsnorm", "v1", block, DeviceType::cuda, false, &rmsnorm_cuda));
  t.push_back(erased("rmsnorm_backward", "v1", block_cols, DeviceType::cuda, false, &rmsnorm_backward_cuda));
#endif
}

// ---- ops ------------------------------------------------------------------------------------
Tensor softmax_backward(const Tensor& y, const Tensor& dy, const std::string& impl) {
  check_rows("softmax_backward", y);
  check_like("softmax_backward", "dy", dy, y, "y");
  const OpVersion& v = select_version("softmax_backward", y.device(), y.dtype(), impl);
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  run_binary(v, y.contiguous(), dy.contiguous(), dx);
  return dx;
}

Tensor log_softmax(const Tensor& x, const std::string& impl) {
  check_rows("log_softmax", x);
  const OpVersion& v = select_version("log_softmax", x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  run_unary(v, x.contiguous(), y);
  return y;
}

Tensor log_softmax_backward(const Tensor& y, const Tensor& dy, const std::string& impl) {
  check_rows("log_softmax_backward", y);
  check_like("log_softmax_backward", "dy", dy, y, "y");
  const OpVersion& v = select_version("log_softmax_backward", y.device(), y.dtype(), impl);
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  run_binary(v, y.contiguous(), dy.contiguous(), dx);
  return dx;
}

Shape row_stats_shape(const Tensor& x) { return Shape(x.shape().begin(), x.shape().end() - 1); }

void check_layernorm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  check_rows("layernorm", x);
  check_vector("layernorm", "gamma", gamma, x, cols_of(x));
  check_vector("layernorm", "beta", beta, x, cols_of(x));
  check_eps("layernorm", eps);
}

void run_layernorm(const OpVersion& v, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                   const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle stream) {
  make_current(x);
  v.impl_as<LayernormImpl>()(x, gamma, beta, static_cast<float>(eps), y, mean, rstd, stream);
}

std::vector<Tensor> layernorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                              const std::string& impl) {
  check_layernorm_args(x, gamma, beta, eps);
  const OpVersion& v = select_version("layernorm", x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty(row_stats_shape(x), x.dtype(), x.device());
  Tensor rstd = Tensor::empty(row_stats_shape(x), x.dtype(), x.device());
  run_layernorm(v, x.contiguous(), gamma.contiguous(), beta.contiguous(), eps, y, mean, rstd);
  return {y, mean, rstd};
}

void check_layernorm_backward_args(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd) {
  const char* op = "layernorm_backward";
  check_rows(op, x);
  check_like(op, "dy", dy, x);
  check_vector(op, "gamma", gamma, x, cols_of(x));
  check_stats(op, "mean", mean, x);
  check_stats(op, "rstd", rstd, x);
}

void run_layernorm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                            const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                            const Tensor& dbeta, StreamHandle stream) {
  make_current(x);
  v.impl_as<LayernormBackwardImpl>()(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, stream);
}

std::vector<Tensor> layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                       const Tensor& rstd, const std::string& impl) {
  check_layernorm_backward_args(dy, x, gamma, mean, rstd);
  const OpVersion& v = select_version("layernorm_backward", x.device(), x.dtype(), impl);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor dgamma = Tensor::empty(gamma.shape(), x.dtype(), x.device());
  Tensor dbeta = Tensor::empty(gamma.shape(), x.dtype(), x.device());
  run_layernorm_backward(v, dy.contiguous(), x.contiguous(), gamma.contiguous(), mean.contiguous(), rstd.contiguous(),
                         dx, dgamma, dbeta);
  return {dx, dgamma, dbeta};
}

void check_rmsnorm_args(const Tensor& x, const Tensor& gamma, double eps) {
  check_rows("rmsnorm", x);
  check_vector("rmsnorm", "gamma", gamma, x, cols_of(x));
  check_eps("rmsnorm", eps);
}

void run_rmsnorm(const OpVersion& v, const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                 const Tensor& rstd, StreamHandle stream) {
  make_current(x);
  v.impl_as<RmsnormImpl>()(x, gamma, static_cast<float>(eps), y, rstd, stream);
}

std::vector<Tensor> rmsnorm(const Tensor& x, const Tensor& gamma, double eps, const std::string& impl) {
  check_rmsnorm_args(x, gamma, eps);
  const OpVersion& v = select_version("rmsnorm", x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor rstd = Tensor::empty(row_stats_shape(x), x.dtype(), x.device());
  run_rmsnorm(v, x.contiguous(), gamma.contiguous(), eps, y, rstd);
  return {y, rstd};
}

void check_rmsnorm_backward_args(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd) {
  const char* op = "rmsnorm_backward";
  check_rows(op, x);
  check_like(op, "dy", dy, x);
  check_vector(op, "gamma", gamma, x, cols_of(x));
  check_stats(op, "rstd", rstd, x);
}

void run_rmsnorm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                          const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, StreamHandle stream) {
  make_current(x);
  v.impl_as<RmsnormBackwardImpl>()(dy, x, gamma, rstd, dx, dgamma, stream);
}

std::vector<Tensor> rmsnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                                     const std::string& impl) {
  check_rmsnorm_backward_args(dy, x, gamma, rstd);
  const OpVersion& v = select_version("rmsnorm_backward", x.device(), x.dtype(), impl);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor dgamma = Tensor::empty(gamma.shape(), x.dtype(), x.device());
  run_rmsnorm_backward(v, dy.contiguous(), x.contiguous(), gamma.contiguous(), rstd.contiguous(), dx, dgamma);
  return {dx, dgamma};
}

}  // namespace benchsuite::ops
