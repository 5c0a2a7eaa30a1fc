// Reductions sum, mean, max over the last axis or over every element.
#include <cmath>

#include "common/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite::ops {

namespace {
const char* reduction_name(Reduction kind) {
  return kind == Reduction::sum ? "sum" : kind == Reduction::mean ? "mean" : "max";
}

// (rows, cols) of the reduction: everything is one row of numel elements.
std::pair<int64_t, int64_t> reduce_dims(const Tensor& x, bool all) {
  if (all || x.ndim() == 0) return {1, x.numel()};
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < x.ndim(); ++d) rows *= x.shape()[d];
  return {rows, x.shape().back()};
}

void reduce_cpu_v1(Reduction kind, const Tensor& x, const Tensor& out, const Tensor&, bool all, StreamHandle) {
  const auto [rows, cols] = reduce_dims(x, all);
  cpu::reduce_reference(kind, x.data<float>(), out.data<float>(), rows, cols);
}
void reduce_cpu_v2(Reduction kind, const Tensor& x, const Tensor& out, const Tensor&, bool all, StreamHandle) {
  const auto [rows, cols] = reduce_dims(x, all);
  cpu::reduce_f32(kind, x.data<float>(), out.data<float>(), rows, cols);
}
#ifdef BENCHSUITE_WITH_CUDA
void reduce_cuda_v1(Reduction kind, const Tensor& x, const Tensor& out, const Tensor& workspace, bool all,
                    StreamHandle s) {
  const auto [rows, cols] = reduce_dims(x, all);
  if (rows == 1)
    cuda::reduce_all_f32(kind, x.data<float>(), out.data<float>(), cols, workspace.data<float>(), s);
  else
    cuda::reduce_rows_f32(kind, x.data<float>(), out.data<float>(), rows, cols, s);
}
#endif

OpVersion version(const char* op, const char* name, const char* description, DeviceType device, bool reference,
                  ReduceImpl fn) {
  return erased_version(op, name, description, device, {DType::float32}, reference, fn);
}
}  // namespace

void register_reduction_versions(std::vector<OpVersion>& t) {
  for (Reduction kind : {Reduction::sum, Reduction::mean, Reduction::max}) {
    const char* op = reduction_name(kind);
    t.push_back(version(op, "v1", "reference: one element at a time in double", DeviceType::cpu, true,
                        reduce_cpu_v1));
    t.push_back(version(op, "v2", "8 float lanes per 256-element block, blocks in double; OpenMP",
                        DeviceType::cpu, false, reduce_cpu_v2));
#ifdef BENCHSUITE_WITH_CUDA
    t.push_back(version(op, "v1", "block per row tree reduction; all elements: partials then one block",
                        DeviceType::cuda, false, reduce_cuda_v1));
#endif
  }
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
  if (out.device().is_cuda()) cuda_set_device(out.device().index);
  v.impl_as<ReduceImpl>()(kind, x, out, workspace, all, stream);
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
