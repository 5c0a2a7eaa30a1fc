// Matrix products C[..., m, n] = A[..., m, k] @ B[..., k, n]: 2-D, or batched over equal
// leading dimensions, or batched A with one shared 2-D B (a weight).
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/matmul/matmul.h"
#include "ops/matmul/vendor_blas.h"

namespace benchsuite::ops {

namespace {
int64_t batch_count(const Tensor& a);

struct GemmShape {
  int64_t batch, m, n, k;
  bool b_shared;  // one B for every batch entry
};

GemmShape gemm_shape(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  return {batch_count(a), m, n, k, b.ndim() == 2 && a.ndim() > 2};
}

// v1 handles every floating dtype, float64 included: inputs are widened exactly to double,
// products summed in double and the result rounded once to the output dtype.
void matmul_cpu_v1(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle) {
  const GemmShape s = gemm_shape(a, b);
  std::vector<double> ad(static_cast<size_t>(s.m * s.k)), bd(static_cast<size_t>(s.k * s.n));
  std::vector<double> row(static_cast<size_t>(s.n));
  for (int64_t i = 0; i < s.batch; ++i) {
    const int64_t a_off = i * s.m * s.k, b_off = s.b_shared ? 0 : i * s.k * s.n, c_off = i * s.m * s.n;
    for (int64_t j = 0; j < s.m * s.k; ++j) ad[j] = load_as(a.data_ptr(), a.dtype(), a_off + j);
    for (int64_t j = 0; j < s.k * s.n; ++j) bd[j] = load_as(b.data_ptr(), b.dtype(), b_off + j);
    for (int64_t r = 0; r < s.m; ++r) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t p = 0; p < s.k; ++p) {
        const double arp = ad[r * s.k + p];
        const double* bp = bd.data() + p * s.n;
        for (int64_t j = 0; j < s.n; ++j) row[j] += arp * bp[j];
      }
      for (int64_t j = 0; j < s.n; ++j) store_as(c.data_ptr(), c.dtype(), c_off + r * s.n + j, row[j]);
    }
  }
}

void matmul_cpu_v2(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle) {
  const GemmShape s = gemm_shape(a, b);
  if (s.b_shared) {  // one weight for every batch entry: one GEMM over all their rows
    cpu::matmul_f32_blocked(a.data<float>(), b.data<float>(), c.data<float>(), s.batch * s.m, s.n, s.k);
    return;
  }
  for (int64_t i = 0; i < s.batch; ++i)
    cpu::matmul_f32_blocked(a.data<float>() + i * s.m * s.k, b.data<float>() + (s.b_shared ? 0 : i * s.k * s.n),
                            c.data<float>() + i * s.m * s.n, s.m, s.n, s.k);
}
void matmul_cpu_v3(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle) {
  const GemmShape s = gemm_shape(a, b);
  const DType dtype = a.dtype();
  if (s.b_shared) {
    cpu::matmul_16bit_blocked(dtype, a.data<uint16_t>(), b.data<uint16_t>(), c.data<uint16_t>(), s.batch * s.m, s.n,
                              s.k);
    return;
  }
  for (int64_t i = 0; i < s.batch; ++i)
    cpu::matmul_16bit_blocked(dtype, a.data<uint16_t>() + i * s.m * s.k, b.data<uint16_t>() + i * s.k * s.n,
                              c.data<uint16_t>() + i * s.m * s.n, s.m, s.n, s.k);
}
// The vendor CBLAS (vendor_blas.h): batches as v2 walks them.
void matmul_cpu_vendor(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle) {
  const GemmShape s = gemm_shape(a, b);
  if (s.b_shared) {
    cpu::matmul_f32_vendor(a.data<float>(), b.data<float>(), c.data<float>(), s.batch * s.m, s.n, s.k);
    return;
  }
  for (int64_t i = 0; i < s.batch; ++i)
    cpu::matmul_f32_vendor(a.data<float>() + i * s.m * s.k, b.data<float>() + i * s.k * s.n,
                           c.data<float>() + i * s.m * s.n, s.m, s.n, s.k);
}
#ifdef BENCHSUITE_WITH_CUDA
template <bool kTf32>
void matmul_cuda_cublas(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle stream) {
  const GemmShape s = gemm_shape(a, b);
  cuda::gemm_cublas(a.dtype(), a.data_ptr(), b.data_ptr(), c.data_ptr(), s.m, s.n, s.k, s.batch, s.b_shared, kTf32,
                    c.device().index, stream);
}

void matmul_cuda_v1(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle stream) {
  const GemmShape s = gemm_shape(a, b);
  cuda::gemm_f32_tiled(a.data<float>(), b.data<float>(), c.data<float>(), s.m, s.n, s.k, s.batch, s.b_shared, stream);
}

void matmul_cuda_v2(const Tensor& a, const Tensor& b, const Tensor& c, StreamHandle stream) {
  const GemmShape s = gemm_shape(a, b);
  cuda::gemm_wmma(a.dtype(), a.data_ptr(), b.data_ptr(), c.data_ptr(), s.m, s.n, s.k, s.batch, s.b_shared, stream);
}
#endif

