// layernorm and rmsnorm over the last axis, forward (saving mean / rstd: float32, float64 for
// float64 x) and backward; gamma / beta optional (ones / zeros of shape [cols] when missing, as in torch).
#include "ops/norms/norms.h"

#include <cmath>

#include "core/error.h"
#include "core/float_convert.h"
#include "core/parallel.h"
#include "ops/dispatch.h"
#include "ops/fp32_blocks.h"
#include "ops/softmax/softmax.h"  // check_row_op_input, check_like_input

namespace benchsuite::ops {

namespace {
const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }
bool is_f32(const Tensor& t) { return t.dtype() == DType::float32; }
bool is_f64(const Tensor& t) { return t.dtype() == DType::float64; }
const double* d(const Tensor& t) { return t.data<double>(); }
double* wd(const Tensor& t) { return t.data<double>(); }

// ---- CPU ----------------------------------------------------------------------------------
// float32 calls the fp32 kernels directly. float16/bfloat16 go through them a block of rows
// at a time (ops/fp32_blocks.h): inputs widened to fp32 scratch, outputs rounded back once;
// the saved statistics (mean, rstd) are float32 for these dtypes and used in place;
// gamma/beta (the input's dtype) are widened once. The references (parallel=false) see
// the whole tensor as one block; float64 (the references only) runs their double kernels on
// the tensors in place, statistics in float64. The fp32 paths take eps rounded to float.
using fp32::In;
using fp32::Out;

// gamma / beta as fp32: in place for float32, else a widened copy held in `keep`.
const float* params_f32(const Tensor& t, std::vector<float>& keep) {
  if (is_f32(t)) return f(t);
  keep = fp32::widened(t.data_ptr(), t.dtype(), t.numel());
  return keep.data();
}

template <bool kReference>
void layernorm_cpu(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps64, const Tensor& y,
                   const Tensor& mean, const Tensor& rstd, StreamHandle) {
  const int64_t rows = rows_of(x), cols = cols_of(x);
  if (is_f64(x)) return cpu::layernorm_reference(d(x), d(gamma), d(beta), wd(y), wd(mean), wd(rstd), rows, cols, eps64);
  const float eps = static_cast<float>(eps64);
  auto kernel = [](const float* x, const float* g, const float* b, float* y, float* m, float* s, int64_t rows,
                   int64_t cols, float eps) {
    if constexpr (kReference)
      cpu::layernorm_reference(x, g, b, y, m, s, rows, cols, eps);
    else
      cpu::layernorm_f32(x, g, b, y, m, s, rows, cols, eps);
  };
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
  if (is_f64(x))
    return cpu::layernorm_backward_reference(d(dy), d(x), d(gamma), d(mean), d(rstd), wd(dx), wd(dgamma), wd(dbeta),
                                             rows, cols);
  auto kernel = kReference ? cpu::layernorm_backward_reference<float> : cpu::layernorm_backward_f32;
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
void rmsnorm_cpu(const Tensor& x, const Tensor& gamma, double eps64, const Tensor& y, const Tensor& rstd,
                 StreamHandle) {
  const int64_t rows = rows_of(x), cols = cols_of(x);
  if (is_f64(x)) return cpu::rmsnorm_reference(d(x), d(gamma), wd(y), wd(rstd), rows, cols, eps64);
  const float eps = static_cast<float>(eps64);
  auto kernel = [](const float* x, const float* g, float* y, float* s, int64_t rows, int64_t cols, float eps) {
    if constexpr (kReference)
      cpu::rmsnorm_reference(x, g, y, s, rows, cols, eps);
    else
      cpu::rmsnorm_f32(x, g, y, s, rows, cols, eps);
  };
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
  if (is_f64(x)) return cpu::rmsnorm_backward_reference(d(dy), d(x), d(gamma), d(rstd), wd(dx), wd(dgamma), rows, cols);
  auto kernel = kReference ? cpu::rmsnorm_backward_reference<float> : cpu::rmsnorm_backward_f32;
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
template <bool kRegisters>
void layernorm_cuda(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, const Tensor& y,
                    const Tensor& mean, const Tensor& rstd, StreamHandle s) {
  cuda::layernorm(x.dtype(), x.data_ptr(), gamma.data_ptr(), beta.data_ptr(), y.data_ptr(), w(mean), w(rstd),
                  rows_of(x), cols_of(x), static_cast<float>(eps), kRegisters, s);
}
void layernorm_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                             const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                             StreamHandle s) {
  cuda::layernorm_backward(x.dtype(), dy.data_ptr(), x.data_ptr(), gamma.data_ptr(), f(mean), f(rstd), dx.data_ptr(),
                           dgamma.data_ptr(), dbeta.data_ptr(), rows_of(x), cols_of(x), s);
}
template <bool kRegisters>
void rmsnorm_cuda(const Tensor& x, const Tensor& gamma, double eps, const Tensor& y, const Tensor& rstd,
                  StreamHandle s) {
  cuda::rmsnorm(x.dtype(), x.data_ptr(), gamma.data_ptr(), y.data_ptr(), w(rstd), rows_of(x), cols_of(x),
                static_cast<float>(eps), kRegisters, s);
}
void rmsnorm_backward_cuda(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                           const Tensor& dx, const Tensor& dgamma, StreamHandle s) {
  cuda::rmsnorm_backward(x.dtype(), dy.data_ptr(), x.data_ptr(), gamma.data_ptr(), f(rstd), dx.data_ptr(),
                         dgamma.data_ptr(), rows_of(x), cols_of(x), s);
}
#endif

// ---- validation -----------------------------------------------------------------------------
// gamma / beta: [cols] on x's device in x's dtype, or undefined (the ops' defaults).
void check_param(const char* op, const char* name, const Tensor& t, const Tensor& x) {
  if (!t.defined()) return;
  BENCHSUITE_CHECK_ARG(t.device() == x.device() && t.dtype() == x.dtype(), op, ": ", name, " is ", t.describe(),
                       " but x is ", x.describe());
  BENCHSUITE_CHECK_ARG(t.ndim() == 1 && t.shape()[0] == cols_of(x), op, ": ", name, ".shape=", shape_str(t.shape()),
                       " must be [", cols_of(x), "]");
}
void check_stats(const char* op, const char* name, const Tensor& t, const Tensor& x) {
  const Shape expected = row_stats_shape(x);
  const DType want = stats_dtype(x.dtype());
  BENCHSUITE_CHECK_ARG(t.device() == x.device() && t.dtype() == want, op, ": ", name, " is ", t.describe(),
                       " but must be ", dtype_name(want), " on x's device (", x.device().str(),
                       "): the forward saves its statistics in float32 (float64 for float64 x)");
  BENCHSUITE_CHECK_ARG(t.shape() == expected, op, ": ", name, ".shape=", shape_str(t.shape()),
                       " must be x.shape[:-1]=", shape_str(expected));
}
void check_eps(const char* op, double eps) {
  BENCHSUITE_CHECK_ARG(std::isfinite(eps) && eps > 0, op, ": eps=", eps, " must be a finite number > 0");
}
// mean: null for rmsnorm.
void check_backward_args(const char* op, const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor* mean,
                         const Tensor& rstd) {
  check_row_op_input(op, x);
  check_like_input(op, "dy", dy, x);
  check_param(op, "gamma", gamma, x);
  if (mean) check_stats(op, "mean", *mean, x);
  check_stats(op, "rstd", rstd, x);
}

// gamma or beta as the kernels take it: contiguous, or when missing (torch's default) a
// [cols] vector of `value` (ones for gamma, zeros for beta) in x's dtype on x's device.
Tensor param_or(const Tensor& t, double value, const Tensor& x) {
  if (t.defined()) return t.contiguous();
  Tensor filled = Tensor::empty({cols_of(x)}, x.dtype(), x.device());
  CreationParams p;
  p.value = value;
  run_creation(select_version("fill", x.device(), x.dtype(), ""), filled, p);
  return filled;
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(norms) {
  // Every version: x, y, dy, dx, gamma, beta and the parameter gradients in one dtype,
  // math in fp32 (references in double), saved mean/rstd in float32 (ops/norms/norms.h);
  // the CPU references also take float64 (statistics in float64).
  const std::vector<DType> f32 = {DType::float32, DType::float16, DType::bfloat16};
  const std::vector<DType> ref_dtypes = {DType::float32, DType::float16, DType::bfloat16, DType::float64};
  const char* ref = "reference: one row at a time, double sums";
  const char* omp = "rows over OpenMP threads, float sums (parameter gradients in double)";
  table.add<LayernormOp>({"v1", ref, DeviceType::cpu, ref_dtypes, kReference}, layernorm_cpu<true>);
  table.add<LayernormOp>({"v2", omp, DeviceType::cpu, f32, kDefault}, layernorm_cpu<false>);
  table.add<LayernormBackwardOp>({"v1", ref, DeviceType::cpu, ref_dtypes, kReference}, layernorm_backward_cpu<true>);
  table.add<LayernormBackwardOp>({"v2", omp, DeviceType::cpu, f32, kDefault}, layernorm_backward_cpu<false>);
  table.add<RmsnormOp>({"v1", ref, DeviceType::cpu, ref_dtypes, kReference}, rmsnorm_cpu<true>);
  table.add<RmsnormOp>({"v2", omp, DeviceType::cpu, f32, kDefault}, rmsnorm_cpu<false>);
  table.add<RmsnormBackwardOp>({"v1", ref, DeviceType::cpu, ref_dtypes, kReference}, rmsnorm_backward_cpu<true>);
  table.add<RmsnormBackwardOp>({"v2", omp, DeviceType::cpu, f32, kDefault}, rmsnorm_backward_cpu<false>);
#ifdef BENCHSUITE_WITH_CUDA
  const char* block = "block per row, 16-byte vector loads, block-wide shuffle reductions";
  const char* regs = "block per row held in registers (one read; cols <= 8192 fp32, 16384 fp16/bf16), else v1";
  const char* block_cols = "block per row for dx; a thread per column sums the parameter gradients";
  table.add<LayernormOp>({"v1", "block per row: mean, then variance of the centred row (three reads)",
                          DeviceType::cuda, f32},
                         layernorm_cuda<false>);
  table.add<LayernormOp>({"v2", regs, DeviceType::cuda, f32, kDefault}, layernorm_cuda<true>);
  table.add<LayernormBackwardOp>({"v1", block_cols, DeviceType::cuda, f32, kDefault}, layernorm_backward_cuda);
  table.add<RmsnormOp>({"v1", block, DeviceType::cuda, f32}, rmsnorm_cuda<false>);
  table.add<RmsnormOp>({"v2", regs, DeviceType::cuda, f32, kDefault}, rmsnorm_cuda<true>);
  table.add<RmsnormBackwardOp>({"v1", block_cols, DeviceType::cuda, f32, kDefault}, rmsnorm_backward_cuda);
#endif
}

Shape row_stats_shape(const Tensor& x) { return Shape(x.shape().begin(), x.shape().end() - 1); }

// ---- layernorm ------------------------------------------------------------------------------
void check_layernorm_args(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  check_row_op_input(LayernormOp::name, x);
  check_param(LayernormOp::name, "gamma", gamma, x);
  check_param(LayernormOp::name, "beta", beta, x);
  check_eps(LayernormOp::name, eps);
}

void run_layernorm(const OpVersion& v, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                   const Tensor& y, const Tensor& mean, const Tensor& rstd, StreamHandle stream) {
  make_current(x);
  check_version_dtype(v, x.dtype());
  v.fn<LayernormSignature>()(x, gamma, beta, eps, y, mean, rstd, stream);
}

std::vector<Tensor> layernorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                              const std::string& impl) {
  check_layernorm_args(x, gamma, beta, eps);
  const OpVersion& v = select_version(LayernormOp::name, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty(row_stats_shape(x), stats_dtype(x.dtype()), x.device());
  Tensor rstd = Tensor::empty(row_stats_shape(x), stats_dtype(x.dtype()), x.device());
  run_layernorm(v, x.contiguous(), param_or(gamma, 1.0, x), param_or(beta, 0.0, x), eps, y, mean, rstd);
  return {y, mean, rstd};
}

void run_layernorm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                            const Tensor& mean, const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                            const Tensor& dbeta, StreamHandle stream) {
  make_current(x);
  check_version_dtype(v, x.dtype());
  v.fn<LayernormBackwardSignature>()(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, stream);
}

std::vector<Tensor> layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                       const Tensor& rstd, const std::string& impl) {
  const char* op = LayernormBackwardOp::name;
  check_backward_args(op, dy, x, gamma, &mean, rstd);
  const OpVersion& v = select_version(op, x.device(), x.dtype(), impl);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor dgamma = Tensor::empty({cols_of(x)}, x.dtype(), x.device());
  Tensor dbeta = Tensor::empty({cols_of(x)}, x.dtype(), x.device());
  run_layernorm_backward(v, dy.contiguous(), x.contiguous(), param_or(gamma, 1.0, x), mean.contiguous(),
                         rstd.contiguous(), dx, dgamma, dbeta);
  return {dx, dgamma, dbeta};
}

// ---- rmsnorm --------------------------------------------------------------------------------
void check_rmsnorm_args(const Tensor& x, const Tensor& gamma, double eps) {
  check_row_op_input(RmsnormOp::name, x);
  check_param(RmsnormOp::name, "gamma", gamma, x);
  check_eps(RmsnormOp::name, eps);
}

void run_rmsnorm(const OpVersion& v, const Tensor& x, const Tensor& gamma, double eps, const Tensor& y,
                 const Tensor& rstd, StreamHandle stream) {
  make_current(x);
  check_version_dtype(v, x.dtype());
  v.fn<RmsnormSignature>()(x, gamma, eps, y, rstd, stream);
}

std::vector<Tensor> rmsnorm(const Tensor& x, const Tensor& gamma, double eps, const std::string& impl) {
  check_rmsnorm_args(x, gamma, eps);
  const OpVersion& v = select_version(RmsnormOp::name, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor rstd = Tensor::empty(row_stats_shape(x), stats_dtype(x.dtype()), x.device());
  run_rmsnorm(v, x.contiguous(), param_or(gamma, 1.0, x), eps, y, rstd);
  return {y, rstd};
}

void run_rmsnorm_backward(const OpVersion& v, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                          const Tensor& rstd, const Tensor& dx, const Tensor& dgamma, StreamHandle stream) {
  make_current(x);
  check_version_dtype(v, x.dtype());
  v.fn<RmsnormBackwardSignature>()(dy, x, gamma, rstd, dx, dgamma, stream);
}

std::vector<Tensor> rmsnorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                                     const std::string& impl) {
  check_backward_args(RmsnormBackwardOp::name, dy, x, gamma, nullptr, rstd);
  const OpVersion& v = select_version(RmsnormBackwardOp::name, x.device(), x.dtype(), impl);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor dgamma = Tensor::empty({cols_of(x)}, x.dtype(), x.device());
  run_rmsnorm_backward(v, dy.contiguous(), x.contiguous(), param_or(gamma, 1.0, x), rstd.contiguous(), dx, dgamma);
  return {dx, dgamma};
}

}  // namespace benchsuite::ops
