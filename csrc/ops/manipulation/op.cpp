// The manipulation ops: versions, validation and dispatch of transpose, contiguous and
// concat, and the views reshape and slice. Also registers ops::contiguous as the hook
// behind Tensor::contiguous(), which is how a strided CUDA tensor becomes contiguous.
#include "ops/manipulation/manipulation.h"

#include <algorithm>

#include "core/error.h"
#include "ops/dispatch.h"

namespace benchsuite::ops {

namespace {

// ---- shapes ------------------------------------------------------------------------------
// Leading dims of a transpose form the batch; the last two are (rows, cols).
struct Matrices {
  int64_t batch = 1, rows = 0, cols = 0;
};
Matrices matrices_of(const Tensor& x) {
  Matrices m;
  const int64_t nd = x.ndim();
  for (int64_t d = 0; d + 2 < nd; ++d) m.batch *= x.shape()[d];
  m.rows = x.shape()[nd - 2];
  m.cols = x.shape()[nd - 1];
  return m;
}

// The same elements in the fewest dims: size-1 dims dropped, and a dim merged into its
// outer neighbour when the two step through memory as one (outer stride == inner
// stride * inner size). A transposed 2-D view stays 2-D; a slice of a contiguous
// tensor along dim 0 becomes 1-D.
struct Layout {
  Shape shape, strides;
};
Layout coalesce(const Tensor& x) {
  Layout out;
  for (int64_t d = 0; d < x.ndim(); ++d) {
    const int64_t size = x.shape()[d], stride = x.strides()[d];
    if (size == 1) continue;
    if (!out.shape.empty() && out.strides.back() == stride * size) {
      out.shape.back() *= size;
      out.strides.back() = stride;
    } else {
      out.shape.push_back(size);
      out.strides.push_back(stride);
    }
  }
  return out;
}

int64_t normalize_dim(const char* op, int64_t dim, const Tensor& x) {
  const int64_t nd = x.ndim();
  BENCHSUITE_CHECK_ARG(dim >= -nd && dim < nd, op, ": dim=", dim, " is out of range for x.shape=",
                       shape_str(x.shape()), " (", nd, " dims)");
  return dim < 0 ? dim + nd : dim;
}

// ---- transpose versions --------------------------------------------------------------------
void transpose_cpu_v1(const Tensor& x, const Tensor& y, StreamHandle) {
  const Matrices m = matrices_of(x);
  cpu::transpose_reference(x.data_ptr(), y.data_ptr(), m.batch, m.rows, m.cols, x.element_size());
}
void transpose_cpu_v2(const Tensor& x, const Tensor& y, StreamHandle) {
  const Matrices m = matrices_of(x);
  cpu::transpose_blocked(x.data_ptr(), y.data_ptr(), m.batch, m.rows, m.cols, x.element_size());
}
#ifdef BENCHSUITE_WITH_CUDA
void transpose_cuda_v1(const Tensor& x, const Tensor& y, StreamHandle s) {
  const Matrices m = matrices_of(x);
  cuda::transpose_naive(x.data_ptr(), y.data_ptr(), m.batch, m.rows, m.cols, x.element_size(), s);
}
void transpose_cuda_v2(const Tensor& x, const Tensor& y, StreamHandle s) {
  const Matrices m = matrices_of(x);
  cuda::transpose_tiled(x.data_ptr(), y.data_ptr(), m.batch, m.rows, m.cols, x.element_size(), s);
}
#endif

// ---- contiguous versions: x strided, y contiguous with x's shape ---------------------------
void contiguous_cpu_v1(const Tensor& x, const Tensor& y, StreamHandle) {
  if (x.numel() == 0) return;
  cpu::strided_copy_reference(x.data_ptr(), y.data_ptr(), x.shape().data(), x.strides().data(), x.ndim(),
                              x.element_size());
}
void contiguous_cpu_v2(const Tensor& x, const Tensor& y, StreamHandle) {
  if (x.numel() == 0) return;
  const Layout l = coalesce(x);
  cpu::strided_copy_fast(x.data_ptr(), y.data_ptr(), l.shape.data(), l.strides.data(),
                         static_cast<int64_t>(l.shape.size()), x.element_size());
}
#ifdef BENCHSUITE_WITH_CUDA
void contiguous_cuda_v1(const Tensor& x, const Tensor& y, StreamHandle s) {
  if (x.numel() == 0) return;
  const Layout l = coalesce(x);
  const int64_t nd = static_cast<int64_t>(l.shape.size());
  if (nd > cuda::kMaxStridedDims)
    BENCHSUITE_UNSUPPORTED("too_many_dims", "contiguous on cuda: x (", x.describe(), ", strides=",
                           shape_str(x.strides()), ") has ", nd, " dims that do not merge; at most ",
                           cuda::kMaxStridedDims, " are supported");
  cuda::StridedLayout layout;
  layout.ndim = static_cast<int32_t>(nd);
  std::copy(l.shape.begin(), l.shape.end(), layout.shape);
  std::copy(l.strides.begin(), l.strides.end(), layout.strides);
  cuda::strided_copy(x.data_ptr(), y.data_ptr(), layout, x.numel(), x.element_size(), s);
}
#endif

// ---- concat versions -------------------------------------------------------------------------
// Concat along dim d of contiguous inputs is a 2-D problem: out [outer, total] with outer
// = prod(shape[:d]); input i is a block [outer, widths[i]] at column offsets[i].
struct ConcatPlan {
  int64_t outer = 1, total = 0;
  std::vector<int64_t> widths, offsets;
  std::vector<const void*> inputs;
};
ConcatPlan plan_concat(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out) {
  ConcatPlan p;
  for (int64_t d = 0; d < dim; ++d) p.outer *= out.shape()[d];
  for (const Tensor& x : xs) {
    int64_t width = 1;
    for (int64_t d = dim; d < x.ndim(); ++d) width *= x.shape()[d];
    p.offsets.push_back(p.total);
    p.widths.push_back(width);
    p.inputs.push_back(x.numel() ? x.data_ptr() : nullptr);
    p.total += width;
  }
  return p;
}

void concat_cpu_v1(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out, StreamHandle) {
  if (out.numel() == 0) return;
  const ConcatPlan p = plan_concat(xs, dim, out);
  cpu::concat_reference(p.inputs.data(), p.widths.data(), p.offsets.data(), static_cast<int64_t>(xs.size()),
                        out.data_ptr(), p.outer, p.total, out.element_size());
}
void concat_cpu_v2(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out, StreamHandle) {
  if (out.numel() == 0) return;
  const ConcatPlan p = plan_concat(xs, dim, out);
  cpu::concat_runs(p.inputs.data(), p.widths.data(), p.offsets.data(), static_cast<int64_t>(xs.size()),
                   out.data_ptr(), p.outer, p.total, out.element_size());
}
#ifdef BENCHSUITE_WITH_CUDA
void concat_cuda_v1(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out, StreamHandle s) {
  if (out.numel() == 0) return;
  const ConcatPlan p = plan_concat(xs, dim, out);
  for (size_t i = 0; i < xs.size(); ++i)
    cuda::copy_block(p.inputs[i], out.data_ptr(), p.outer, p.widths[i], p.total, p.offsets[i], out.element_size(), s);
}
#endif

// Tensor::contiguous() on any device lands here once the module is loaded.
Tensor contiguous_hook_impl(const Tensor& x) { return contiguous(x, ""); }
const bool kHookRegistered = [] {
  set_contiguous_hook(&contiguous_hook_impl);
  return true;
}();

}  // namespace

BENCHSUITE_REGISTER_VERSIONS(manipulation) {
  (void)kHookRegistered;
  const DeviceType cpu = DeviceType::cpu;
  const std::vector<DType>& all = all_dtypes();  // bytes are moved: every dtype
  table.add<TransposeOp>({"v1", "reference: element loop over (batch, row, col)", cpu, all, kReference},
                         transpose_cpu_v1);
  table.add<TransposeOp>({"v2", "32x32 cache tiles over OpenMP threads; a vector is a plain copy", cpu, all, kDefault},
                         transpose_cpu_v2);
  table.add<ContiguousOp>({"v1", "reference: element loop, each source offset from its index", cpu, all, kReference},
                          contiguous_cpu_v1);
  table.add<ContiguousOp>(
      {"v2", "dims coalesced; memcpy of contiguous runs, else 32x32 tiles; OpenMP over outer indices", cpu, all,
       kDefault},
      contiguous_cpu_v2);
  table.add<ConcatOp>({"v1", "reference: element loop per input", cpu, all, kReference}, concat_cpu_v1);
  table.add<ConcatOp>(
      {"v2", "memcpy of each contiguous run, rows over OpenMP (long runs split instead)", cpu, all, kDefault},
      concat_cpu_v2);
#ifdef BENCHSUITE_WITH_CUDA
  const DeviceType gpu = DeviceType::cuda;
  table.add<TransposeOp>({"v1", "one thread per element: coalesced reads, strided writes", gpu, all},
                         transpose_cuda_v1);
  table.add<TransposeOp>(
      {"v2", "32x32 shared-memory tile (+1 padding), 32x8 threads: coalesced reads and writes", gpu, all, kDefault},
      transpose_cuda_v2);
  table.add<ContiguousOp>(
      {"v1", "one thread per output element; coalesced shape/strides (<= 8 dims) passed by value", gpu, all, kDefault},
      contiguous_cuda_v1);
  table.add<ConcatOp>(
      {"v1", "one block-copy kernel per input in the widest aligned word (<= 16 bytes)", gpu, all, kDefault},
      concat_cuda_v1);
#endif
}

// ---- transpose -------------------------------------------------------------------------------
void check_transpose_args(const Tensor& x) {
  BENCHSUITE_CHECK_ARG(x.ndim() >= 2, "transpose: x.shape=", shape_str(x.shape()),
                       " must have at least 2 dimensions (the last two are swapped)");
}

Shape transpose_output_shape(const Tensor& x) {
  Shape shape = x.shape();
  std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  return shape;
}

Tensor transpose(const Tensor& x, const std::string& impl) {
  check_transpose_args(x);
  const OpVersion& v = select_version("transpose", x.device(), x.dtype(), impl);
  Tensor out = Tensor::empty(transpose_output_shape(x), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  run_unary(v, x.contiguous(), out);
  return out;
}

// ---- contiguous --------------------------------------------------------------------------
Tensor contiguous(const Tensor& x, const std::string& impl) {
  BENCHSUITE_CHECK_ARG(x.defined(), "contiguous: x is undefined (default-constructed)");
  const OpVersion& v = select_version("contiguous", x.device(), x.dtype(), impl);
  if (x.is_contiguous()) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  run_unary(v, x, out);  // never x.contiguous(): that would come back here
  return out;
}

// ---- reshape -----------------------------------------------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape resolved = shape;
  int64_t infer = -1, known = 1;
  bool zero = false, overflow = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      BENCHSUITE_CHECK_ARG(infer < 0, "reshape: shape=", shape_str(shape), " has more than one -1");
      infer = static_cast<int64_t>(i);
      continue;
    }
    BENCHSUITE_CHECK_ARG(shape[i] >= 0, "reshape: shape=", shape_str(shape), ": dimension ", i, " is ", shape[i],
                         " (only one -1, to be inferred, may be negative)");
    // As NumPy: the other dimensions must multiply without overflow (signed overflow is UB;
    // strides are products of them) even where a zero-size dimension empties the shape.
    if (shape[i] == 0)
      zero = true;
    else
      overflow = __builtin_mul_overflow(known, shape[i], &known) || overflow;
  }
  BENCHSUITE_CHECK_ARG(!overflow, "reshape: shape=", shape_str(shape), " has more than 2^63 elements");
  if (zero) known = 0;
  const int64_t n = x.numel();
  if (infer >= 0) {
    BENCHSUITE_CHECK_ARG(known != 0 && n % known == 0, "reshape: cannot reshape x.shape=", shape_str(x.shape()), " (",
                         n, " elements) into shape=", shape_str(shape),
                         known == 0 ? ": the -1 is ambiguous next to a zero-size dimension"
                                    : ": the element count is not a multiple of the other dimensions' product");
    resolved[infer] = n / known;
    known *= resolved[infer];
  }
  BENCHSUITE_CHECK_ARG(known == n, "reshape: cannot reshape x.shape=", shape_str(x.shape()), " (", n,
                       " elements) into shape=", shape_str(shape), " (", known, " elements)");
  return (x.is_contiguous() ? x : x.contiguous()).view(resolved);
}