// Product of the leading (batch) dimensions.
int64_t batch_count(const Tensor& a) {
  int64_t batch = 1;
  for (int64_t d = 0; d + 2 < a.ndim(); ++d) batch *= a.shape()[d];
  return batch;
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(matmul) {
  // CPU: v1 is the reference for every dtype and the default for none but float64 (the
  // registry makes the reference its default); v2 runs float32, v3 the 16-bit dtypes.
  table.add<MatmulOp>({"v1", "reference: rows accumulated in double; fp32, fp16, bf16, fp64", DeviceType::cpu,
                       {DType::float32, DType::float16, DType::bfloat16, DType::float64}, kReference},
                      matmul_cpu_v1);
  table.add<MatmulOp>({"v2",
                       "packed panels + a register-tiled micro-kernel built per ISA (AVX-512 8x32, AVX2 6x16, SSE2 "
                       "4x8) chosen at run time, OpenMP over (row block, column part) tasks; up to 8 rows stream B "
                       "once (column blocks in registers, or B's rows split over threads when B is large)",
                       DeviceType::cpu,
                       {DType::float32}, kDefault},
                      matmul_cpu_v2);
  table.add<MatmulOp>({"v3",
                       "16-bit inputs on v2's packed driver: bf16 pairs through vdpbf16ps in an 8x32 tile "
                       "(AVX512_BF16, checked at run time), fp16 (and bf16 without it) widened to fp32 while "
                       "packing; up to 8 rows stream B, widened in registers; fp32 sums rounded once",
                       DeviceType::cpu, {DType::float16, DType::bfloat16}, kDefault},
                      matmul_cpu_v3);
  // The vendor GEMM where the machine has a CBLAS (none: the version is not listed, and
  // bs.build_config() says why).
  if (const cpu::VendorBlas* blas = cpu::vendor_blas())
    table.add<MatmulOp>({blas->name, "vendor: cblas_sgemm of " + blas->config + ", loaded at run time, threads set to ours",
                         DeviceType::cpu, {DType::float32}},
                        matmul_cpu_vendor);
#ifdef BENCHSUITE_WITH_CUDA
  // CUDA: our kernels are listed before the vendor ones; cuBLAS is the default for every dtype.
  table.add<MatmulOp>({"v1", "64x64 shared-memory tiles, BK=16, 4x4 fp32 register tile per thread",
                       DeviceType::cuda, {DType::float32}},
                      matmul_cuda_v1);
  table.add<MatmulOp>({"v2", "WMMA tensor cores: 64x64 tile of 4 warps, 16x16x16 fragments, fp32 accumulation",
                       DeviceType::cuda, {DType::float16, DType::bfloat16}},
                      matmul_cuda_v2);
  table.add<MatmulOp>({"cublas_tf32", "vendor: cublasGemmStridedBatchedEx, TF32 tensor-core products",
                       DeviceType::cuda, {DType::float32}, kNoFlags, {},
                       2e-3,  // 10-bit mantissas in the products
                       "tf32"},
                      matmul_cuda_cublas<true>);
  table.add<MatmulOp>({"cublas", "vendor: cublasGemmStridedBatchedEx, fp32 accumulation", DeviceType::cuda,
                       {DType::float32, DType::float16, DType::bfloat16}, kDefault},
                      matmul_cuda_cublas<false>);
#endif
}

void check_matmul_args(const Tensor& a, const Tensor& b) {
  BENCHSUITE_CHECK_ARG(a.ndim() >= 2, "matmul: a must be at least 2-D, got shape ", shape_str(a.shape()));
  BENCHSUITE_CHECK_ARG(b.ndim() >= 2, "matmul: b must be at least 2-D, got shape ", shape_str(b.shape()));
  BENCHSUITE_CHECK_ARG(a.size(-1) == b.size(-2), "matmul: a.shape=", shape_str(a.shape()), " and b.shape=",
                       shape_str(b.shape()), " have different inner dimensions (", a.size(-1), " != ", b.size(-2),
                       ")");
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
  BENCHSUITE_CHECK_ARG(b.ndim() == 2 || a_batch == b_batch, "matmul: batch dimensions of a.shape=",
                       shape_str(a.shape()), " and b.shape=", shape_str(b.shape()),
                       " differ (b must have a's batch dimensions or be 2-D)");
  BENCHSUITE_CHECK_ARG(a.device() == b.device(), "matmul: a is on ", a.device().str(), " but b is on ",
                       b.device().str());
  BENCHSUITE_CHECK_ARG(a.dtype() == b.dtype(), "matmul: a.dtype=", dtype_name(a.dtype()), " differs from b.dtype=",
                       dtype_name(b.dtype()));
}

Shape matmul_output_shape(const Tensor& a, const Tensor& b) {
  Shape out(a.shape().begin(), a.shape().end() - 1);
  out.push_back(b.size(-1));
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b, const std::string& impl) {
  check_matmul_args(a, b);
  const OpVersion& version = select_version(MatmulOp::name, a.device(), a.dtype(), impl);
  Tensor out = Tensor::empty(matmul_output_shape(a, b), a.dtype(), a.device());
  run_binary(version, a.contiguous(), b.contiguous(), out);
  return out;
}

}  // namespace benchsuite::ops
