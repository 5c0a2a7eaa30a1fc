// Reductions sum, mean, max over the last axis or over every element.
#include <cmath>

#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/fp32_blocks.h"
#include "ops/reduce/reduce.h"

namespace benchsuite::ops {

namespace {
const char* reduction_name(Reduction kind) {
  return kind == Reduction::sum ? SumOp::name : kind == Reduction::mean ? MeanOp::name : MaxOp::name;
}

// (rows, cols) of the reduction: everything is one row of numel elements.
std::pair<int64_t, int64_t> reduce_dims(const Tensor& x, bool all) {
  if (all || x.ndim() == 0) return {1, x.numel()};
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < x.ndim(); ++d) rows *= x.shape()[d];
  return {rows, x.shape().back()};
}

// float16/bfloat16: rows widened to fp32 a block at a time (ops/fp32_blocks.h), the fp32
// kernel reduces them in fp32/double and the result is rounded once to the dtype.
template <class Kernel>  // kernel(const float* x, float* out, int64_t rows, int64_t cols)
void reduce_rows_through_fp32(const Tensor& x, const Tensor& out, int64_t rows, int64_t cols, bool parallel,
                              Kernel kernel) {
  if (x.dtype() == DType::float32) return kernel(x.data<float>(), out.data<float>(), rows, cols);
  const fp32::In ins[] = {{x.data_ptr(), x.dtype(), cols}};
  const fp32::Out outs[] = {{out.data_ptr(), out.dtype(), 1}};
  fp32::row_blocks(rows, ins, outs, parallel, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
    kernel(in[0], o[0], n, cols);
  });
}

void reduce_cpu_v1(Reduction kind, const Tensor& x, const Tensor& out, const Tensor&, bool all, StreamHandle) {
  const auto [rows, cols] = reduce_dims(x, all);
  if (x.dtype() == DType::float64)
    return cpu::reduce_reference(kind, x.data<double>(), out.data<double>(), rows, cols);
  reduce_rows_through_fp32(x, out, rows, cols, false, [kind](const float* in, float* o, int64_t r, int64_t c) {
    cpu::reduce_reference(kind, in, o, r, c);
  });
}

// One long 16-bit row: fp32 blocks of kBlockElements reduced by v2 (block results exact
// for max, rounded to float for sums), combined in double, rounded once to the dtype.
void reduce_long_row_16bit(Reduction kind, const Tensor& x, const Tensor& out, int64_t n) {
  const int64_t block = fp32::kBlockElements, blocks = (n + block - 1) / block;
  std::vector<float> partial(static_cast<size_t>(blocks));
  const Reduction inner = kind == Reduction::max ? Reduction::max : Reduction::sum;
  const fp32::In ins[] = {{x.data_ptr(), x.dtype(), 1}};
  const fp32::Out outs[] = {{partial.data(), DType::float32, 0}};  // written by the callback
  fp32::row_blocks(n, ins, outs, true, [&](int64_t r0, int64_t len, const float* const* in, float* const*) {
    cpu::reduce_f32(inner, in[0], &partial[static_cast<size_t>(r0 / block)], 1, len);
  });
  double total = kind == Reduction::max ? -INFINITY : 0.0;
  for (float p : partial)
    total = kind != Reduction::max ? total + p : (std::isnan(p) || p > total ? static_cast<double>(p) : total);
  if (kind == Reduction::mean) total /= static_cast<double>(n);
  store_as(out.data_ptr(), out.dtype(), 0, total);
}

void reduce_cpu_v2(Reduction kind, const Tensor& x, const Tensor& out, const Tensor&, bool all, StreamHandle) {
  const auto [rows, cols] = reduce_dims(x, all);
  if (x.dtype() != DType::float32 && rows == 1 && cols > fp32::kBlockElements)
    return reduce_long_row_16bit(kind, x, out, cols);
  reduce_rows_through_fp32(x, out, rows, cols, true, [kind](const float* in, float* o, int64_t r, int64_t c) {
    cpu::reduce_f32(kind, in, o, r, c);
  });
}
#ifdef BENCHSUITE_WITH_CUDA
void reduce_cuda_v1(Reduction kind, const Tensor& x, const Tensor& out, const Tensor& workspace, bool all,
                    StreamHandle s) {
  const auto [rows, cols] = reduce_dims(x, all);
  if (rows == 1)
    cuda::reduce_all(kind, x.dtype(), x.data_ptr(), out.data_ptr(), cols, workspace.data<float>(), s);
  else
    cuda::reduce_rows(kind, x.dtype(), x.data_ptr(), out.data_ptr(), rows, cols, s);
}
#endif

// Storage in any float dtype; accumulation in fp32 lanes (double across blocks) or
// double (v1); the result in the input's dtype, as torch.sum/mean/amax return it.
template <class Op>
void register_reduction(VersionTable& table) {
  const std::vector<DType> f32 = {DType::float32, DType::float16, DType::bfloat16};
  table.add<Op>({"v1", "reference: one element at a time in double", DeviceType::cpu,
                 {DType::float32, DType::float16, DType::bfloat16, DType::float64}, kReference},
                reduce_cpu_v1);
  table.add<Op>({"v2", "8 float lanes per 256-element block, blocks in double; OpenMP", DeviceType::cpu, f32,
                 kDefault},
                reduce_cpu_v2);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<Op>({"v1",
                 "block per row, 16-byte vector loads, fp32 tree reduction; all elements: partials then one block",
                 DeviceType::cuda, f32, kDefault},
                reduce_cuda_v1);
#endif
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(reduce) {
  register_reduction<SumOp>(table);
  register_reduction<MeanOp>(table);
  register_reduction<MaxOp>(table);
}

Tensor reduce_workspace(Device device) {
#ifdef BENCHSUITE_WITH_CUDA
  if (device.is_cuda()) return Tensor::empty({cuda::kReduceWorkspaceFloats}, DType::float32, device);
#endif
  return Tensor::empty({0}, DType::float32, device);
}

Shape reduce_output_shape(const Tensor& x, bool all) {
  if (all || x.ndim() == 0) return {};
  return Shape(x.shape().begin(), x.shape().end() - 1);
}

void check_reduce_args(Reduction kind, const Tensor& x, bool all) {
  const char* op = reduction_name(kind);
  BENCHSUITE_CHECK_ARG(is_floating(x.dtype()), op, ": x.dtype=", dtype_name(x.dtype()), " must be a floating type");
  if (kind == Reduction::max) {
    const int64_t width = all || x.ndim() == 0 ? x.numel() : x.shape().back();
    BENCHSUITE_CHECK_ARG(width > 0, "max: x.shape=", shape_str(x.shape()),
                         all ? " has no elements" : ": the last axis is empty");
  }
}

void run_reduce(const OpVersion& v, Reduction kind, const Tensor& x, const Tensor& out, const Tensor& workspace,
                bool all, StreamHandle stream) {
  check_version_dtype(v, x.dtype());
  make_current(out);
  v.fn<ReduceSignature>()(kind, x, out, workspace, all, stream);
}

Tensor reduce(Reduction kind, const Tensor& x, bool all, const std::string& impl) {
  check_reduce_args(kind, x, all);
  const OpVersion& v = select_version(reduction_name(kind), x.device(), x.dtype(), impl);
  Tensor out = Tensor::empty(reduce_output_shape(x, all), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  run_reduce(v, kind, x.contiguous(), out, reduce_workspace(x.device()), all);
  return out;
}

}  // namespace benchsuite::ops
