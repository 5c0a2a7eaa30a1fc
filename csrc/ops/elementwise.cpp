// Elementwise ops: add (same shapes; broadcasting arrives with the kernel library).
#include "common/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite::ops {

namespace {
void add_cpu(const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle) {
  cpu::add_f32(a.data<float>(), b.data<float>(), out.data<float>(), out.numel());
}
#ifdef BENCHSUITE_WITH_CUDA
void add_cuda(const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle s) {
  cuda::add_f32(a.data<float>(), b.data<float>(), out.data<float>(), out.numel(), s);
}
#endif
}  // namespace

void register_elementwise_versions(std::vector<OpVersion>& t) {
  t.push_back({"add", "v1", "OpenMP simd loop", DeviceType::cpu, {DType::float32}, true, nullptr, add_cpu, nullptr});
#ifdef BENCHSUITE_WITH_CUDA
  t.push_back({"add", "v1", "grid-stride loop, float4 when 16-byte aligned", DeviceType::cuda, {DType::float32}, false,
               nullptr, add_cuda, nullptr});
#endif
}

void check_add_args(const Tensor& a, const Tensor& b) {
  BENCHSUITE_CHECK_ARG(a.device() == b.device(), "add: a is on ", a.device().str(), " but b is on ", b.device().str());
  BENCHSUITE_CHECK_ARG(a.dtype() == b.dtype(), "add: a.dtype=", dtype_name(a.dtype()), " differs from b.dtype=",
                       dtype_name(b.dtype()));
  BENCHSUITE_CHECK_ARG(a.shape() == b.shape(), "add: a.shape=", shape_str(a.shape()), " differs from b.shape=",
                       shape_str(b.shape()));
}

Tensor add(const Tensor& a, const Tensor& b, const std::string& impl) {
  check_add_args(a, b);
  const OpVersion& version = select_version("add", a.device(), a.dtype(), impl);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  run_binary(version, a.contiguous(), b.contiguous(), out);
  return out;
}

}  // namespace benchsuite::ops