// ---- slice -------------------------------------------------------------------------------
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  BENCHSUITE_CHECK_ARG(x.ndim() >= 1, "slice: x.shape=", shape_str(x.shape()), " is 0-d; there is no dim to slice");
  const int64_t d = normalize_dim("slice", dim, x);
  BENCHSUITE_CHECK_ARG(step >= 1, "slice: step=", step, " must be >= 1 (negative steps are not supported)");
  const int64_t size = x.shape()[d];
  auto resolve = [&](const char* name, std::optional<int64_t> index, int64_t fallback) {
    if (!index) return fallback;
    const int64_t i = *index;
    BENCHSUITE_CHECK_ARG(i >= -size && i <= size, "slice: ", name, "=", i, " is out of range for dim=", dim,
                         " of size ", size, " (x.shape=", shape_str(x.shape()), "); valid: ", -size, "..", size);
    return i < 0 ? i + size : i;
  };
  const int64_t begin = resolve("start", start, 0), end = resolve("stop", stop, size);
  // 1 + (n - 1) / step, not (n + step - 1) / step: a step near INT64_MAX must not overflow
  const int64_t length = end > begin ? 1 + (end - begin - 1) / step : 0;
  Shape shape = x.shape(), strides = x.strides();
  shape[d] = length;
  int64_t offset = x.byte_offset();
  if (length > 0) offset += begin * strides[d] * static_cast<int64_t>(x.element_size());
  // With two or more elements step < size, so step * stride stays inside the storage; with
  // fewer the stride never matters (and a huge step times it could overflow).
  if (length > 1) strides[d] *= step;
  return x.as_strided(shape, strides, offset);
}

