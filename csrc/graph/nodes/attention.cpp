// Node kinds of attention: `attention` (grouped heads, causal / padding masks, a sliding
// window, queries placed after a cache's tokens) and `cache_write` (new keys or values written
// into a KV-cache state at the step's position, in place).
#include <cmath>
#include <algorithm>
#include <cstring>

#include "core/cuda_runtime.h"
#include "graph/nodes/common.h"
#include "ops/attention/attention.h"

namespace benchsuite::graph::nodes {
namespace {
// An attention node's attributes as kernel parameters; a cache's step position from its scalar.
cpu::AttentionKvParams kv_params(const NodeRun& r, const Tensor& q, const Tensor& k) {
  const Attrs& a = r.node.attrs;
  cpu::AttentionKvParams p;
  p.scale = static_cast<float>(a.real_or("scale", 1.0 / std::sqrt(static_cast<double>(q.size(3)))));
  p.causal = a.flag_or("causal", false);
  p.window = a.integer_or("window", 0);
  p.q_offset = offset_of(r);
  p.kv_len = a.has("offset_scalar") ? p.q_offset + q.size(2) : k.size(2);
  return p;
}
}  // namespace

BENCHSUITE_REGISTER_NODE_KINDS(attention) {
  NodeKind att;
  att.name = "attention";
  att.doc = "softmax(q k^T * scale + masks) v; q [B, Hq, Sq, D], k/v [B, Hkv, Skv, D], optional key_mask [B, Skv]";
  att.ops = {"attention_kv"};
  att.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("attention", in, 3, 4);
    const ValueType &q = in[0], &k = in[1], &v = in[2];
    expect_float("attention", "q", q);
    BENCHSUITE_GRAPH_CHECK(q.shape.size() == 4 && k.shape.size() == 4 && k == v, "attention",
                           "q, k, v must be 4-D and k, v alike: q ", q.str(), ", k ", k.str(), ", v ", v.str());
    BENCHSUITE_GRAPH_CHECK(k.dtype == q.dtype && k.shape[0] == q.shape[0] && k.shape[3] == q.shape[3], "attention",
                           "k ", k.str(), " must match q ", q.str(), " in batch, head_dim and dtype");
    BENCHSUITE_GRAPH_CHECK(k.shape[1] >= 1 && q.shape[1] % k.shape[1] == 0, "attention", "q heads ", q.shape[1],
                           " must be a multiple of kv heads ", k.shape[1]);
    // The mask is float32 whatever q's dtype (a float64 graph's too: the models' attention_mask input).
    if (present(in, 3))
      BENCHSUITE_GRAPH_CHECK(in[3].shape == (Shape{k.shape[0], k.shape[2]}) && in[3].dtype == DType::float32,
                             "attention", "key_mask is ", in[3].str(), ", must be float32 [batch, kv_len] = [",
                             k.shape[0], ", ", k.shape[2], "]");
    BENCHSUITE_GRAPH_CHECK(a.integer_or("window", 0) >= 0, "attention", "window must be >= 0");
    return std::vector<ValueType>{q};
  };
  att.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs& a) {
    Cost c = streaming_cost(in, out, 0);
    const double rows = static_cast<double>(numel_of(in[0]) / in[0].shape[3]);
    const double keys = static_cast<double>(in[1].shape[2]) * (a.flag_or("causal", false) ? 0.5 : 1.0);
    c.flops = 4.0 * rows * keys * static_cast<double>(in[0].shape[3]);
    return c;
  };
  att.run = [](const NodeRun& r) {
    const Tensor &q = r.in[0], &k = r.in[1];
    const cpu::AttentionKvParams p = kv_params(r, q, k);
    const Tensor mask = r.in.size() > 3 ? r.in[3] : Tensor();
    ops::check_attention_kv_args(q, k, r.in[2], mask, p);
    ops::run_attention_kv(r.version(0), q, k, r.in[2], mask, r.out[0], p, r.stream);
  };
  // Differentiable except over a KV cache (an inference graph: its keys are state written in
  // place). The plain form (no mask, window or cache; equal lengths) takes the flash path: the
  // forward recomputed with its log-sum-exp (the `attention` op) for attention_backward, grouped
  // heads (GQA/MQA) with k and v repeated per query head and the gradients summed back over each
  // group. Masks, windows and unequal lengths take attention_kv_backward, which has the
  // forward's visibility rules and grouped heads built in.
  att.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const auto& in = c.node.inputs;
    const Attrs& a = c.node.attrs;
    const ValueType q = type_of(c, in[0]), k = type_of(c, in[1]);
    BENCHSUITE_CHECK_ARG(!a.has("offset_scalar"), "backward: attention node '", c.node.name,
                         "' reads a KV cache (an inference graph); build the model without kv_cache to train it");
    const bool masked = in.size() > 3 && in[3] != kNoValue;
    const bool same_lengths = q.shape[0] == k.shape[0] && q.shape[2] == k.shape[2] && q.shape[3] == k.shape[3];
    if (masked || !same_lengths || a.integer_or("window", 0) != 0) {
      const std::vector<ValueId> inputs = masked ? std::vector<ValueId>{c.grad_outputs[0], in[0], in[1], in[2], in[3]}
                                                 : std::vector<ValueId>{c.grad_outputs[0], in[0], in[1], in[2]};
      const auto grads = c.graph.add_node("attention_kv_backward", inputs, a, c.prefix + ".attention_kv_backward");
      return masked ? std::vector<ValueId>{grads[0], grads[1], grads[2], kNoValue}
                    : std::vector<ValueId>{grads[0], grads[1], grads[2]};
    }
    const int64_t batch = q.shape[0], q_heads = q.shape[1], kv_heads = k.shape[1], len = q.shape[2],
                  dim = q.shape[3], group = q_heads / kv_heads;
    const auto shape = [](std::vector<int64_t> s) { return Attrs{{"shape", std::move(s)}}; };
    // [B, Hkv, S, D] -> [B, Hq, S, D], query head h reading kv head h / group.
    const auto repeat = [&](ValueId t) {
      if (group == 1) return t;
      const ValueId rows = grad_node(c, "reshape", {t}, shape({batch, kv_heads, 1, len * dim}));
      const ValueId copies = grad_node(c, "concat", std::vector<ValueId>(static_cast<size_t>(group), rows),
                                       {{"dim", int64_t{2}}});
      return grad_node(c, "reshape", {copies}, shape({batch, q_heads, len, dim}));
    };
    // The adjoint: [B, Hq, S, D] -> [B, Hkv, S, D], each group summed.
    const auto fold = [&](ValueId t) {
      if (group == 1) return t;
      const ValueId rows = grad_node(c, "reshape", {t}, shape({batch, kv_heads, group, len * dim}));
      ValueId sum = grad_node(c, "slice", {rows}, {{"dim", int64_t{2}}, {"start", int64_t{0}}, {"stop", int64_t{1}}});
      for (int64_t g = 1; g < group; ++g)
        sum = grad_node(c, "add", {sum, grad_node(c, "slice", {rows}, {{"dim", int64_t{2}}, {"start", g},
                                                                       {"stop", g + 1}})});
      return grad_node(c, "reshape", {sum}, shape({batch, kv_heads, len, dim}));
    };
    Attrs attrs{{"causal", a.flag_or("causal", false)}};
    if (a.has("scale")) attrs.set("scale", a.real("scale"));
    const ValueId kr = repeat(in[1]), vr = repeat(in[2]);
    const auto fwd = c.graph.add_node("attention_lse", {in[0], kr, vr}, attrs, c.prefix + ".attention_lse");
    const auto grads = c.graph.add_node("attention_backward", {c.grad_outputs[0], in[0], kr, vr, fwd[0], fwd[1]},
                                        attrs, c.prefix + ".attention_backward");
    return {grads[0], fold(grads[1]), fold(grads[2])};
  };
  kinds.push_back(att);

  auto scale_of = [](const Attrs& a, const Tensor& q) {
    return static_cast<float>(a.real_or("scale", 1.0 / std::sqrt(static_cast<double>(q.size(3)))));
  };
  NodeKind lse;
  lse.name = "attention_lse";
  lse.doc = "o and the row log-sum-exp of softmax(q k^T * scale) v; q, k, v [B, H, S, D] alike";
  lse.ops = {"attention"};
  lse.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("attention_lse", in, 3, 3);
    BENCHSUITE_GRAPH_CHECK(in[0].shape.size() == 4 && in[0] == in[1] && in[1] == in[2], "attention_lse",
                           "q, k, v must be 4-D and alike");
    const Shape& q = in[0].shape;
    return std::vector<ValueType>{in[0], {{q[0], q[1], q[2]}, stats_dtype(in[0].dtype)}};
  };
  lse.cost = att.cost;
  lse.run = [scale_of](const NodeRun& r) {
    const Tensor& q = r.in[0];
    const Tensor ws = ops::attention_workspace(r.version(0), q.size(0), q.size(1), q.size(2), q.size(3), q.device());
    ops::run_attention(r.version(0), q, r.in[1], r.in[2], r.out[0], r.out[1], ws, scale_of(r.node.attrs, q),
                       r.node.attrs.flag_or("causal", false), r.stream);
  };
  kinds.push_back(lse);

  NodeKind attb;
  attb.name = "attention_backward";
  attb.doc = "(do, q, k, v, o, lse) -> (dq, dk, dv)";
  attb.ops = {"attention_backward"};
  attb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("attention_backward", in, 6, 6);
    return std::vector<ValueType>{in[1], in[2], in[3]};
  };
  attb.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs& a) {
    Cost c = streaming_cost(in, out, 0);
    const double rows = static_cast<double>(numel_of(in[1]) / in[1].shape[3]);
    c.flops = 10.0 * rows * static_cast<double>(in[1].shape[2]) * static_cast<double>(in[1].shape[3]) *
              (a.flag_or("causal", false) ? 0.5 : 1.0);
    return c;
  };
  attb.run = [scale_of](const NodeRun& r) {
    const Tensor& q = r.in[1];
    const Tensor ws = ops::attention_workspace(r.version(0), q.size(0), q.size(1), q.size(2), q.size(3), q.device());
    ops::run_attention_backward(r.version(0), r.in[0], q, r.in[2], r.in[3], r.in[4], r.in[5], r.out[0], r.out[1],
                                r.out[2], ws, scale_of(r.node.attrs, q), r.node.attrs.flag_or("causal", false),
                                r.stream);
  };
  kinds.push_back(attb);

  NodeKind kvb;
  kvb.name = "attention_kv_backward";
  kvb.doc = "(do, q, k, v[, key_mask]) -> (dq, dk, dv, stats [B, Hq, Sq, 2]: each row's lse and Dr, scratch); "
            "attention's attributes";
  kvb.ops = {"attention_kv_backward"};
  kvb.infer = [att](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("attention_kv_backward", in, 4, 5);
    att.infer(std::vector<ValueType>(in.begin() + 1, in.end()), a);
    BENCHSUITE_GRAPH_CHECK(in[0] == in[1], "attention_kv_backward", "do ", in[0].str(), " must match q ", in[1].str());
    const Shape& q = in[1].shape;
    return std::vector<ValueType>{in[1], in[2], in[3], {{q[0], q[1], q[2], 2}, stats_dtype(in[1].dtype)}};
  };
  kvb.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs& a) {
    Cost c = streaming_cost(in, out, 0);
    const double rows = static_cast<double>(numel_of(in[1]) / in[1].shape[3]);
    const double keys = static_cast<double>(in[2].shape[2]) * (a.flag_or("causal", false) ? 0.5 : 1.0);
    c.flops = 12.0 * rows * keys * static_cast<double>(in[1].shape[3]);  // scores and dP twice, dq, dk, dv
    return c;
  };
  kvb.run = [](const NodeRun& r) {
    const Tensor &q = r.in[1], &k = r.in[2];
    const cpu::AttentionKvParams p = kv_params(r, q, k);  // no cache: q_offset 0, every key
    const Tensor mask = r.in.size() > 4 ? r.in[4] : Tensor();
    ops::check_attention_kv_args(q, k, r.in[3], mask, p);
    ops::run_attention_kv_backward(r.version(0), r.in[0], q, k, r.in[3], mask, r.out[0], r.out[1], r.out[2], r.out[3],
                                   p, r.stream);
  };
  kinds.push_back(kvb);

  NodeKind cache;
  cache.name = "cache_write";
  cache.doc = "writes new [B, H, S, D] into the cache [B, H, cap, D] at the step's position; the cache, updated";
  cache.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("cache_write", in, 2, 2);
    const ValueType &c = in[0], &x = in[1];
    BENCHSUITE_GRAPH_CHECK(c.shape.size() == 4 && x.shape.size() == 4 && c.dtype == x.dtype && c.shape[0] == x.shape[0] &&
                               c.shape[1] == x.shape[1] && c.shape[3] == x.shape[3] && x.shape[2] <= c.shape[2],
                           "cache_write", "new ", x.str(), " does not fit the cache ", c.str());
    return std::vector<ValueType>{c};
  };
  cache.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>&, const Attrs&) {
    return Cost{0, 2 * bytes_of(in[1])};
  };
  cache.alias_input = 0;
  cache.run = [](const NodeRun& r) {
    const Tensor &c = r.in[0], &x = r.in[1];
    const int64_t pos = offset_of(r), cap = c.size(2), len = x.size(2);
    BENCHSUITE_CHECK_ARG(pos >= 0 && pos + len <= cap, r.node.name, ": writing ", len, " token(s) at position ", pos,
                         " runs past the cache capacity of ", cap, " tokens (the model's maximum length)");
    const size_t row = static_cast<size_t>(x.size(3)) * x.element_size(), chunk = row * static_cast<size_t>(len);
    const int64_t heads = x.size(0) * x.size(1);
    auto* dst = static_cast<char*>(c.data_ptr());
    const auto* src = static_cast<const char*>(x.data_ptr());
    for (int64_t bh = 0; bh < heads; ++bh) {
      char* to = dst + (static_cast<size_t>(bh * cap + pos)) * row;
      const char* from = src + static_cast<size_t>(bh) * chunk;
      if (c.device().is_cuda())
        cuda_memcpy_d2d_async(to, from, chunk, r.stream);
      else
        std::memcpy(to, from, chunk);
    }
  };
  kinds.push_back(cache);
}

}  // namespace benchsuite::graph::nodes
