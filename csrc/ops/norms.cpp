// Row-wise normalisations over the last axis: softmax backward, log_softmax forward and
// backward, layernorm and rmsnorm forward (saving mean / rstd, always float32) and backward.
#include <cmath>

#include "common/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/fp32_blocks.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite::ops {

namespace {
const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }
bool is_f32(const Tensor& t) { return t.dtype() == DType::float32; }

// ---- CPU ----------------------------------------------------------------------------------
// float32 calls the fp32 kernels directly. float16/bfloat16 go through them a block of rows
// at a time (ops/fp32_blocks.h): inputs widened to fp32 scratch, outputs rounded back once;
// the saved statistics (mean, rstd) are float32 for every dtype and used in place;
// gamma/beta (the input's dtype) are widened once. The references (parallel=false) see
// the whole tensor as one block.
using fp32::In;
using fp32::Out;

// kernel(const float* a, const float* b, float* out, rows, cols); unary ops ignore b.
template <class Kernel>
void rows_through_fp32(const Tensor& a, const Tensor* b, const Tensor& out, bool parallel, Kernel kernel) {
  const int64_t rows = rows_of(a), cols = cols_of(a);
  if (is_f32(a)) return kernel(f(a), b ? f(*b) : nullptr, w(out), rows, cols);
  const Out outs[] = {{out.data_ptr(), out.dtype(), cols}};
  auto run = [&](int64_t, int64_t n, const float* const* in, float* const* o) {
    kernel(in[0], b ? in[1] : nullptr, o[0], n, cols);
  };
  if (b) {
    const In ins[] = {{a.data_ptr(), a.dtype(), cols}, {b->data_ptr(), b->dtype(), cols}};
    fp32::row_blocks(rows, ins, outs, parallel, run);
  } else {
    const In ins[] = {{a.data_ptr(), a.dtype(), cols}};
    fp32::row_blocks(rows, ins, outs, parallel, run);
  }
}

template <bool kReference>
void softmax_backward_cpu(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle) {
  rows_through_fp32(y, &dy, dx, !kReference, kReference ? cpu::softmax_backward_reference : cpu::softmax_backward_f32);
}
template <bool kReference>
void log_softmax_cpu(const Tensor& x, const Tensor& y, StreamHandle) {
  rows_through_fp32(x, nullptr, y, !kReference, [](const float* a, const float*, float* o, int64_t r, int64_t c) {
    (kReference ? cpu::log_softmax_reference : cpu::log_softmax_f32)(a, o, r, c);
  });
}
void log_softmax_cpu_v3(const Tensor& x, const Tensor& y, StreamHandle) {
  rows_through_fp32(x, nullptr, y, true, [](const float* a, const float*, float* o, int64_t r, int64_t c) {
    cpu::log_softmax_f32_vectorized(a, o, r, c);
  });
}
template <bool kReference>
void log_softmax_backward_cpu(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle) {
  rows_through_fp32(y, &dy, dx, !kReference,
                    kReference ? cpu::log_softmax_backward_reference : cpu::log_softmax_backward_f32);
}

// gamma / beta as fp32: in place for float32, else a widened copy held in `keep`.
const float* params_f32(const Tensor& t, std::vector<float>& keep) {
  if (is_f32(t)) return f(t);
  keep = fp32::widened(t.data_ptr(), t.dtype(), t.numel());
  return keep.data();
}

template <bool kReference>
void layernorm_cpu(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, const Tensor& y,
                   const Tensor& mean, const Tensor& rstd, StreamHandle) {
  const int64_t rows = rows_of(x), cols = cols_of(x);
  auto kernel = kReference ? cpu::layernorm_reference : cpu::layernorm_f32;
  if (is_f32(x)) return kernel(f(x), f(gamma), f(beta), w(y), w(mean), w(rstd), rows, cols, eps);
  std::vector<float> g_keep, b_keep;
  const float* g = params_f32(gamma, g_keep);
  const float* b = params_f32(beta, b_keep);
  const In ins[] = {{x.data_ptr(), x.dtype(), cols}};
  const Out outs[] = {{y.data_ptr(), y.dtype(), cols}, {mean.data_ptr(), DType::float32, 1},
                      {rstd.data_ptr(), DType::float32, 1}};
  fp32::row_blocks(rows, ins, outs, !kReference, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
    kernel(in[0], g, b, o[0], o[1], o[2], n, cols, eps);
  });
}

