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
  kinds.push_back(emb);

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
  kinds.push_back(pos);

  NodeKind rope;
  rope.name = "rope";
  rope.doc = "rotary positions (rotate-half form) on x [B, S, H, D], tokens at offset + s";
  rope.ops = {"rope"};
  rope.infer = [](const std::vector<ValueType>& in, const Attrs&) {
    expect_inputs("rope", in, 1, 1);
    expect_float("rope", "x", in[0]);
    BENCHSUITE_GRAPH_CHECK(in[0].shape.size() == 4 && in[0].shape[3] % 2 == 0, "rope",
                           "x must be [batch, seq_len, heads, head_dim] with an even head_dim, is ", in[0].str());
    return std::vector<ValueType>{in[0]};
  };
  rope.cost = [](const std::vector<ValueType>& in, const std::vector<ValueType>& out, const Attrs&) {
    return streaming_cost(in, out, 3);
  };
  rope.run = [](const NodeRun& r) {
    ops::run_rope(r.version(0), r.in[0], r.out[0], r.node.attrs.real_or("base", 10000.0), offset_of(r), r.stream);
  };
  kinds.push_back(rope);
}

}  // namespace benchsuite::graph::nodes
