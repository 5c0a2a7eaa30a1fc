// The mixture-of-experts ops: versions, and validated ops for direct calls (the node kinds
// validate at inference and run the versions through run_moe).
#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/moe/moe.h"

namespace benchsuite::ops {

namespace {
const float* f(const Tensor& t) { return t.data<float>(); }
float* w(const Tensor& t) { return t.data<float>(); }
const int64_t* i64(const Tensor& t) { return t.data<int64_t>(); }
int64_t* i64w(const Tensor& t) { return t.data<int64_t>(); }

// The CPU references run on the storage type of the first float tensor: float32, or float64
// (every float operand shares it; the ops and node kinds check that).
template <class F>
void on_storage(const Tensor& t, F&& run) {
  if (t.dtype() == DType::float64)
    run(double{});
  else
    run(float{});
}

void topk_gate_cpu(const Tensor& logits, int64_t k, const Tensor& weights, const Tensor& indices, StreamHandle) {
  on_storage(logits, [&](auto tag) {
    using T = decltype(tag);
    cpu::topk_gate_reference(logits.data<T>(), weights.data<T>(), i64w(indices), logits.size(0), logits.size(1), k);
  });
}
void topk_gate_backward_cpu(const Tensor& dweights, const Tensor& weights, const Tensor& indices,
                            const Tensor& dlogits, StreamHandle) {
  on_storage(weights, [&](auto tag) {
    using T = decltype(tag);
    cpu::topk_gate_backward_reference(dweights.data<T>(), weights.data<T>(), i64(indices), dlogits.data<T>(),
                                      dlogits.size(0), dlogits.size(1), weights.size(1));
  });
}
void permute_cpu(const Tensor& x, const Tensor& indices, const Tensor& xs, const Tensor& order, const Tensor& offsets,
                 StreamHandle) {
  on_storage(x, [&](auto tag) {
    using T = decltype(tag);
    cpu::moe_permute_reference(x.data<T>(), i64(indices), xs.data<T>(), i64w(order), i64w(offsets), x.size(0),
                               x.size(1), offsets.size(0) - 1, indices.size(1));
  });
}
void permute_backward_cpu(const Tensor& dxs, const Tensor& order, const Tensor& dx, StreamHandle) {
  on_storage(dxs, [&](auto tag) {
    using T = decltype(tag);
    cpu::moe_permute_backward_reference(dxs.data<T>(), i64(order), dx.data<T>(), dx.size(0), dx.size(1),
                                        dxs.size(0) / dx.size(0));
  });
}
void grouped_cpu_v1(const Tensor& xs, const Tensor& offsets, const Tensor& wt, const Tensor& ys, StreamHandle) {
  on_storage(xs, [&](auto tag) {
    using T = decltype(tag);
    cpu::grouped_matmul_reference(xs.data<T>(), i64(offsets), wt.data<T>(), ys.data<T>(), wt.size(0), wt.size(1),
                                  wt.size(2));
  });
}
void grouped_cpu_v2(const Tensor& xs, const Tensor& offsets, const Tensor& wt, const Tensor& ys, StreamHandle) {
  cpu::grouped_matmul_blocked(f(xs), i64(offsets), f(wt), w(ys), wt.size(0), wt.size(1), wt.size(2));
}
void weight_grad_cpu(const Tensor& xs, const Tensor& dys, const Tensor& offsets, bool out_in, const Tensor& dw,
                     StreamHandle) {
  on_storage(xs, [&](auto tag) {
    using T = decltype(tag);
    cpu::grouped_matmul_weight_grad_reference(xs.data<T>(), dys.data<T>(), i64(offsets), dw.data<T>(),
                                              offsets.size(0) - 1, xs.size(1), dys.size(1), out_in);
  });
}
void unpermute_cpu(const Tensor& ys, const Tensor& order, const Tensor& weights, const Tensor& out, StreamHandle) {
  on_storage(ys, [&](auto tag) {
    using T = decltype(tag);
    cpu::moe_unpermute_reference(ys.data<T>(), i64(order), weights.data<T>(), out.data<T>(), out.size(0), out.size(1),
                                 weights.size(1));
  });
}
void unpermute_backward_cpu(const Tensor& dout, const Tensor& ys, const Tensor& order, const Tensor& weights,
                            const Tensor& dys, const Tensor& dweights, StreamHandle) {
  on_storage(ys, [&](auto tag) {
    using T = decltype(tag);
    cpu::moe_unpermute_backward_reference(dout.data<T>(), ys.data<T>(), i64(order), weights.data<T>(), dys.data<T>(),
                                          dweights.data<T>(), dout.size(0), dout.size(1), weights.size(1));
  });
}

#ifdef BENCHSUITE_WITH_CUDA
// row_of: the inverse of order, a per-call int64 workspace.
Tensor row_of_workspace(const Tensor& order) { return Tensor::empty({order.numel()}, DType::int64, order.device()); }

void topk_gate_cuda(const Tensor& logits, int64_t k, const Tensor& weights, const Tensor& indices, StreamHandle s) {
  cuda::topk_gate_f32(f(logits), w(weights), i64w(indices), logits.size(0), logits.size(1), k, s);
}
void topk_gate_backward_cuda(const Tensor& dweights, const Tensor& weights, const Tensor& indices,
                             const Tensor& dlogits, StreamHandle s) {
  cuda::topk_gate_backward_f32(f(dweights), f(weights), i64(indices), w(dlogits), dlogits.size(0), dlogits.size(1),
                               weights.size(1), s);
}
void permute_cuda(const Tensor& x, const Tensor& indices, const Tensor& xs, const Tensor& order, const Tensor& offsets,
                  StreamHandle s) {
  cuda::moe_permute_f32(f(x), i64(indices), w(xs), i64w(order), i64w(offsets), x.size(0), x.size(1),
                        offsets.size(0) - 1, indices.size(1), s);
}
void permute_backward_cuda(const Tensor& dxs, const Tensor& order, const Tensor& dx, StreamHandle s) {
  cuda::moe_permute_backward_f32(f(dxs), i64(order), i64w(row_of_workspace(order)), w(dx), dx.size(0), dx.size(1),
                                 dxs.size(0) / dx.size(0), s);
}
void grouped_cuda(const Tensor& xs, const Tensor& offsets, const Tensor& wt, const Tensor& ys, StreamHandle s) {
  cuda::grouped_matmul_f32(f(xs), i64(offsets), f(wt), w(ys), xs.size(0), wt.size(0), wt.size(1), wt.size(2), s);
}
void weight_grad_cuda(const Tensor& xs, const Tensor& dys, const Tensor& offsets, bool out_in, const Tensor& dw,
                      StreamHandle s) {
  cuda::grouped_matmul_weight_grad_f32(f(xs), f(dys), i64(offsets), w(dw), xs.size(0), offsets.size(0) - 1,
                                       xs.size(1), dys.size(1), out_in, s);
}
void unpermute_cuda(const Tensor& ys, const Tensor& order, const Tensor& weights, const Tensor& out, StreamHandle s) {
  cuda::moe_unpermute_f32(f(ys), i64(order), f(weights), i64w(row_of_workspace(order)), w(out), out.size(0),
                          out.size(1), weights.size(1), s);
}
void unpermute_backward_cuda(const Tensor& dout, const Tensor& ys, const Tensor& order, const Tensor& weights,
                             const Tensor& dys, const Tensor& dweights, StreamHandle s) {
  cuda::moe_unpermute_backward_f32(f(dout), f(ys), i64(order), f(weights), w(dys), w(dweights), dout.size(0),
                                   dout.size(1), weights.size(1), s);
}
#endif

// Index tensors are validated on the host: a CUDA one is copied there first (small).
Tensor on_host(const Tensor& t) { return t.to(Device{}).contiguous(); }

// The first float operand: float32 or float64 (the references; the other versions refuse
// float64 at dispatch) of rank `rank`.
void check_float(const char* op, const char* name, const Tensor& t, int64_t rank) {
  BENCHSUITE_CHECK_ARG(is_full_precision(t.dtype()) && t.ndim() == rank, op, ": ", name, " is ", t.describe(),
                       ", must be float32 or float64 of rank ", rank);
}
// A further float operand: `first`'s dtype, rank `rank`.
void check_float(const char* op, const char* name, const Tensor& t, int64_t rank, const char* first_name,
                 const Tensor& first) {
  BENCHSUITE_CHECK_ARG(t.dtype() == first.dtype() && t.ndim() == rank, op, ": ", name, " is ", t.describe(),
                       ", must be ", dtype_name(first.dtype()), " (", first_name, "'s dtype) of rank ", rank);
}
void check_i64(const char* op, const char* name, const Tensor& t, const Shape& shape) {
  BENCHSUITE_CHECK_ARG(t.dtype() == DType::int64 && t.shape() == shape, op, ": ", name, " is ", t.describe(),
                       ", must be int64 ", shape_str(shape));
}
// order must be a permutation of [0, rows): the kernels index through it.
void check_order(const char* op, const Tensor& order, int64_t rows) {
  check_i64(op, "order", order, {rows});
  const Tensor host = on_host(order);
  std::vector<bool> seen(static_cast<size_t>(rows), false);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t a = host.data<int64_t>()[r];
    BENCHSUITE_CHECK_ARG(a >= 0 && a < rows && !seen[a], op, ": order[", r, "]=", a,
                         " repeats or is outside [0, ", rows, "): order must be a permutation");
    seen[a] = true;
  }
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(moe) {
  const std::vector<DType> f32 = {DType::float32};
  // The CPU references also take float64 (double storage end to end, for finite differences).
  const std::vector<DType> ref = {DType::float32, DType::float64};
  const DeviceType cpu = DeviceType::cpu;
  const unsigned both = kReference | kDefault;
  table.add<TopkGateOp>({"v1", "reference: stable sort per token, softmax over the k in double", cpu, ref, both},
                        topk_gate_cpu);
  table.add<TopkGateBackwardOp>({"v1", "reference: softmax backward over the chosen k", cpu, ref, both},
                                topk_gate_backward_cpu);
  table.add<MoePermuteOp>({"v1", "reference: stable counting sort of the assignments by expert", cpu, ref, both},
                          permute_cpu);
  table.add<MoePermuteBackwardOp>({"v1", "reference: each token's k rows summed in double", cpu, ref, both},
                                  permute_backward_cpu);
  table.add<GroupedMatmulOp>({"v1", "reference: double sums, one segment at a time", cpu, ref, kReference},
                             grouped_cpu_v1);
  table.add<GroupedMatmulOp>({"v2", "the blocked GEMM (matmul v2's kernel) per expert segment", cpu, f32, kDefault},
                             grouped_cpu_v2);
  table.add<GroupedWeightGradOp>({"v1", "reference: x_e^T dy_e in double", cpu, ref, both}, weight_grad_cpu);
  table.add<MoeUnpermuteOp>({"v1", "reference: each token's k weighted rows in slot order, double", cpu, ref, both},
                            unpermute_cpu);
  table.add<MoeUnpermuteBackwardOp>({"v1", "reference: dys scaled by the weights, dweights as dot products", cpu, ref,
                                     both},
                                    unpermute_backward_cpu);
#ifdef BENCHSUITE_WITH_CUDA
  const DeviceType gpu = DeviceType::cuda;
  table.add<TopkGateOp>({"v1", "thread per token: k selection passes in (logit desc, index asc) order, fp32 softmax",
                         gpu, f32, kDefault},
                        topk_gate_cuda);
  table.add<TopkGateBackwardOp>({"v1", "thread per token: zeroed row, the k softmax-backward terms scattered", gpu,
                                 f32, kDefault},
                                topk_gate_backward_cuda);
  table.add<MoePermuteOp>({"v1", "one-block stable counting sort (thread per expert, serial scan), grid-stride row "
                           "gather", gpu, f32, kDefault},
                          permute_cuda);
  table.add<MoePermuteBackwardOp>({"v1", "inverse of order in a workspace, each token's k rows gathered in slot "
                                   "order (no atomics)", gpu, f32, kDefault},
                                  permute_backward_cuda);
  table.add<GroupedMatmulOp>({"v1", "16x16 shared-memory tiles per expert segment, offsets read on the device", gpu,
                              f32, kDefault},
                             grouped_cuda);
  table.add<GroupedWeightGradOp>({"v1", "block per (16x16 tile of dW, expert), the segment's rows summed in order",
                                  gpu, f32, kDefault},
                                 weight_grad_cuda);
  table.add<MoeUnpermuteOp>({"v1", "inverse of order in a workspace, each token's k weighted rows in slot order", gpu,
                             f32, kDefault},
                            unpermute_cuda);
  table.add<MoeUnpermuteBackwardOp>({"v1", "block per row: dys scaled, dweights by a block reduction", gpu, f32,
                                     kDefault},
                                    unpermute_backward_cuda);
#endif
}

void check_offsets(const Tensor& offsets, int64_t experts, int64_t rows) {
  check_i64("grouped_matmul", "offsets", offsets, {experts + 1});
  const Tensor host = on_host(offsets);
  const int64_t* o = host.data<int64_t>();
  BENCHSUITE_CHECK_ARG(o[0] == 0 && o[experts] == rows, "grouped_matmul: offsets must run from 0 to the ", rows,
                       " rows, got ", o[0], " .. ", o[experts]);
  for (int64_t e = 0; e < experts; ++e)
    BENCHSUITE_CHECK_ARG(o[e] <= o[e + 1], "grouped_matmul: offsets[", e, "]=", o[e], " > offsets[", e + 1,
                         "]=", o[e + 1], " (must not decrease)");
}

std::vector<Tensor> topk_gate(const Tensor& logits, int64_t k, const std::string& impl) {
  check_float("topk_gate", "logits", logits, 2);
  BENCHSUITE_CHECK_ARG(k >= 1 && k <= logits.size(1), "topk_gate: k=", k, " must be in [1, ", logits.size(1),
                       "] (the experts)");
  const OpVersion& v = select_version(TopkGateOp::name, logits.device(), logits.dtype(), impl);
  Tensor weights = Tensor::empty({logits.size(0), k}, logits.dtype(), logits.device());
  Tensor indices = Tensor::empty({logits.size(0), k}, DType::int64, logits.device());
  run_moe<TopkGateOp>(v, nullptr, logits.contiguous(), k, weights, indices);
  return {weights, indices};
}

std::vector<Tensor> moe_permute(const Tensor& x, const Tensor& indices, int64_t experts, const std::string& impl) {
  check_float("moe_permute", "x", x, 2);
  BENCHSUITE_CHECK_ARG(indices.dtype() == DType::int64 && indices.ndim() == 2 && indices.size(0) == x.size(0),
                       "moe_permute: indices is ", indices.describe(), ", must be int64 [", x.size(0), ", k]");
  check_same_device("moe_permute", "indices", indices, "x", x);
  BENCHSUITE_CHECK_ARG(experts >= 1, "moe_permute: experts=", experts, " must be >= 1");
  const Tensor host = on_host(indices);
  for (int64_t a = 0; a < host.numel(); ++a)
    BENCHSUITE_CHECK_ARG(host.data<int64_t>()[a] >= 0 && host.data<int64_t>()[a] < experts, "moe_permute: indices[",
                         a / indices.size(1), ", ", a % indices.size(1), "]=", host.data<int64_t>()[a],
                         " is not an expert in [0, ", experts, ")");
  const OpVersion& v = select_version(MoePermuteOp::name, x.device(), x.dtype(), impl);
  const int64_t rows = indices.numel();
  Tensor xs = Tensor::empty({rows, x.size(1)}, x.dtype(), x.device());
  Tensor order = Tensor::empty({rows}, DType::int64, x.device()), offsets = Tensor::empty({experts + 1}, DType::int64, x.device());
  run_moe<MoePermuteOp>(v, nullptr, x.contiguous(), indices.contiguous(), xs, order, offsets);
  return {xs, order, offsets};
}

Tensor grouped_matmul(const Tensor& xs, const Tensor& offsets, const Tensor& wt, const std::string& impl) {
  check_float("grouped_matmul", "xs", xs, 2);
  check_float("grouped_matmul", "w", wt, 3, "xs", xs);
  BENCHSUITE_CHECK_ARG(wt.size(1) == xs.size(1), "grouped_matmul: w is ", wt.describe(), ", its K must be xs's ",
                       xs.size(1));
  check_same_device("grouped_matmul", "w", wt, "xs", xs);
  check_same_device("grouped_matmul", "offsets", offsets, "xs", xs);
  check_offsets(offsets, wt.size(0), xs.size(0));
  const OpVersion& v = select_version(GroupedMatmulOp::name, xs.device(), xs.dtype(), impl);
  Tensor ys = Tensor::empty({xs.size(0), wt.size(2)}, xs.dtype(), xs.device());
  run_moe<GroupedMatmulOp>(v, nullptr, xs.contiguous(), offsets.contiguous(), wt.contiguous(), ys);
  return ys;
}

Tensor moe_unpermute(const Tensor& ys, const Tensor& order, const Tensor& weights, const std::string& impl) {
  check_float("moe_unpermute", "ys", ys, 2);
  check_float("moe_unpermute", "weights", weights, 2, "ys", ys);
  check_same_device("moe_unpermute", "weights", weights, "ys", ys);
  check_same_device("moe_unpermute", "order", order, "ys", ys);
  check_order("moe_unpermute", order, ys.size(0));
  BENCHSUITE_CHECK_ARG(weights.numel() == ys.size(0), "moe_unpermute: weights is ", weights.describe(),
                       ", must hold one weight per row of ys (", ys.size(0), ")");
  const OpVersion& v = select_version(MoeUnpermuteOp::name, ys.device(), ys.dtype(), impl);
  Tensor out = Tensor::empty({weights.size(0), ys.size(1)}, ys.dtype(), ys.device());
  run_moe<MoeUnpermuteOp>(v, nullptr, ys.contiguous(), order.contiguous(), weights.contiguous(), out);
  return out;
}


Tensor topk_gate_backward(const Tensor& dweights, const Tensor& weights, const Tensor& indices, int64_t experts,
                          const std::string& impl) {
  check_float("topk_gate_backward", "weights", weights, 2);
  check_float("topk_gate_backward", "dweights", dweights, 2, "weights", weights);
  BENCHSUITE_CHECK_ARG(dweights.shape() == weights.shape(), "topk_gate_backward: dweights is ", dweights.describe(),
                       ", must match weights ", weights.describe());
  check_i64("topk_gate_backward", "indices", indices, weights.shape());
  check_same_device("topk_gate_backward", "dweights", dweights, "weights", weights);
  check_same_device("topk_gate_backward", "indices", indices, "weights", weights);
  BENCHSUITE_CHECK_ARG(experts >= weights.size(1), "topk_gate_backward: experts=", experts, " must be >= k=",
                       weights.size(1));
  const Tensor idx = on_host(indices);
  for (int64_t a = 0; a < idx.numel(); ++a)
    BENCHSUITE_CHECK_ARG(idx.data<int64_t>()[a] >= 0 && idx.data<int64_t>()[a] < experts,
                         "topk_gate_backward: indices holds ", idx.data<int64_t>()[a], ", not an expert in [0, ",
                         experts, ")");
  const OpVersion& v = select_version(TopkGateBackwardOp::name, weights.device(), weights.dtype(), impl);
  Tensor dlogits = Tensor::empty({weights.size(0), experts}, weights.dtype(), weights.device());
  run_moe<TopkGateBackwardOp>(v, nullptr, dweights.contiguous(), weights.contiguous(), indices.contiguous(), dlogits);
  return dlogits;
}

Tensor moe_permute_backward(const Tensor& dxs, const Tensor& order, int64_t tokens, const std::string& impl) {
  check_float("moe_permute_backward", "dxs", dxs, 2);
  BENCHSUITE_CHECK_ARG(tokens >= 1 && dxs.size(0) % tokens == 0, "moe_permute_backward: tokens=", tokens,
                       " must divide the ", dxs.size(0), " rows of dxs");
  check_same_device("moe_permute_backward", "order", order, "dxs", dxs);
  check_order("moe_permute_backward", order, dxs.size(0));
  const OpVersion& v = select_version(MoePermuteBackwardOp::name, dxs.device(), dxs.dtype(), impl);
  Tensor dx = Tensor::empty({tokens, dxs.size(1)}, dxs.dtype(), dxs.device());
  run_moe<MoePermuteBackwardOp>(v, nullptr, dxs.contiguous(), order.contiguous(), dx);
  return dx;
}

Tensor grouped_matmul_weight_grad(const Tensor& xs, const Tensor& dys, const Tensor& offsets, bool out_in,
                                  const std::string& impl) {
  check_float("grouped_matmul_weight_grad", "xs", xs, 2);
  check_float("grouped_matmul_weight_grad", "dys", dys, 2, "xs", xs);
  BENCHSUITE_CHECK_ARG(dys.size(0) == xs.size(0), "grouped_matmul_weight_grad: dys is ", dys.describe(),
                       ", must have xs's ", xs.size(0), " rows");
  BENCHSUITE_CHECK_ARG(offsets.ndim() == 1 && offsets.size(0) >= 2, "grouped_matmul_weight_grad: offsets is ",
                       offsets.describe(), ", must be int64 [experts + 1]");
  const int64_t experts = offsets.size(0) - 1;
  check_same_device("grouped_matmul_weight_grad", "dys", dys, "xs", xs);
  check_same_device("grouped_matmul_weight_grad", "offsets", offsets, "xs", xs);
  check_offsets(offsets, experts, xs.size(0));
  const OpVersion& v = select_version(GroupedWeightGradOp::name, xs.device(), xs.dtype(), impl);
  const Shape shape = out_in ? Shape{experts, dys.size(1), xs.size(1)} : Shape{experts, xs.size(1), dys.size(1)};
  Tensor dw = Tensor::empty(shape, xs.dtype(), xs.device());
  run_moe<GroupedWeightGradOp>(v, nullptr, xs.contiguous(), dys.contiguous(), offsets.contiguous(), out_in, dw);
  return dw;
}

std::vector<Tensor> moe_unpermute_backward(const Tensor& dout, const Tensor& ys, const Tensor& order,
                                           const Tensor& weights, const std::string& impl) {
  check_float("moe_unpermute_backward", "ys", ys, 2);
  check_float("moe_unpermute_backward", "dout", dout, 2, "ys", ys);
  check_float("moe_unpermute_backward", "weights", weights, 2, "ys", ys);
  BENCHSUITE_CHECK_ARG(weights.numel() == ys.size(0) && dout.size(0) == weights.size(0) && dout.size(1) == ys.size(1),
                       "moe_unpermute_backward: dout ", dout.describe(), ", ys ", ys.describe(), " and weights ",
                       weights.describe(), " disagree");
  check_same_device("moe_unpermute_backward", "dout", dout, "ys", ys);
  check_same_device("moe_unpermute_backward", "weights", weights, "ys", ys);
  check_same_device("moe_unpermute_backward", "order", order, "ys", ys);
  check_order("moe_unpermute_backward", order, ys.size(0));
  const OpVersion& v = select_version(MoeUnpermuteBackwardOp::name, ys.device(), ys.dtype(), impl);
  Tensor dys = Tensor::empty(ys.shape(), ys.dtype(), ys.device());
  Tensor dweights = Tensor::empty(weights.shape(), ys.dtype(), ys.device());
  run_moe<MoeUnpermuteBackwardOp>(v, nullptr, dout.contiguous(), ys.contiguous(), order.contiguous(),
                                  weights.contiguous(), dys, dweights);
  return {dys, dweights};
}

}  // namespace benchsuite::ops