// dgamma/dbeta of 16-bit tensors in v2: per-thread double sums over the thread's blocks,
// then over threads, rounded once to the parameters' dtype.
struct ParamGrads {
  ParamGrads(int64_t cols, int count)
      : cols(cols), threads(parallel::max_threads()), sums(static_cast<size_t>(threads * count * cols), 0.0) {}
  double* mine(int which, int count) {
    return sums.data() + (static_cast<int64_t>(parallel::thread_id()) * count + which) * cols;
  }
  void write(int which, int count, const Tensor& out) {
    for (int64_t c = 0; c < cols; ++c) {
      double total = 0;
      for (int t = 0; t < threads; ++t) total += sums[static_cast<size_t>((t * count + which) * cols + c)];
      store_as(out.data_ptr(), out.dtype(), c, total);
    }
  }
  int64_t cols;
  int threads;
  std::vector<double> sums;
};

template <bool kReference>
void layernorm_backward_cpu(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                            const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                            StreamHandle) {
  const int64_t rows = rows_of(x), cols = cols_of(x);
  auto kernel = kReference ? cpu::layernorm_backward_reference : cpu::layernorm_backward_f32;
  if (is_f32(x))
    return kernel(f(dy), f(x), f(gamma), f(mean), f(rstd), w(dx), w(dgamma), w(dbeta), rows, cols);
  std::vector<float> g_keep;
  const float* g = params_f32(gamma, g_keep);
  const In ins[] = {{dy.data_ptr(), dy.dtype(), cols}, {x.data_ptr(), x.dtype(), cols},
                    {mean.data_ptr(), DType::float32, 1}, {rstd.data_ptr(), DType::float32, 1}};
  const Out outs[] = {{dx.data_ptr(), dx.dtype(), cols}};
  if (kReference) {  // one block: the reference's own double sums, rounded once
    std::vector<float> dg(static_cast<size_t>(cols)), db(static_cast<size_t>(cols));
    fp32::row_blocks(rows, ins, outs, false, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
      kernel(in[0], in[1], g, in[2], in[3], o[0], dg.data(), db.data(), n, cols);
    });
    cpu::narrow_from_f32(dg.data(), dgamma.data_ptr(), dgamma.dtype(), cols);
    cpu::narrow_from_f32(db.data(), dbeta.data_ptr(), dbeta.dtype(), cols);
    return;
  }
  ParamGrads grads(cols, 2);
  fp32::row_blocks(rows, ins, outs, true, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
    cpu::layernorm_backward_rows(in[0], in[1], g, in[2], in[3], o[0], grads.mine(0, 2), grads.mine(1, 2), n, cols);
  });
  grads.write(0, 2, dgamma);
  grads.write(1, 2, dbeta);
}

template <bool kReference>
void rmsnorm_cpu(const Tensor& x, const Tensor& gamma, float eps, const Tensor& y, const Tensor& rstd, StreamHandle) {
  const int64_t rows = rows_of(x), cols = cols_of(x);
  auto kernel = kReference ? cpu::rmsnorm_reference : cpu::rmsnorm_f32;
  if (is_f32(x)) return kernel(f(x), f(gamma), w(y), w(rstd), rows, cols, eps);
  std::vector<float> g_keep;
  const float* g = params_f32(gamma, g_keep);
  const In ins[] = {{x.data_ptr(), x.dtype(), cols}};
  const Out outs[] = {{y.data_ptr(), y.dtype(), cols}, {rstd.data_ptr(), DType::float32, 1}};
  fp32::row_blocks(rows, ins, outs, !kReference, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
    kernel(in[0], g, o[0], o[1], n, cols, eps);
  });
}

