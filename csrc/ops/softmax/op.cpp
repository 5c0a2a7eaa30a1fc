// Softmax and log_softmax over the last axis of a tensor of any rank (rows = all leading
// dimensions), and their backward passes.
#include "ops/softmax/softmax.h"

#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/fp32_blocks.h"

namespace benchsuite::ops {

namespace {

// float32 calls the fp32 kernels directly. float16/bfloat16 rows are widened to fp32
// scratch a block of rows at a time, the fp32 kernel runs on them and the result is rounded
// back (ops/fp32_blocks.h). The references (parallel=false) see the whole tensor as one block.
// kernel(const float* a, const float* b, float* out, int64_t rows, int64_t cols); b: null for unary ops.
template <class Kernel>
void rows_through_fp32(const Tensor& a, const Tensor* b, const Tensor& out, bool parallel, Kernel kernel) {
  const int64_t rows = rows_of(a), cols = cols_of(a);
  if (a.dtype() == DType::float32)
    return kernel(a.data<float>(), b ? b->data<float>() : nullptr, out.data<float>(), rows, cols);
  const fp32::Out outs[] = {{out.data_ptr(), out.dtype(), cols}};
  auto run = [&](int64_t, int64_t n, const float* const* in, float* const* o) {
    kernel(in[0], b ? in[1] : nullptr, o[0], n, cols);
  };
  if (b) {
    const fp32::In ins[] = {{a.data_ptr(), a.dtype(), cols}, {b->data_ptr(), b->dtype(), cols}};
    fp32::row_blocks(rows, ins, outs, parallel, run);
  } else {
    const fp32::In ins[] = {{a.data_ptr(), a.dtype(), cols}};
    fp32::row_blocks(rows, ins, outs, parallel, run);
  }
}

// A unary kernel(x, y, rows, cols) as rows_through_fp32 calls it.
template <void (*kKernel)(const float*, float*, int64_t, int64_t)>
void unary_rows(const float* x, const float*, float* y, int64_t rows, int64_t cols) {
  kKernel(x, y, rows, cols);
}

// ---- CPU ----------------------------------------------------------------------------------
template <void (*kKernel)(const float*, float*, int64_t, int64_t), bool kParallel>
void unary_cpu(const Tensor& x, const Tensor& y, StreamHandle) {
  rows_through_fp32(x, nullptr, y, kParallel, unary_rows<kKernel>);
}
template <void (*kKernel)(const float*, const float*, float*, int64_t, int64_t), bool kParallel>
void backward_cpu(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle) {
  rows_through_fp32(y, &dy, dx, kParallel, kKernel);
}
// The references (v1): float64 tensors through the double instantiation in place, the other
// dtypes as unary_cpu / backward_cpu on one thread.
template <void (*kFloat)(const float*, float*, int64_t, int64_t),
          void (*kDouble)(const double*, double*, int64_t, int64_t)>
void unary_reference_cpu(const Tensor& x, const Tensor& y, StreamHandle s) {
  if (x.dtype() == DType::float64) return kDouble(x.data<double>(), y.data<double>(), rows_of(x), cols_of(x));
  unary_cpu<kFloat, false>(x, y, s);
}
template <void (*kFloat)(const float*, const float*, float*, int64_t, int64_t),
          void (*kDouble)(const double*, const double*, double*, int64_t, int64_t)>
void backward_reference_cpu(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  if (y.dtype() == DType::float64)
    return kDouble(y.data<double>(), dy.data<double>(), dx.data<double>(), rows_of(y), cols_of(y));
  backward_cpu<kFloat, false>(y, dy, dx, s);
}

// ---- CUDA ---------------------------------------------------------------------------------
#ifdef BENCHSUITE_WITH_CUDA
template <void (*kLauncher)(DType, const void*, void*, int64_t, int64_t, StreamHandle)>
void unary_cuda(const Tensor& x, const Tensor& y, StreamHandle s) {
  kLauncher(x.dtype(), x.data_ptr(), y.data_ptr(), rows_of(x), cols_of(x), s);
}
template <void (*kLauncher)(DType, const void*, const void*, void*, int64_t, int64_t, StreamHandle)>
void backward_cuda(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  kLauncher(y.dtype(), y.data_ptr(), dy.data_ptr(), dx.data_ptr(), rows_of(y), cols_of(y), s);
}
#endif

// A backward op of the family: y and dy [rows, cols] -> dx.
Tensor backward_op(const char* op, const Tensor& y, const Tensor& dy, const std::string& impl) {
  check_row_op_input(op, y);
  check_like_input(op, "dy", dy, y, "y");
  const OpVersion& version = select_version(op, y.device(), y.dtype(), impl);
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  run_binary(version, y.contiguous(), dy.contiguous(), dx);
  return dx;
}

// A forward op of the family: x [rows, cols] -> y.
Tensor forward_op(const char* op, const Tensor& x, const std::string& impl) {
  check_row_op_input(op, x);
  const OpVersion& version = select_version(op, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  run_unary(version, x.contiguous(), y);
  return y;
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(softmax) {
  // Storage in any float dtype, math in fp32 (v1: double), output rounded once; the CPU
  // references (v1) also take float64.
  const std::vector<DType> f32 = {DType::float32, DType::float16, DType::bfloat16};
  const std::vector<DType> ref_dtypes = {DType::float32, DType::float16, DType::bfloat16, DType::float64};
  const char* vectorised = "v2 with vectorised exp (branch-free Cephes polynomial, omp simd)";
  table.add<SoftmaxOp>({"v1", "reference: three passes per row, double sums", DeviceType::cpu, ref_dtypes, kReference},
                       unary_reference_cpu<cpu::softmax_reference<float>, cpu::softmax_reference<double>>);
  table.add<SoftmaxOp>({"v2", "rows over OpenMP threads, float exp stored then scaled (row sum in double)",
                        DeviceType::cpu, f32},
                       unary_cpu<cpu::softmax_f32_rows_omp, true>);
  table.add<SoftmaxOp>({"v3", vectorised, DeviceType::cpu, f32, kDefault},
                       unary_cpu<cpu::softmax_f32_vectorized, true>);

  const char* ref = "reference: one row at a time, double sums";
  const char* omp = "rows over OpenMP threads, float sums (parameter gradients in double)";
  const char* omp_backward = "rows over OpenMP threads, the row's sum in double";
  table.add<SoftmaxBackwardOp>(
      {"v1", ref, DeviceType::cpu, ref_dtypes, kReference},
      backward_reference_cpu<cpu::softmax_backward_reference<float>, cpu::softmax_backward_reference<double>>);
  table.add<SoftmaxBackwardOp>({"v2", omp_backward, DeviceType::cpu, f32, kDefault},
                               backward_cpu<cpu::softmax_backward_f32, true>);
  table.add<LogSoftmaxOp>({"v1", ref, DeviceType::cpu, ref_dtypes, kReference},
                          unary_reference_cpu<cpu::log_softmax_reference<float>, cpu::log_softmax_reference<double>>);
  table.add<LogSoftmaxOp>({"v2", omp, DeviceType::cpu, f32}, unary_cpu<cpu::log_softmax_f32, true>);
  table.add<LogSoftmaxOp>({"v3", vectorised, DeviceType::cpu, f32, kDefault},
                          unary_cpu<cpu::log_softmax_f32_vectorized, true>);
  table.add<LogSoftmaxBackwardOp>(
      {"v1", ref, DeviceType::cpu, ref_dtypes, kReference},
      backward_reference_cpu<cpu::log_softmax_backward_reference<float>, cpu::log_softmax_backward_reference<double>>);
  table.add<LogSoftmaxBackwardOp>({"v2", omp_backward, DeviceType::cpu, f32, kDefault},
                                  backward_cpu<cpu::log_softmax_backward_f32, true>);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<SoftmaxOp>({"v1", "block per row, three passes with block reductions, 16-byte vector loads",
                        DeviceType::cuda, f32},
                       unary_cuda<cuda::softmax_three_pass>);
  table.add<SoftmaxOp>({"v2", "block per row, online max/sum merged across the block (two reads)",
                        DeviceType::cuda, f32},
                       unary_cuda<cuda::softmax_online>);
  table.add<SoftmaxOp>({"v3", "block per row held in registers (one read; cols <= 8192 fp32, 16384 fp16/bf16), else v2",
                        DeviceType::cuda, f32, kDefault},
                       unary_cuda<cuda::softmax_registers>);

  const char* block = "block per row, 16-byte vector loads, block-wide shuffle reductions";
  const char* registers = "block per row held in registers (one read; cols <= 8192 fp32, 16384 fp16/bf16), else v1";
  table.add<SoftmaxBackwardOp>({"v1", block, DeviceType::cuda, f32, kDefault}, backward_cuda<cuda::softmax_backward>);
  table.add<LogSoftmaxOp>({"v1", block, DeviceType::cuda, f32}, unary_cuda<cuda::log_softmax>);
  table.add<LogSoftmaxOp>({"v2", registers, DeviceType::cuda, f32, kDefault}, unary_cuda<cuda::log_softmax_registers>);
  table.add<LogSoftmaxBackwardOp>({"v1", block, DeviceType::cuda, f32, kDefault},
                                  backward_cuda<cuda::log_softmax_backward>);
#endif
}

void check_row_op_input(const char* op, const Tensor& x) {
  BENCHSUITE_CHECK_ARG(x.ndim() >= 1, op, ": x must have at least 1 dimension, got shape ", shape_str(x.shape()));
  BENCHSUITE_CHECK_ARG(is_floating(x.dtype()), op, ": x.dtype=", dtype_name(x.dtype()), " must be a floating type");
}

void check_like_input(const char* op, const char* name, const Tensor& t, const Tensor& x, const char* x_name) {
  BENCHSUITE_CHECK_ARG(t.device() == x.device() && t.dtype() == x.dtype(), op, ": ", name, " is ", t.describe(),
                       " but ", x_name, " is ", x.describe());
  BENCHSUITE_CHECK_ARG(t.shape() == x.shape(), op, ": ", name, ".shape=", shape_str(t.shape()), " must equal ",
                       x_name, ".shape=", shape_str(x.shape()));
}

void check_softmax_args(const Tensor& x) { check_row_op_input(SoftmaxOp::name, x); }

Tensor softmax(const Tensor& x, const std::string& impl) { return forward_op(SoftmaxOp::name, x, impl); }
Tensor log_softmax(const Tensor& x, const std::string& impl) { return forward_op(LogSoftmaxOp::name, x, impl); }

Tensor softmax_backward(const Tensor& y, const Tensor& dy, const std::string& impl) {
  return backward_op(SoftmaxBackwardOp::name, y, dy, impl);
}

Tensor log_softmax_backward(const Tensor& y, const Tensor& dy, const std::string& impl) {
  return backward_op(LogSoftmaxBackwardOp::name, y, dy, impl);
}

}  // namespace benchsuite::ops
