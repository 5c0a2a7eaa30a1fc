// The reduce family: sum, mean, max over the last axis (out shape = x.shape[:-1]) or, when
// all_elements, over everything (out shape []). Storage in float32/float16/bfloat16, the
// result in the input's dtype (as torch.sum/mean/amax return it), accumulation in fp32
// lanes (double across blocks) or double (the CPU reference).
#pragma once
#include <cstdint>
#include <string>

#include "core/activations.h"
#include "core/cuda_runtime.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

namespace cpu {  // float32, x [rows, cols] -> out [rows]; rows = 1, cols = n reduces everything
// v1 reference: double accumulation.
// T: float, or double (float64 tensors).
template <class T>
void reduce_reference(Reduction kind, const T* x, T* out, int64_t rows, int64_t cols);
// v2: float accumulation in 8 independent lanes per 256-element block, blocks summed in
// double; rows (or, for a single row, column blocks) spread over OpenMP threads.
void reduce_f32(Reduction kind, const float* x, float* out, int64_t rows, int64_t cols);
}  // namespace cpu

namespace cuda {  // device pointers of `dtype` (float32/float16/bfloat16), fp32 accumulation, result in `dtype`
// x [rows, cols] -> out [rows]: one block per row, tree reduction (pairwise-accurate).
void reduce_rows(Reduction kind, DType dtype, const void* x, void* out, int64_t rows, int64_t cols,
                 StreamHandle stream);
// x [n] -> out [1]: blocks write fp32 partials to `workspace` (kReduceWorkspaceFloats
// floats), one block reduces them: deterministic, no atomics.
constexpr int64_t kReduceWorkspaceFloats = 1024;
void reduce_all(Reduction kind, DType dtype, const void* x, void* out, int64_t n, float* workspace,
                StreamHandle stream);
// reduce_all on float32 (device code of other ops reduces its own fp32 buffers with it).
void reduce_all_f32(Reduction kind, const float* x, float* out, int64_t n, float* workspace, StreamHandle stream);
}  // namespace cuda

namespace ops {
// (kind, x, out, workspace, all_elements): workspace from reduce_workspace(x's device).
using ReduceSignature = void(Reduction kind, const Tensor& x, const Tensor& out, const Tensor& workspace,
                             bool all_elements, StreamHandle stream);

BENCHSUITE_OP(SumOp, "sum", ReduceSignature);
BENCHSUITE_OP(MeanOp, "mean", ReduceSignature);
BENCHSUITE_OP(MaxOp, "max", ReduceSignature);

// Over the last axis (out shape = x.shape[:-1]) or, when all_elements, everything (shape []).
Tensor reduce(Reduction kind, const Tensor& x, bool all_elements, const std::string& impl = "");

// Reductions, split so a benchmark case can allocate once and time only the kernel.
void check_reduce_args(Reduction kind, const Tensor& x, bool all_elements);
Shape reduce_output_shape(const Tensor& x, bool all_elements);
Tensor reduce_workspace(Device device);
void run_reduce(const OpVersion& version, Reduction kind, const Tensor& x, const Tensor& out, const Tensor& workspace,
                bool all_elements, StreamHandle stream = nullptr);
}  // namespace ops

}  // namespace benchsuite