template <bool kReference>
void rmsnorm_backward_cpu(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd, const Tensor& dx,
                          const Tensor& dgamma, StreamHandle) {
  const int64_t rows = rows_of(x), cols = cols_of(x);
  auto kernel = kReference ? cpu::rmsnorm_backward_reference : cpu::rmsnorm_backward_f32;
  if (is_f32(x)) return kernel(f(dy), f(x), f(gamma), f(rstd), w(dx), w(dgamma), rows, cols);
  std::vector<float> g_keep;
  const float* g = params_f32(gamma, g_keep);
  const In ins[] = {{dy.data_ptr(), dy.dtype(), cols}, {x.data_ptr(), x.dtype(), cols},
                    {rstd.data_ptr(), DType::float32, 1}};
  const Out outs[] = {{dx.data_ptr(), dx.dtype(), cols}};
  if (kReference) {
    std::vector<float> dg(static_cast<size_t>(cols), 0.0f);
    fp32::row_blocks(rows, ins, outs, false, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
      kernel(in[0], in[1], g, in[2], o[0], dg.data(), n, cols);
    });
    cpu::narrow_from_f32(dg.data(), dgamma.data_ptr(), dgamma.dtype(), cols);
    return;
  }
  ParamGrads grads(cols, 1);
  fp32::row_blocks(rows, ins, outs, true, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
    cpu::rmsnorm_backward_rows(in[0], in[1], g, in[2], o[0], grads.mine(0, 1), n, cols);
  });
  grads.write(0, 1, dgamma);
}

// ---- CUDA ---------------------------------------------------------------------------------
// Tensors in their own dtype; mean/rstd always float32.
#ifdef BENCHSUITE_WITH_CUDA
void softmax_backward_cuda(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  cuda::softmax_backward(y.dtype(), y.data_ptr(), dy.data_ptr(), dx.data_ptr(), rows_of(y), cols_of(y), s);
}
template <bool kRegisters>
void log_softmax_cuda(const Tensor& x, const Tensor& y, StreamHandle s) {
  if (kRegisters)
    cuda::log_softmax_registers(x.dtype(), x.data_ptr(), y.data_ptr(), rows_of(x), cols_of(x), s);
  else
    cuda::log_softmax(x.dtype(), x.data_ptr(), y.data_ptr(), rows_of(x), cols_of(x), s);
}
void log_softmax_backward_cuda(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  cuda::log_softmax_backward(y.dtype(), y.data_ptr(), dy.data_ptr(), dx.data_ptr(), rows_of(y), cols_of(y), s);
}
template <bool kRegisters>
void layernorm_cuda(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, const Tensor& y,
                    const Tensor& mean, const Tensor& rstd, StreamHandle s) {
  cuda::layernorm(x.dtype(), x.data_ptr(), gamma.data_ptr(), beta.data_ptr(), y.data_ptr(), w(mean), w(rstd),
                  rows_of(x), cols_of(x), eps, kRegisters, s);
}
void layernorm_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                             const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                             StreamHandle s) {
  cuda::layernorm_backward(x.dtype(), dy.data_ptr(), x.data_ptr(), gamma.data_ptr(), f(mean), f(rstd), dx.data_ptr(),
                           dgamma.data_ptr(), dbeta.data_ptr(), rows_of(x), cols_of(x), s);
}
template <bool kRegisters>
void rmsnorm_cuda(const Tensor& x, const Tensor& gamma, float eps, const Tensor& y, const Tensor& rstd, StreamHandle s) {
  cuda::rmsnorm(x.dtype(), x.data_ptr(), gamma.data_ptr(), y.data_ptr(), w(rstd), rows_of(x), cols_of(x), eps,
                kRegisters, s);
}
void rmsnorm_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                           const Tensor& dx, const Tensor& dgamma, StreamHandle s) {
  cuda::rmsnorm_backward(x.dtype(), dy.data_ptr(), x.data_ptr(), gamma.data_ptr(), f(rstd), dx.data_ptr(),
                         dgamma.data_ptr(), rows_of(x), cols_of(x), s);
}
#endif

