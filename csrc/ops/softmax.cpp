// Softmax over the last axis of a tensor of any rank (rows = all leading dimensions).
#include "common/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/fp32_blocks.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite::ops {

namespace {

// float16/bfloat16 rows are widened to fp32 scratch a block of rows at a time, the fp32
// kernel runs on them and the result is rounded back (ops/fp32_blocks.h).
template <class Kernel>  // kernel(const float* x, float* y, int64_t rows, int64_t cols)
void rows_through_fp32(const Tensor& x, const Tensor& y, bool parallel, Kernel kernel) {
  const int64_t rows = rows_of(x), cols = cols_of(x);
  if (x.dtype() == DType::float32) return kernel(x.data<float>(), y.data<float>(), rows, cols);
  const fp32::In ins[] = {{x.data_ptr(), x.dtype(), cols}};
  const fp32::Out outs[] = {{y.data_ptr(), y.dtype(), cols}};
  fp32::row_blocks(rows, ins, outs, parallel, [&](int64_t, int64_t n, const float* const* in, float* const* out) {
    kernel(in[0], out[0], n, cols);
  });
}

void softmax_cpu_v1(const Tensor& x, const Tensor& y, StreamHandle) {
  rows_through_fp32(x, y, false, cpu::softmax_f32_reference);
}
void softmax_cpu_v2(const Tensor& x, const Tensor& y, StreamHandle) {
  rows_through_fp32(x, y, true, cpu::softmax_f32_rows_omp);
}
void softmax_cpu_v3(const Tensor& x, const Tensor& y, StreamHandle) {
  rows_through_fp32(x, y, true, cpu::softmax_f32_vectorized);
}
#ifdef BENCHSUITE_WITH_CUDA
void softmax_cuda_v1(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::softmax_three_pass(x.dtype(), x.data_ptr(), y.data_ptr(), rows_of(x), cols_of(x), s);
}
void softmax_cuda_v2(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::softmax_online(x.dtype(), x.data_ptr(), y.data_ptr(), rows_of(x), cols_of(x), s);
}
void softmax_cuda_v3(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::softmax_registers(x.dtype(), x.data_ptr(), y.data_ptr(), rows_of(x), cols_of(x), s);
}
#endif
}  // namespace

void register_softmax_versions(std::vector<OpVersion>& t) {
  // Storage in any float dtype, math in fp32 (v1: double), output rounded once.
  const std::vector<DType> f32 = {DType::float32, DType::float16, DType::bfloat16};
  t.push_back({"softmax", "v1", "reference: three passes per row, double sums", DeviceType::cpu, f32, true,
               softmax_cpu_v1});
  t.push_back({"softmax", "v2", "rows over OpenMP threads, float exp stored then scaled (row sum in double)", DeviceType::cpu, f32, false,
               softmax_cpu_v2});
  t.push_back({"softmax", "v3", "v2 with vectorised exp (branch-free Cephes polynomial, omp simd)", DeviceType::cpu,
               f32, false, softmax_cpu_v3});
#ifdef BENCHSUITE_WITH_CUDA
  t.push_back({"softmax", "v1", "block per row, three passes with block reductions, 16-byte vector loads",
               DeviceType::cuda, f32, false, softmax_cuda_v1});
  t.push_back({"softmax", "v2", "block per row, online max/sum merged across the block (two reads)", DeviceType::cuda,
               f32, false, softmax_cuda_v2});
  t.push_back({"softmax", "v3",
               "block per row held in registers (one read; cols <= 8192 fp32, 16384 fp16/bf16), else v2",
               DeviceType::cuda, f32, false, softmax_cuda_v3});
#endif
}

void check_softmax_args(const Tensor& x) {
  BENCHSUITE_CHECK_ARG(x.ndim() >= 1, "softmax: x must have at least 1 dimension, got shape ", shape_str(x.shape()));
  BENCHSUITE_CHECK_ARG(is_floating(x.dtype()), "softmax: x.dtype=", dtype_name(x.dtype()),
                       " must be a floating type");
}

Tensor softmax(const Tensor& x, const std::string& impl) {
  check_softmax_args(x);
  const OpVersion& version = select_version("softmax", x.device(), x.dtype(), impl);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  run_unary(version, x.contiguous(), out);
  return out;
}

}  // namespace benchsuite::ops
