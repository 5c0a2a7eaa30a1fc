// Softmax over the last axis of a tensor of any rank (rows = all leading dimensions).
#include "common/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite::ops {

namespace {

void softmax_cpu_v1(const Tensor& x, const Tensor& y, StreamHandle) {
  cpu::softmax_f32_reference(x.data<float>(), y.data<float>(), rows_of(x), cols_of(x));
}
void softmax_cpu_v2(const Tensor& x, const Tensor& y, StreamHandle) {
  cpu::softmax_f32_rows_omp(x.data<float>(), y.data<float>(), rows_of(x), cols_of(x));
}
void softmax_cpu_v3(const Tensor& x, const Tensor& y, StreamHandle) {
  cpu::softmax_f32_vectorized(x.data<float>(), y.data<float>(), rows_of(x), cols_of(x));
}
#ifdef BENCHSUITE_WITH_CUDA
void softmax_cuda_v1(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::softmax_f32_three_pass(x.data<float>(), y.data<float>(), rows_of(x), cols_of(x), s);
}
void softmax_cuda_v2(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::softmax_f32_online(x.data<float>(), y.data<float>(), rows_of(x), cols_of(x), s);
}
#endif
}  // namespace

void register_softmax_versions(std::vector<OpVersion>& t) {
  const std::vector<DType> f32 = {DType::float32};
  t.push_back({"softmax", "v1", "reference: three passes per row, double sums", DeviceType::cpu, f32, true,
               softmax_cpu_v1});
  t.push_back({"softmax", "v2", "rows over OpenMP threads, float, exp stored then scaled", DeviceType::cpu, f32, false,
               softmax_cpu_v2});
  t.push_back({"softmax", "v3", "v2 with vectorised exp (branch-free Cephes polynomial, omp simd)", DeviceType::cpu,
               f32, false, softmax_cpu_v3});
#ifdef BENCHSUITE_WITH_CUDA
  t.push_back({"softmax", "v1", "block per row, three passes with block reductions", DeviceType::cuda, f32, false,
               softmax_cuda_v1});
  t.push_back({"softmax", "v2", "block per row, online max/sum merged across the block (two reads)", DeviceType::cuda,
               f32, false, softmax_cuda_v2});
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
