// The sigmoid ops: validation, the versions, and the ops users call.
#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/fp32_blocks.h"
#include "ops/sigmoid/sigmoid.h"

namespace benchsuite::ops {

namespace {
// CPU: float16/bfloat16 through fp32 blocks; the references on one thread, one block, and
// float64 (references only) in double in place.
template <bool kReference>
void sigmoid_cpu(const Tensor& x, const Tensor& y, StreamHandle) {
  if (kReference && x.dtype() == DType::float64)
    return cpu::sigmoid_reference(x.data<double>(), y.data<double>(), x.numel());
  fp32::unary_elements(x.data_ptr(), y.data_ptr(), x.dtype(), x.numel(), !kReference,
                       kReference ? cpu::sigmoid_reference<float> : cpu::sigmoid_f32);
}
template <bool kReference>
void sigmoid_backward_cpu(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle) {
  if (kReference && y.dtype() == DType::float64)
    return cpu::sigmoid_backward_reference(y.data<double>(), dy.data<double>(), dx.data<double>(), y.numel());
  fp32::binary_elements(y.data_ptr(), dy.data_ptr(), dx.data_ptr(), y.dtype(), y.numel(), !kReference,
                        kReference ? cpu::sigmoid_backward_reference<float> : cpu::sigmoid_backward_f32);
}
#ifdef BENCHSUITE_WITH_CUDA
void sigmoid_cuda(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::sigmoid(x.dtype(), x.data_ptr(), y.data_ptr(), x.numel(), s);
}
void sigmoid_backward_cuda(const Tensor& y, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  cuda::sigmoid_backward(y.dtype(), y.data_ptr(), dy.data_ptr(), dx.data_ptr(), y.numel(), s);
}
#endif

void check_float(const char* op, const char* name, const Tensor& t) {
  BENCHSUITE_CHECK_ARG(is_floating(t.dtype()), op, ": ", name, ".dtype=", dtype_name(t.dtype()),
                       " must be a floating type");
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(sigmoid) {
  const std::vector<DType> f32 = {DType::float32, DType::float16, DType::bfloat16};
  const std::vector<DType> ref_dtypes = {DType::float32, DType::float16, DType::bfloat16, DType::float64};
  table.add<SigmoidOp>({"v1", "reference: exp in double, one thread", DeviceType::cpu, ref_dtypes, kReference},
                       sigmoid_cpu<true>);
  table.add<SigmoidOp>({"v2", "8-lane exp (Cephes polynomial), OpenMP over 8-element blocks", DeviceType::cpu, f32,
                        kDefault},
                       sigmoid_cpu<false>);
  table.add<SigmoidBackwardOp>(
      {"v1", "reference: dy*y*(1-y) in double, one thread", DeviceType::cpu, ref_dtypes, kReference},
      sigmoid_backward_cpu<true>);
  table.add<SigmoidBackwardOp>({"v2", "omp parallel for simd, fp32", DeviceType::cpu, f32, kDefault},
                               sigmoid_backward_cpu<false>);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<SigmoidOp>({"v1", "grid-stride, 16-byte packs when aligned, __expf", DeviceType::cuda, f32, kDefault},
                       sigmoid_cuda);
  table.add<SigmoidBackwardOp>({"v1", "grid-stride, 16-byte packs when aligned", DeviceType::cuda, f32, kDefault},
                               sigmoid_backward_cuda);
#endif
}

Tensor sigmoid(const Tensor& x, const std::string& impl) {
  check_float("sigmoid", "x", x);
  const OpVersion& version = select_version(SigmoidOp::name, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  run_unary(version, x.contiguous(), y);
  return y;
}

Tensor sigmoid_backward(const Tensor& y, const Tensor& dy, const std::string& impl) {
  check_float("sigmoid_backward", "y", y);
  check_same_device("sigmoid_backward", "y", y, "dy", dy);
  BENCHSUITE_CHECK_ARG(dy.shape() == y.shape() && dy.dtype() == y.dtype(), "sigmoid_backward: dy is ",
                       dy.describe(), " but y is ", y.describe(), " (they must match)");
  const OpVersion& version = select_version(SigmoidBackwardOp::name, y.device(), y.dtype(), impl);
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  run_binary(version, y.contiguous(), dy.contiguous(), dx);
  return dx;
}

}  // namespace benchsuite::ops
