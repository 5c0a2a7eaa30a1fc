// Matrix product of 2-D tensors: C[M,N] = A[M,K] @ B[K,N].
#include "common/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite::ops {

namespace {
void matmul_cpu_v1(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle) {
  cpu::matmul_f32_reference(a.data<float>(), b.data<float>(), c.data<float>(), a.size(0), b.size(1), a.size(1));
}
void matmul_cpu_v2(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle) {
  cpu::matmul_f32_blocked(a.data<float>(), b.data<float>(), c.data<float>(), a.size(0), b.size(1), a.size(1));
}
#ifdef BENCHSUITE_WITH_CUDA
void matmul_cuda_cublas(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle s) {
  cuda::gemm_cublas(a.dtype(), a.data_ptr(), b.data_ptr(), c.data_ptr(), a.size(0), b.size(1), a.size(1),
                    c.device().index, s);
}
#endif
}  // namespace

void register_matmul_versions(std::vector<OpVersion>& t) {
  const std::vector<DType> f32 = {DType::float32};
  t.push_back({"matmul", "v1", "reference: i-k-j loops, rows accumulated in double", DeviceType::cpu, f32, true,
               nullptr, matmul_cpu_v1});
  t.push_back({"matmul", "v2", "packed panels + 6x16 vector micro-kernel, OpenMP over row blocks", DeviceType::cpu,
               f32, false, nullptr, matmul_cpu_v2});
#ifdef BENCHSUITE_WITH_CUDA
  t.push_back({"matmul", "cublas", "vendor: cublasGemmEx, fp32 accumulation", DeviceType::cuda,
               {DType::float32, DType::float16, DType::bfloat16}, false, nullptr, matmul_cuda_cublas});
#endif
}

void check_matmul_args(const Tensor& a, const Tensor& b) {
  BENCHSUITE_CHECK_ARG(a.ndim() == 2, "matmul: a must be 2-D, got shape ", shape_str(a.shape()));
  BENCHSUITE_CHECK_ARG(b.ndim() == 2, "matmul: b must be 2-D, got shape ", shape_str(b.shape()));
  BENCHSUITE_CHECK_ARG(a.size(1) == b.size(0), "matmul: a.shape=", shape_str(a.shape()), " and b.shape=",
                       shape_str(b.shape()), " have different inner dimensions (", a.size(1), " != ", b.size(0), ")");
  BENCHSUITE_CHECK_ARG(a.device() == b.device(), "matmul: a is on ", a.device().str(), " but b is on ",
                       b.device().str());
  BENCHSUITE_CHECK_ARG(a.dtype() == b.dtype(), "matmul: a.dtype=", dtype_name(a.dtype()), " differs from b.dtype=",
                       dtype_name(b.dtype()));
}

Shape matmul_output_shape(const Tensor& a, const Tensor& b) { return {a.size(0), b.size(1)}; }

Tensor matmul(const Tensor& a, const Tensor& b, const std::string& impl) {
  check_matmul_args(a, b);
  const OpVersion& version = select_version("matmul", a.device(), a.dtype(), impl);
  Tensor out = Tensor::empty(matmul_output_shape(a, b), a.dtype(), a.device());
  run_binary(version, a.contiguous(), b.contiguous(), out);
  return out;
}

}  // namespace benchsuite::ops
