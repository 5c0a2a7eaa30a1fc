// The dropout op: validation, versions and the op users call (formula in dropout.h).
#include <cmath>

#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/dropout/dropout.h"

namespace benchsuite::ops {

namespace {
template <bool kReference>
void dropout_cpu(const Tensor& x, const Tensor& y, double p, uint64_t seed, StreamHandle) {
  if (kReference && x.dtype() == DType::float64)
    return cpu::dropout_reference(x.data<double>(), y.data<double>(), x.numel(), p, seed);
  (kReference ? cpu::dropout_reference<float> : cpu::dropout_f32)(x.data<float>(), y.data<float>(), x.numel(), p, seed);
}
#ifdef BENCHSUITE_WITH_CUDA
void dropout_cuda(const Tensor& x, const Tensor& y, double p, uint64_t seed, StreamHandle s) {
  cuda::dropout_f32(x.data<float>(), y.data<float>(), x.numel(), p, seed, s);
}
#endif
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(dropout) {
  const std::vector<DType> f32 = {DType::float32};
  // float64: the reference only (the same mask as float32's for a seed).
  table.add<DropoutOp>(
      {"v1", "reference: one Philox draw per element", DeviceType::cpu, {DType::float32, DType::float64}, kReference},
      dropout_cpu<true>);
  table.add<DropoutOp>({"v2", "one Philox block per 4 elements, OpenMP", DeviceType::cpu, f32, kDefault},
                       dropout_cpu<false>);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<DropoutOp>({"v1", "thread per Philox block of 4 elements (grid-stride): the CPU's mask, bit for bit",
                        DeviceType::cuda, f32, kDefault},
                       dropout_cuda);
#endif
}

void check_dropout_args(const Tensor& x, double p) {
  BENCHSUITE_CHECK_ARG(is_full_precision(x.dtype()), "dropout: x.dtype=", dtype_name(x.dtype()),
                       " must be float32 or float64");
  BENCHSUITE_CHECK_ARG(std::isfinite(p) && p >= 0.0 && p < 1.0, "dropout: p=", p, " must be in [0, 1)");
}

void run_dropout(const OpVersion& v, const Tensor& x, const Tensor& y, double p, uint64_t seed, StreamHandle stream) {
  check_version_dtype(v, x.dtype());
  make_current(x);
  v.fn<DropoutSignature>()(x, y, p, seed, stream);
}

Tensor dropout(const Tensor& x, double p, uint64_t seed, const std::string& impl) {
  check_dropout_args(x, p);
  const OpVersion& version = select_version(DropoutOp::name, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  run_dropout(version, x.contiguous(), y, p, seed);
  return y;
}

}  // namespace benchsuite::ops
