// Node kinds of the embedding layers: token embedding (a table lookup by id), learned
// positions (rows offset.. of a table) and RoPE on [B, S, H, D].
#include "graph/nodes/common.h"
#include "ops/dispatch.h"
#include "ops/nn/nn.h"

namespace benchsuite::graph::nodes {
BENCHSUITE_REGISTER_NODE_KINDS(nn) {
  NodeKind emb;
  emb.name = "embedding";
  emb.doc = "weight[ids]: weight [vocab, dim], ids int64 [...] -> [..., dim]";
  emb.ops = {"embedding"};
  emb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("embedding", in, 2, 2);
    const ValueType &w = in[0], &ids = in[1];
    expect_float("embedding", "weight", w);
    BENCHSUITE_GRAPH_CHECK(w.shape.size() == 2, "embedding", "weight must be 2-D, is ", w.str());
    BENCHSUITE_GRAPH_CHECK(ids.dtype == DType::int64, "embedding", "ids must be int64, are ", ids.str());
    Shape out = ids.shape;
    out.push_back(w.shape[1]);
    return std::vector<ValueType>{{out, w.dtype}};
  };
  emb.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return Cost{0, bytes_of(in[1]) + 2 * bytes_of(out[0])};
  };
  emb.run = [](const NodeRun& r) { ops::run_embedding(r.version(0), r.in[0], r.in[1], r.out[0], r.stream); };
  emb.gradient = [](GradContext& c) -> std::vector<ValueId> {
    const int64_t vocab = type_of(c, c.node.inputs[0]).shape[0];
    Attrs attrs{{"vocab", vocab}};
    if (c.node.attrs.has("padding_idx")) attrs.set("padding_idx", c.node.attrs.integer("padding_idx"));
    return {grad_node(c, "embedding_backward", {c.grad_outputs[0], c.node.inputs[1]}, attrs), kNoValue};
  };
  kinds.push_back(emb);

  NodeKind embb;
  embb.name = "embedding_backward";
  embb.doc = "dweight [vocab, dim]: dout [..., dim] summed into the rows of ids";
  embb.ops = {"embedding_backward", "fill"};
  embb.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("embedding_backward", in, 2, 2);
    return std::vector<ValueType>{{{a.integer("vocab"), in[0].shape.back()}, in[0].dtype}};
  };
  embb.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 0);
  };
  embb.run = [](const NodeRun& r) {
    ops::run_embedding_backward(r.version(0), r.in[0], r.in[1], r.out[0],
                                ops::embedding_backward_workspace(r.in[1].numel(), r.out[0].size(0), r.out[0].device()),
                                r.stream);
    const int64_t pad = r.node.attrs.integer_or("padding_idx", -1);
    if (pad >= 0 && pad < r.out[0].size(0)) {  // the padding row learns nothing
      const Tensor& d = r.out[0];
      const int64_t row_bytes = d.size(1) * static_cast<int64_t>(d.element_size());
      ops::run_creation(r.version(1), d.storage_view({d.size(1)}, d.dtype(), d.byte_offset() + pad * row_bytes),
                        ops::CreationParams{}, r.stream);
    }
  };
  kinds.push_back(embb);

  NodeKind sin;
  sin.name = "sinusoidal_positions";
  sin.doc = "fixed sinusoidal positions for ids [B, S] -> [B, S, dim] (sin at even columns, cos at odd)";
  sin.ops = {"sinusoidal_positions"};
  sin.infer = [](const std::vector<ValueType>& in, const Attrs& a) {
    expect_inputs("sinusoidal_positions", in, 1, 1);
    BENCHSUITE_GRAPH_CHECK(in[0].shape.size() == 2, "sinusoidal_positions", "ids must be [batch, seq_len], got ",
                           in[0].str());
    const int64_t dim = a.integer_or("dim", 0);
    BENCHSUITE_GRAPH_CHECK(dim >= 1, "sinusoidal_positions", "dim=", dim, " must be >= 1");
    return std::vector<ValueType>{{{in[0].shape[0], in[0].shape[1], dim}, parse_dtype(a.text_or("dtype", "float32"))}};
  };
  sin.cost = [](const std::vector<ValueType>&, const std::vector<ValueType>& out, const Attrs&) {
    return Cost{4.0 * static_cast<double>(numel_of(out[0])), bytes_of(out[0])};
  };
  sin.run = [](const NodeRun& r) {
    ops::run_sinusoidal_positions(r.version(0), r.out[0], r.node.attrs.real_or("base", 10000.0), offset_of(r),
                                  r.stream);
  };
  sin.gradient = [](GradContext&) -> std::vector<ValueId> { return {kNoValue}; };  // a constant of the ids' shape
  kinds.push_back(sin);

  NodeKind pos;
  pos.name = "positions";
  pos.doc = "learned positions: table[offset + s] for each token of ids [B, S] -> [B, S, dim]";
  pos.ops = {"contiguous"};
  pos.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("positions", in, 2, 2);
    const ValueType &table = in[0], &ids = in[1];
    BENCHSUITE_GRAPH_CHECK(table.shape.size() == 2 && ids.shape.size() == 2, "positions",
                           "table must be 2-D and ids [batch, seq_len]: table ", table.str(), ", ids ", ids.str());
    BENCHSUITE_GRAPH_CHECK(ids.shape[1] <= table.shape[0], "positions", "seq_len=", ids.shape[1],
                           " is above the maximum positions ", table.shape[0]);
    return std::vector<ValueType>{{{ids.shape[0], ids.shape[1], table.shape[1]}, table.dtype}};
  };
  pos.cost = [](const std::vector<ValueType>&, const std::vector<ValueType>& out, const Attrs&) {
    return Cost{0, 2 * bytes_of(out[0])};
  };
  pos.run = [](const NodeRun& r) {
    const Tensor& table = r.in[0];
    const Tensor& out = r.out[0];
    const int64_t offset = offset_of(r), len = out.size(1), dim = out.size(2);
    BENCHSUITE_CHECK_ARG(offset >= 0 && offset + len <= table.size(0), r.node.name, ": positions ", offset, "..",
                         offset + len - 1, " are above the maximum positions ", table.size(0));
    // Every batch row reads the same rows of the table (stride 0 over the batch).
    const Tensor rows = table.as_strided({out.size(0), len, dim}, {0, dim, 1},
                                         table.byte_offset() + offset * dim * static_cast<int64_t>(table.element_size()));
    ops::run_unary(r.version(0), rows, out, r.stream);
  };
  // Training runs from position 0: the table's first S rows get dy summed over the batch.
  pos.gradient = [](GradContext& c) -> std::vector<ValueId> {
    BENCHSUITE_CHECK_ARG(!c.node.attrs.has("offset_scalar"), "backward: positions node '", c.node.name,
                         "' reads a runtime offset (a KV-cache graph); build the model without a cache to train");
    const ValueType dy = type_of(c, c.grad_outputs[0]);
    const ValueType table = type_of(c, c.node.inputs[0]);
    const int64_t len = dy.shape[1], dim = dy.shape[2];
    ValueId rows = grad_node(c, "reshape", {c.grad_outputs[0]}, {{"shape", std::vector<int64_t>{dy.shape[0], -1}}});
    rows = grad_node(c, "reshape", {grad_node(c, "sum_to_row", {rows})}, {{"shape", std::vector<int64_t>{len, dim}}});
    if (len == table.shape[0]) return {rows, kNoValue};
    const ValueId rest = grad_node(c, "zeros", {}, {{"shape", std::vector<int64_t>{table.shape[0] - len, dim}},
                                                   {"dtype", std::string(dtype_name(table.dtype))}});
    return {grad_node(c, "concat", {rows, rest}, {{"dim", int64_t{0}}}), kNoValue};
  };
  kinds.push_back(pos);

  // rope and rope_backward: positions offset + s, or per token from position_ids [B, S]
  // (left-padded batches: each row's real tokens count from 0). With position_ids the op
  // runs once per run of consecutive positions within a row (one or two per row in practice).
  const auto rope_kind = [](const char* name, const char* doc, const char* op, const char* inverse) {
    NodeKind k;
    k.name = name;
    k.doc = doc;
    k.ops = {op};
    k.infer = [name](const std::vector<ValueType>& in, const Attrs&) {
      expect_inputs(name, in, 1, 2);
      expect_float(name, "x", in[0]);
      BENCHSUITE_GRAPH_CHECK(in[0].shape.size() == 4 && in[0].shape[3] % 2 == 0, name,
                             "x must be [batch, seq_len, heads, head_dim] with an even head_dim, is ", in[0].str());
      if (in.size() > 1)
        BENCHSUITE_GRAPH_CHECK(in[1].dtype == DType::int64 && in[1].shape == (Shape{in[0].shape[0], in[0].shape[1]}),
                               name, "position_ids is ", in[1].str(), ", must be int64 [", in[0].shape[0], ", ",
                               in[0].shape[1], "]");
      return std::vector<ValueType>{in[0]};
    };
    k.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
      return streaming_cost(in, out, 3);
    };
    k.run = [](const NodeRun& r) {
      const double base = r.node.attrs.real_or("base", 10000.0);
      if (r.in.size() < 2) {
        ops::run_rope(r.version(0), r.in[0], r.out[0], base, offset_of(r), r.stream);
        return;
      }
      const Tensor &x = r.in[0], &y = r.out[0];
      const Tensor ids = r.in[1].to(Device{});
      const int64_t batch = x.size(0), len = x.size(1), row = x.size(2) * x.size(3);
      const int64_t* pos = ids.data<int64_t>();
      const auto segment = [&](const Tensor& t, int64_t b, int64_t s, int64_t n) {
        return t.as_strided({1, n, x.size(2), x.size(3)}, {len * row, row, x.size(3), 1},
                            t.byte_offset() + (b * len + s) * row * static_cast<int64_t>(t.element_size()));
      };
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t s = 0; s < len;) {
          int64_t n = 1;
          while (s + n < len && pos[b * len + s + n] == pos[b * len + s] + n) ++n;
          BENCHSUITE_CHECK_ARG(pos[b * len + s] >= 0, r.node.name, ": position_ids[", b, ", ", s, "]=",
                               pos[b * len + s], " must be >= 0");
          ops::run_rope(r.version(0), segment(x, b, s, n), segment(y, b, s, n), base, pos[b * len + s], r.stream);
          s += n;
        }
    };
    const std::string back = inverse;
    k.gradient = [back](GradContext& c) -> std::vector<ValueId> {
      std::vector<ValueId> in = {c.grad_outputs[0]};
      if (c.node.inputs.size() > 1) in.push_back(c.node.inputs[1]);
      std::vector<ValueId> grads = {grad_node(c, back, in, c.node.attrs)};
      grads.resize(c.node.inputs.size(), kNoValue);
      return grads;
    };
    return k;
  };
  kinds.push_back(rope_kind("rope", "rotary positions (rotate-half form) on x [B, S, H, D], tokens at offset + s "
                            "or at position_ids [B, S]", "rope", "rope_backward"));
  kinds.push_back(rope_kind("rope_backward", "dx of rope: dy rotated back", "rope_backward", "rope"));

  NodeKind ce;
  ce.name = "cross_entropy";
  ce.doc = "mean over rows of -log softmax(logits)[target]: logits [N, C], targets int64 [N] -> loss []";
  ce.ops = {"cross_entropy"};
  ce.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("cross_entropy", in, 2, 2);
    expect_float("cross_entropy", "logits", in[0]);
    BENCHSUITE_GRAPH_CHECK(in[0].shape.size() == 2 && in[1].shape == Shape{in[0].shape[0]} &&
                               in[1].dtype == DType::int64,
                           "cross_entropy", "logits must be [N, C] and targets int64 [N]: ", in[0].str(), ", ",
                           in[1].str());
    const DType dtype = stats_dtype(in[0].dtype);
    return std::vector<ValueType>{{{}, dtype}, {{in[0].shape[0]}, dtype}};
  };
  ce.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    Cost c = streaming_cost(in, out, 0);
    c.flops = 4.0 * static_cast<double>(numel_of(in[0]));
    return c;
  };
  ce.run = [](const NodeRun& r) {
    ops::run_cross_entropy(r.version(0), r.in[0], r.in[1], r.node.attrs.integer_or("ignore_index", -100), r.out[0],
                           r.out[1], ops::cross_entropy_workspace(r.in[0].size(0), r.in[0].device()), r.stream);
  };
  ce.gradient = [](GradContext& c) -> std::vector<ValueId> {
    BENCHSUITE_CHECK_ARG(c.grad_outputs.size() < 2 || c.grad_outputs[1] == kNoValue, "backward: through ",
                         c.node.name, "'s per-row losses is not supported (differentiate the mean)");
    return {grad_node(c, "cross_entropy_backward", {c.node.inputs[0], c.node.inputs[1], c.grad_outputs[0]},
                      c.node.attrs),
            kNoValue};
  };
  kinds.push_back(ce);

  NodeKind ceb;
  ceb.name = "cross_entropy_backward";
  ceb.doc = "dlogits of the mean cross-entropy: (logits, targets, dloss [])";
  ceb.ops = {"cross_entropy_backward"};
  ceb.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("cross_entropy_backward", in, 3, 3);
    return std::vector<ValueType>{in[0]};
  };
  ceb.cost = ce.cost;
  ceb.run = [](const NodeRun& r) {
    const Tensor d = r.in[2].to(Device{});  // the scalar seed, read on the host
    ops::run_cross_entropy_backward(r.version(0), r.in[0], r.in[1], r.node.attrs.integer_or("ignore_index", -100),
                                    load_as(d.data_ptr(), d.dtype(), 0), r.out[0],
                                    ops::cross_entropy_workspace(r.in[0].size(0), r.in[0].device()), r.stream);
  };
  kinds.push_back(ceb);
}

}  // namespace benchsuite::graph::nodes