// ---- concat ------------------------------------------------------------------------------
Shape check_concat_args(const std::vector<Tensor>& xs, int64_t dim) {
  BENCHSUITE_CHECK_ARG(!xs.empty(), "concat: tensors is empty; pass at least one tensor");
  const Tensor& first = xs[0];
  BENCHSUITE_CHECK_ARG(first.ndim() >= 1, "concat: tensors[0].shape=", shape_str(first.shape()),
                       " is 0-d; concat needs at least 1 dimension");
  const int64_t d = normalize_dim("concat", dim, first);
  Shape out = first.shape();
  for (size_t i = 1; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    BENCHSUITE_CHECK_ARG(x.dtype() == first.dtype(), "concat: tensors[", i, "].dtype=", dtype_name(x.dtype()),
                         " differs from tensors[0].dtype=", dtype_name(first.dtype()));
    BENCHSUITE_CHECK_ARG(x.device() == first.device(), "concat: tensors[", i, "] is on ", x.device().str(),
                         " but tensors[0] is on ", first.device().str());
    bool same = x.ndim() == first.ndim();
    for (int64_t k = 0; same && k < x.ndim(); ++k) same = k == d || x.shape()[k] == first.shape()[k];
    BENCHSUITE_CHECK_ARG(same, "concat: tensors[", i, "].shape=", shape_str(x.shape()),
                         " does not match tensors[0].shape=", shape_str(first.shape()), " outside dim=", dim);
    out[d] += x.shape()[d];
  }
  return out;
}

void run_concat(const OpVersion& v, const std::vector<Tensor>& xs, int64_t dim, const Tensor& out,
                StreamHandle stream) {
  make_current(out);
  v.fn<ConcatSignature>()(xs, dim < 0 ? dim + out.ndim() : dim, out, stream);
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim, const std::string& impl) {
  const Shape shape = check_concat_args(xs, dim);
  const OpVersion& v = select_version("concat", xs[0].device(), xs[0].dtype(), impl);
  Tensor out = Tensor::empty(shape, xs[0].dtype(), xs[0].device());
  if (out.numel() == 0) return out;
  std::vector<Tensor> inputs;
  inputs.reserve(xs.size());
  for (const Tensor& x : xs) inputs.push_back(x.contiguous());
  run_concat(v, inputs, dim, out);
  return out;
}

}  // namespace benchsuite::ops