// Every version: x, y, dy, dx, gamma, beta and the parameter gradients in one dtype
// (float32, float16 or bfloat16, as PyTorch requires of layer_norm's weight and bias),
// math in fp32 (references in double), saved mean/rstd in float32 (PyTorch's
// native_layer_norm keeps them in the accumulation type too).
const std::vector<DType> kF32 = {DType::float32, DType::float16, DType::bfloat16};

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
  BENCHSUITE_CHECK_ARG(t.device() == x.device() && t.dtype() == DType::float32, op, ": ", name, " is ", t.describe(),
                       " but must be float32 on x's device (", x.device().str(),
                       "): the forward saves its statistics in float32 for every dtype");
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
  auto any = [&](const char* op, const char* version, const char* description, DeviceType device, bool reference,
                 auto fn) { return erased_version(op, version, description, device, kF32, reference, fn); };
  t.push_back(any("layernorm", "v1", ref, DeviceType::cpu, true, &layernorm_cpu<true>));
  t.push_back(any("layernorm", "v2", omp, DeviceType::cpu, false, &layernorm_cpu<false>));
  t.push_back(any("layernorm_backward", "v1", ref, DeviceType::cpu, true, &layernorm_backward_cpu<true>));
  t.push_back(any("layernorm_backward", "v2", omp, DeviceType::cpu, false, &layernorm_backward_cpu<false>));
  t.push_back(any("rmsnorm", "v1", ref, DeviceType::cpu, true, &rmsnorm_cpu<true>));
  t.push_back(any("rmsnorm", "v2", omp, DeviceType::cpu, false, &rmsnorm_cpu<false>));
  t.push_back(any("rmsnorm_backward", "v1", ref, DeviceType::cpu, true, &rmsnorm_backward_cpu<true>));
  t.push_back(any("rmsnorm_backward", "v2", omp, DeviceType::cpu, false, &rmsnorm_backward_cpu<false>));
#ifdef BENCHSUITE_WITH_CUDA
  const char* block = "block per row, 16-byte vector loads, block-wide shuffle reductions";
  const char* regs = "block per row held in registers (one read; cols <= 8192 fp32, 16384 fp16/bf16), else v1";
  const char* block_cols = "block per row for dx; a thread per column sums the parameter gradients";
  t.push_back({"softmax_backward", "v1", block, DeviceType::cuda, kF32, false, nullptr, softmax_backward_cuda});
  t.push_back({"log_softmax", "v1", block, DeviceType::cuda, kF32, false, log_softmax_cuda<false>});
  t.push_back({"log_softmax", "v2", regs, DeviceType::cuda, kF32, false, log_softmax_cuda<true>});
  t.push_back({"log_softmax_backward", "v1", block, DeviceType::cuda, kF32, false, nullptr, log_softmax_backward_cuda});
  t.push_back(any("layernorm", "v1", "block per row: mean, then variance of the centred row (three reads)",
                  DeviceType::cuda, false, &layernorm_cuda<false>));
  t.push_back(any("layernorm", "v2", regs, DeviceType::cuda, false, &layernorm_cuda<true>));
  t.push_back(any("layernorm_backward", "v1", block_cols, DeviceType::cuda, false, &layernorm_backward_cuda));
  t.push_back(any("rmsnorm", "v1", block, DeviceType::cuda, false, &rmsnorm_cuda<false>));
  t.push_back(any("rmsnorm", "v2", regs, DeviceType::cuda, false, &rmsnorm_cuda<true>));
  t.push_back(any("rmsnorm_backward", "v1", block_cols, DeviceType::cuda, false, &rmsnorm_backward_cuda));
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
  check_version_dtype(v, x.dtype());
  v.impl_as<LayernormImpl>()(x, gamma, beta, static_cast<float>(eps), y, mean, rstd, stream);
}

std::vector<Tensor> layernorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                              const std::string& impl) {
  check_layernorm_args(x, gamma, beta, eps);
  const OpVersion& v = select_version("layernorm", x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty(row_stats_shape(x), DType::float32, x.device());
  Tensor rstd = Tensor::empty(row_stats_shape(x), DType::float32, x.device());
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
  check_version_dtype(v, x.dtype());
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
  check_version_dtype(v, x.dtype());
  v.impl_as<RmsnormImpl>()(x, gamma, static_cast<float>(eps), y, rstd, stream);
}

std::vector<Tensor> rmsnorm(const Tensor& x, const Tensor& gamma, double eps, const std::string& impl) {
  check_rmsnorm_args(x, gamma, eps);
  const OpVersion& v = select_version("rmsnorm", x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor rstd = Tensor::empty(row_stats_shape(x), DType::float32, x.device());
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
  check_version_dtype(v, x.dtype());
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
