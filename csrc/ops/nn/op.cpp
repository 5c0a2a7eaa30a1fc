// The nn ops: embedding forward/backward, cross-entropy forward/backward and RoPE
// forward/backward: their versions, validation and dispatch (formulas in ops/nn/nn.h).
#include "ops/nn/nn.h"

#include <algorithm>
#include <cmath>

#include "core/cuda_runtime.h"
#include "core/error.h"
#include "ops/dispatch.h"

namespace benchsuite::ops {

namespace {
const Device kHost{DeviceType::cpu, 0};

const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }
const int64_t* i64(const Tensor& t) { return t.data<int64_t>(); }
int64_t last(const Tensor& t) { return t.shape().back(); }

// ---- CPU ----------------------------------------------------------------------------------------
// float32, and float64 for the references (v1): their double instantiations on the tensors in place.
bool f64(const Tensor& t) { return t.dtype() == DType::float64; }
const double* d(const Tensor& t) { return t.data<double>(); }
double* wd(const Tensor& t) { return t.data<double>(); }

template <bool kReference>
void embedding_cpu(const Tensor& weight, const Tensor& ids, const Tensor& out, StreamHandle) {
  if (kReference && f64(weight))
    return cpu::embedding_reference(d(weight), i64(ids), wd(out), ids.numel(), last(weight));
  (kReference ? cpu::embedding_reference<float> : cpu::embedding_f32)(f(weight), i64(ids), w(out), ids.numel(),
                                                                      last(weight));
}
template <bool kReference>
void embedding_backward_cpu(const Tensor& dout, const Tensor& ids, const Tensor& dweight, const Tensor&,
                            StreamHandle) {
  if (kReference && f64(dout))
    return cpu::embedding_backward_reference(d(dout), i64(ids), wd(dweight), ids.numel(), dweight.size(0),
                                             last(dweight));
  (kReference ? cpu::embedding_backward_reference<float> : cpu::embedding_backward_f32)(
      f(dout), i64(ids), w(dweight), ids.numel(), dweight.size(0), last(dweight));
}
template <bool kReference>
void cross_entropy_cpu(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& loss,
                       const Tensor& row_loss, const Tensor&, StreamHandle) {
  if (kReference && f64(logits))
    return cpu::cross_entropy_reference(d(logits), i64(targets), wd(loss), wd(row_loss), logits.size(0), logits.size(1),
                                        ignore_index);
  (kReference ? cpu::cross_entropy_reference<float> : cpu::cross_entropy_f32)(
      f(logits), i64(targets), w(loss), w(row_loss), logits.size(0), logits.size(1), ignore_index);
}
template <bool kReference>
void cross_entropy_backward_cpu(const Tensor& logits, const Tensor& targets, int64_t ignore_index, double dloss,
                                const Tensor& dlogits, const Tensor&, StreamHandle) {
  if (kReference && f64(logits))
    return cpu::cross_entropy_backward_reference(d(logits), i64(targets), wd(dlogits), logits.size(0), logits.size(1),
                                                 ignore_index, dloss);
  const float dloss32 = static_cast<float>(dloss);  // float32's seed, as the CUDA version takes it
  if (kReference)
    cpu::cross_entropy_backward_reference(f(logits), i64(targets), w(dlogits), logits.size(0), logits.size(1),
                                          ignore_index, dloss32);
  else
    cpu::cross_entropy_backward_f32(f(logits), i64(targets), w(dlogits), logits.size(0), logits.size(1), ignore_index,
                                    dloss32);
}
template <bool kReference, bool kInverse>
void rope_cpu(const Tensor& x, const Tensor& y, double base, int64_t position_offset, StreamHandle) {
  if (kReference && f64(x))
    return cpu::rope_reference(d(x), wd(y), x.size(0), x.size(1), x.size(2), x.size(3), base, position_offset,
                               kInverse);
  (kReference ? cpu::rope_reference<float> : cpu::rope_f32)(f(x), w(y), x.size(0), x.size(1), x.size(2), x.size(3),
                                                            base, position_offset, kInverse);
}

void sinusoidal_cpu(const Tensor& out, double base, int64_t position_offset, StreamHandle) {
  const int64_t seq_len = out.size(out.ndim() - 2), dim = last(out);
  const int64_t repeats = seq_len * dim == 0 ? 0 : out.numel() / (seq_len * dim);
  if (f64(out)) return cpu::sinusoidal_positions_reference(wd(out), repeats, seq_len, dim, base, position_offset);
  cpu::sinusoidal_positions_reference(w(out), repeats, seq_len, dim, base, position_offset);
}

// ---- CUDA ---------------------------------------------------------------------------------------
#ifdef BENCHSUITE_WITH_CUDA
void embedding_cuda(const Tensor& weight, const Tensor& ids, const Tensor& out, StreamHandle s) {
  cuda::embedding_f32(f(weight), i64(ids), w(out), ids.numel(), weight.size(0), last(weight), s);
}
void embedding_backward_cuda(const Tensor& dout, const Tensor& ids, const Tensor& dweight, const Tensor& workspace,
                             StreamHandle s) {
  cuda::embedding_backward_f32(f(dout), i64(ids), w(dweight), ids.numel(), dweight.size(0), last(dweight),
                               workspace.numel() ? workspace.data_ptr() : nullptr,
                               static_cast<size_t>(workspace.nbytes()), s);
}
void cross_entropy_cuda(const Tensor& logits, const Tensor& targets, int64_t ignore_index, const Tensor& loss,
                        const Tensor& row_loss, const Tensor& workspace, StreamHandle s) {
  cuda::cross_entropy_f32(f(logits), i64(targets), w(loss), w(row_loss), logits.size(0), logits.size(1), ignore_index,
                          w(workspace), s);
}
void cross_entropy_backward_cuda(const Tensor& logits, const Tensor& targets, int64_t ignore_index, double dloss,
                                 const Tensor& dlogits, const Tensor& workspace, StreamHandle s) {
  cuda::cross_entropy_backward_f32(f(logits), i64(targets), w(dlogits), logits.size(0), logits.size(1), ignore_index,
                                   static_cast<float>(dloss), w(workspace), s);
}
void sinusoidal_cuda(const Tensor& out, double base, int64_t position_offset, StreamHandle s) {
  const int64_t seq_len = out.size(out.ndim() - 2), dim = last(out);
  const int64_t repeats = seq_len * dim == 0 ? 0 : out.numel() / (seq_len * dim);
  cuda::sinusoidal_positions_f32(w(out), repeats, seq_len, dim, base, position_offset, s);
}
template <bool kInverse>
void rope_cuda(const Tensor& x, const Tensor& y, double base, int64_t position_offset, StreamHandle s) {
  cuda::rope_f32(f(x), w(y), x.size(0), x.size(1), x.size(2), x.size(3), base, position_offset, kInverse, s);
}
#endif

void check_int64(const char* op, const char* name, const Tensor& t) {
  BENCHSUITE_CHECK_ARG(t.dtype() == DType::int64, op, ": ", name, ".dtype=", dtype_name(t.dtype()),
                       " must be int64");
}
void check_floating(const char* op, const char* name, const Tensor& t) {
  BENCHSUITE_CHECK_ARG(is_floating(t.dtype()), op, ": ", name, ".dtype=", dtype_name(t.dtype()),
                       " must be a floating type");
}
// Host view of an int64 tensor (a copy for CUDA tensors).
Tensor host_int64(const Tensor& t) { return t.to(kHost).contiguous(); }
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(nn) {
  const DeviceType cpu = DeviceType::cpu;
  const std::vector<DType> f32 = {DType::float32};
  // The CPU references (v1) also take float64 (double storage, losses in float64).
  const std::vector<DType> ref = {DType::float32, DType::float64};
  table.add<EmbeddingOp>({"v1", "reference: one element at a time", cpu, ref, kReference}, embedding_cpu<true>);
  table.add<EmbeddingOp>({"v2", "token rows over OpenMP threads, one memcpy per row", cpu, f32, kDefault},
                         embedding_cpu<false>);
  table.add<EmbeddingBackwardOp>(
      {"v1", "reference: stable counting sort by id, each vocabulary row summed in double in token order", cpu, ref,
       kReference},
      embedding_backward_cpu<true>);
  table.add<EmbeddingBackwardOp>({"v2",
                                  "stable counting sort by id; vocabulary rows over OpenMP, float sums in token order "
                                  "(deterministic)",
                                  cpu, f32, kDefault},
                                 embedding_backward_cpu<false>);
  table.add<CrossEntropyOp>({"v1", "reference: one row at a time in double, mean in double", cpu, ref, kReference},
                            cross_entropy_cpu<true>);
  table.add<CrossEntropyOp>(
      {"v2", "rows over OpenMP threads: float max, double sum of exp; mean in row order", cpu, f32, kDefault},
      cross_entropy_cpu<false>);
  table.add<CrossEntropyBackwardOp>({"v1", "reference: softmax in double, one row at a time", cpu, ref, kReference},
                                    cross_entropy_backward_cpu<true>);
  table.add<CrossEntropyBackwardOp>({"v2", "rows over OpenMP threads: float exp, double sum", cpu, f32, kDefault},
                                    cross_entropy_backward_cpu<false>);
  table.add<RopeOp>({"v1", "reference: cos/sin in double for every element", cpu, ref, kReference},
                    rope_cpu<true, false>);
  table.add<RopeOp>(
      {"v2", "cos/sin table [seq_len, head_dim/2] (double, rounded once); tokens over OpenMP", cpu, f32, kDefault},
      rope_cpu<false, false>);
  table.add<RopeBackwardOp>(
      {"v1", "reference: inverse rotation, cos/sin in double for every element", cpu, ref, kReference},
      rope_cpu<true, true>);
  table.add<RopeBackwardOp>({"v2", "inverse rotation from a cos/sin table; tokens over OpenMP", cpu, f32, kDefault},
                            rope_cpu<false, true>);
  table.add<SinusoidalPositionsOp>(
      {"v1", "reference: angles in double, the table copied to each repeat", cpu, ref, kReference | kDefault},
      sinusoidal_cpu);
#ifdef BENCHSUITE_WITH_CUDA
  const DeviceType gpu = DeviceType::cuda;
  table.add<EmbeddingOp>({"v1", "warp per token row; float4 copies when dim % 4 == 0 and aligned", gpu, f32, kDefault},
                         embedding_cuda);
  table.add<EmbeddingBackwardOp>({"v1",
                                  "deterministic, no atomics: CUB radix sort of positions by id, then a block per "
                                  "vocabulary row sums its tokens in order",
                                  gpu, f32, kDefault},
                                 embedding_backward_cuda);
  table.add<CrossEntropyOp>(
      {"v1", "block per row, online max/sum (one read); deterministic mean by two-stage reductions", gpu, f32,
       kDefault},
      cross_entropy_cuda);
  table.add<CrossEntropyBackwardOp>(
      {"v1", "block per row: online max/sum, then one write pass; kept-row count by a deterministic reduction", gpu,
       f32, kDefault},
      cross_entropy_backward_cuda);
  const char* rope_cuda_desc = "block per token, thread per frequency: sincosf of the angle reduced mod 2pi in double";
  table.add<RopeOp>({"v1", rope_cuda_desc, gpu, f32, kDefault}, rope_cuda<false>);
  table.add<RopeBackwardOp>({"v1", rope_cuda_desc, gpu, f32, kDefault}, rope_cuda<true>);
  table.add<SinusoidalPositionsOp>(
      {"v1", "thread per entry (grid-stride): angle, pow, sin and cos in double as the reference", gpu, f32, kDefault},
      sinusoidal_cuda);
#endif
}

// ---- validation -----------------------------------------------------------------------------------
void check_embedding_args(const Tensor& weight, const Tensor& ids) {
  const char* op = "embedding";
  BENCHSUITE_CHECK_ARG(weight.ndim() == 2, op, ": weight must be 2-D [num_embeddings, dim], got shape ",
                       shape_str(weight.shape()));
  check_floating(op, "weight", weight);
  check_int64(op, "ids", ids);
  check_same_device(op, "ids", ids, "weight", weight);
}

void check_embedding_backward_args(const Tensor& dout, const Tensor& ids, int64_t num_embeddings) {
  const char* op = "embedding_backward";
  BENCHSUITE_CHECK_ARG(num_embeddings >= 0, op, ": num_embeddings=", num_embeddings, " must be >= 0");
  check_floating(op, "dout", dout);
  check_int64(op, "ids", ids);
  check_same_device(op, "ids", ids, "dout", dout);
  const bool shape_ok = dout.ndim() == ids.ndim() + 1 &&
                        std::equal(ids.shape().begin(), ids.shape().end(), dout.shape().begin());
  BENCHSUITE_CHECK_ARG(shape_ok, op, ": dout.shape=", shape_str(dout.shape()),
                       " must be ids.shape + [dim] with ids.shape=", shape_str(ids.shape()));
}

void check_ids_in_range(const char* op, const Tensor& ids, int64_t num_embeddings) {
  if (ids.numel() == 0) return;
  const Tensor host = host_int64(ids);
  const int64_t* p = i64(host);
  for (int64_t k = 0; k < host.numel(); ++k)
    BENCHSUITE_CHECK_ARG(p[k] >= 0 && p[k] < num_embeddings, op, ": id ", p[k], " (at flat position ", k,
                         " of ids) is out of range for num_embeddings=", num_embeddings, ": ids must be in [0, ",
                         num_embeddings, ")");
}

void check_cross_entropy_args(const char* op, const Tensor& logits, const Tensor& targets) {
  BENCHSUITE_CHECK_ARG(logits.ndim() == 2, op, ": logits must be 2-D [rows, classes], got shape ",
                       shape_str(logits.shape()));
  check_floating(op, "logits", logits);
  BENCHSUITE_CHECK_ARG(logits.size(1) >= 1, op, ": logits.shape=", shape_str(logits.shape()),
                       " must have at least one class");
  check_int64(op, "targets", targets);
  check_same_device(op, "targets", targets, "logits", logits);
  BENCHSUITE_CHECK_ARG(targets.ndim() == 1 && targets.size(0) == logits.size(0), op, ": targets.shape=",
                       shape_str(targets.shape()), " must be [", logits.size(0), "] (one per row of logits.shape=",
                       shape_str(logits.shape()), ")");
}

void check_targets_in_range(const char* op, const Tensor& targets, int64_t classes, int64_t ignore_index) {
  if (targets.numel() == 0) return;
  const Tensor host = host_int64(targets);
  const int64_t* p = i64(host);
  for (int64_t r = 0; r < host.numel(); ++r)
    BENCHSUITE_CHECK_ARG(p[r] == ignore_index || (p[r] >= 0 && p[r] < classes), op, ": targets[", r, "]=", p[r],
                         " is out of range for classes=", classes, ": targets must be in [0, ", classes,
                         ") or equal ignore_index=", ignore_index);
}

void check_rope_args(const char* op, const Tensor& x, double base, int64_t position_offset) {
  const char* name = std::string(op) == "rope" ? "x" : "dy";
  BENCHSUITE_CHECK_ARG(x.ndim() == 4, op, ": ", name, " must be 4-D [batch, seq_len, heads, head_dim], got shape ",
                       shape_str(x.shape()));
  check_floating(op, name, x);
  BENCHSUITE_CHECK_ARG(x.size(3) % 2 == 0, op, ": head_dim=", x.size(3), " (", name, ".shape=", shape_str(x.shape()),
                       ") must be even: the rotation pairs element i with i + head_dim/2");
  BENCHSUITE_CHECK_ARG(std::isfinite(base) && base > 0, op, ": base=", base, " must be a finite number > 0");
  BENCHSUITE_CHECK_ARG(position_offset >= 0, op, ": position_offset=", position_offset, " must be >= 0");
}

// ---- workspaces and runners ------------------------------------------------------------------------
Tensor embedding_backward_workspace(int64_t tokens, int64_t num_embeddings, Device device) {
#ifdef BENCHSUITE_WITH_CUDA
  if (device.is_cuda()) {
    cuda_set_device(device.index);
    const size_t bytes = cuda::embedding_backward_workspace_bytes(tokens, num_embeddings);
    return Tensor::empty({static_cast<int64_t>(bytes)}, DType::uint8, device);
  }
#endif
  return Tensor::empty({0}, DType::uint8, device);
}

Tensor cross_entropy_workspace(int64_t rows, Device device) {
#ifdef BENCHSUITE_WITH_CUDA
  if (device.is_cuda()) return Tensor::empty({cuda::cross_entropy_workspace_floats(rows)}, DType::float32, device);
#endif
  return Tensor::empty({0}, DType::float32, device);
}

void run_embedding(const OpVersion& v, const Tensor& weight, const Tensor& ids, const Tensor& out,
                   StreamHandle stream) {
  check_version_dtype(v, weight.dtype());
  make_current(out);
  v.fn<EmbeddingSignature>()(weight, ids, out, stream);
}

void run_embedding_backward(const OpVersion& v, const Tensor& dout, const Tensor& ids, const Tensor& dweight,
                            const Tensor& workspace, StreamHandle stream) {
  check_version_dtype(v, dout.dtype());
  make_current(dweight);
  v.fn<EmbeddingBackwardSignature>()(dout, ids, dweight, workspace, stream);
}

void run_cross_entropy(const OpVersion& v, const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                       const Tensor& loss, const Tensor& row_loss, const Tensor& workspace, StreamHandle stream) {
  check_version_dtype(v, logits.dtype());
  make_current(logits);
  v.fn<CrossEntropySignature>()(logits, targets, ignore_index, loss, row_loss, workspace, stream);
}

void run_cross_entropy_backward(const OpVersion& v, const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                                double dloss, const Tensor& dlogits, const Tensor& workspace, StreamHandle stream) {
  check_version_dtype(v, logits.dtype());
  make_current(logits);
  v.fn<CrossEntropyBackwardSignature>()(logits, targets, ignore_index, dloss, dlogits, workspace, stream);
}

void run_rope(const OpVersion& v, const Tensor& x, const Tensor& y, double base, int64_t position_offset,
              StreamHandle stream) {
  check_version_dtype(v, x.dtype());
  make_current(x);
  v.fn<RopeSignature>()(x, y, base, position_offset, stream);
}

// ---- ops ---------------------------------------------------------------------------------------------
Tensor embedding(const Tensor& weight, const Tensor& ids, const std::string& impl) {
  check_embedding_args(weight, ids);
  const OpVersion& v = select_version("embedding", weight.device(), weight.dtype(), impl);
  check_ids_in_range("embedding", ids, weight.size(0));
  Shape shape = ids.shape();
  shape.push_back(weight.size(1));
  Tensor out = Tensor::empty(shape, weight.dtype(), weight.device());
  if (out.numel() == 0) return out;
  run_embedding(v, weight.contiguous(), ids.contiguous(), out);
  return out;
}

Tensor embedding_backward(const Tensor& dout, const Tensor& ids, int64_t num_embeddings, const std::string& impl) {
  check_embedding_backward_args(dout, ids, num_embeddings);
  const OpVersion& v = select_version("embedding_backward", dout.device(), dout.dtype(), impl);
  check_ids_in_range("embedding_backward", ids, num_embeddings);
  Tensor dweight = Tensor::empty({num_embeddings, last(dout)}, dout.dtype(), dout.device());
  if (dweight.numel() == 0) return dweight;
  run_embedding_backward(v, dout.contiguous(), ids.contiguous(), dweight,
                         embedding_backward_workspace(ids.numel(), num_embeddings, dout.device()));
  return dweight;
}

std::vector<Tensor> cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                                  const std::string& impl) {
  const char* op = "cross_entropy";
  check_cross_entropy_args(op, logits, targets);
  const OpVersion& v = select_version(op, logits.device(), logits.dtype(), impl);
  check_targets_in_range(op, targets, logits.size(1), ignore_index);
  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  Tensor row_loss = Tensor::empty({logits.size(0)}, logits.dtype(), logits.device());
  run_cross_entropy(v, logits.contiguous(), targets.contiguous(), ignore_index, loss, row_loss,
                    cross_entropy_workspace(logits.size(0), logits.device()));
  return {loss, row_loss};
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, double dloss,
                              const std::string& impl) {
  const char* op = "cross_entropy_backward";
  check_cross_entropy_args(op, logits, targets);
  BENCHSUITE_CHECK_ARG(std::isfinite(dloss), op, ": dloss=", dloss, " must be finite");
  const OpVersion& v = select_version(op, logits.device(), logits.dtype(), impl);
  check_targets_in_range(op, targets, logits.size(1), ignore_index);
  Tensor dlogits = Tensor::empty(logits.shape(), logits.dtype(), logits.device());
  if (dlogits.numel() == 0) return dlogits;
  run_cross_entropy_backward(v, logits.contiguous(), targets.contiguous(), ignore_index, dloss, dlogits,
                             cross_entropy_workspace(logits.size(0), logits.device()));
  return dlogits;
}

namespace {
Tensor rope_op(const char* op, const Tensor& x, double base, int64_t position_offset, const std::string& impl) {
  check_rope_args(op, x, base, position_offset);
  const OpVersion& v = select_version(op, x.device(), x.dtype(), impl);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  run_rope(v, x.contiguous(), y, base, position_offset);
  return y;
}
}  // namespace

Tensor rope(const Tensor& x, double base, int64_t position_offset, const std::string& impl) {
  return rope_op("rope", x, base, position_offset, impl);
}

Tensor rope_backward(const Tensor& dy, double base, int64_t position_offset, const std::string& impl) {
  return rope_op("rope_backward", dy, base, position_offset, impl);
}

void run_sinusoidal_positions(const OpVersion& v, const Tensor& out, double base, int64_t position_offset,
                              StreamHandle stream) {
  BENCHSUITE_CHECK_ARG(is_full_precision(out.dtype()) && out.ndim() >= 2, "sinusoidal_positions: out is ",
                       out.describe(), ", must be float32 or float64 [..., seq_len, dim]");
  BENCHSUITE_CHECK_ARG(std::isfinite(base) && base > 0, "sinusoidal_positions: base=", base, " must be > 0");
  BENCHSUITE_CHECK_ARG(position_offset >= 0, "sinusoidal_positions: position_offset=", position_offset,
                       " must be >= 0");
  check_version_dtype(v, out.dtype());
  make_current(out);
  v.fn<SinusoidalSignature>()(out, base, position_offset, stream);
}

Tensor sinusoidal_positions(int64_t seq_len, int64_t dim, double base, int64_t position_offset, Device device,
                            const std::string& impl) {
  BENCHSUITE_CHECK_ARG(seq_len >= 0 && dim >= 1, "sinusoidal_positions: seq_len=", seq_len, ", dim=", dim,
                       " must be >= 0 and >= 1");
  const OpVersion& v = select_version(SinusoidalPositionsOp::name, device, DType::float32, impl);
  Tensor out = Tensor::empty({seq_len, dim}, DType::float32, device);
  run_sinusoidal_positions(v, out, base, position_offset);
  return out;
}

}  // namespace benchsuite::ops
