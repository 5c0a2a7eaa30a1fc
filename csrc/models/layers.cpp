// The composite layers (layers.h): each is a short sequence of builder calls.
#include "models/layers.h"

#include <cmath>
#include <vector>

#include "core/error.h"

namespace benchsuite::models {

namespace {
using graph::Attrs;
using graph::kNoValue;
using graph::ParameterInit;

std::vector<int64_t> ints(std::pair<int64_t, int64_t> p) { return {p.first, p.second}; }

// torch's default for recurrent and conv weights is uniform(-k, k), k = 1/sqrt(fan); a
// normal of the same variance (k^2 / 3) keeps the activations at the same scale.
ParameterInit fan_init(int64_t fan) { return {ParameterInit::Kind::normal, 1.0 / std::sqrt(3.0 * static_cast<double>(fan))}; }

ValueId window_node(Builder& b, const char* kind, ValueId x, std::pair<int64_t, int64_t> kernel,
                    std::pair<int64_t, int64_t> stride, std::pair<int64_t, int64_t> padding) {
  if (stride.first == 0 && stride.second == 0) stride = kernel;
  return b.node(kind, {x}, {{"kernel", ints(kernel)}, {"stride", ints(stride)}, {"padding", ints(padding)}}).at(0);
}

// One step's slice of a [B, T, G] projection: [B, G].
ValueId step(Builder& b, ValueId projected, int64_t t) {
  return b.reshape(b.slice(projected, 1, t, t + 1), {0, -1});
}
ValueId gate(Builder& b, ValueId gates, int64_t i, int64_t hidden) {
  return b.slice(gates, 1, i * hidden, (i + 1) * hidden);
}

struct LayerWeights {
  ValueId w_ih, w_hh, b_ih, b_hh;
};
LayerWeights layer_weights(Builder& b, const std::string& name, int64_t layer, int64_t gates, int64_t in,
                           int64_t hidden) {
  const std::string k = "_l" + std::to_string(layer);
  const ParameterInit init = fan_init(hidden);
  return {b.parameter(name + ".weight_ih" + k, {gates * hidden, in}, init),
          b.parameter(name + ".weight_hh" + k, {gates * hidden, hidden}, init),
          b.parameter(name + ".bias_ih" + k, {gates * hidden}, init),
          b.parameter(name + ".bias_hh" + k, {gates * hidden}, init)};
}

// Runs `cell` over the T steps of each layer; cell(step input projection [B, G], h, c) -> (h, c).
template <class Cell>
RecurrentOutput recurrent(Builder& b, ValueId x, int64_t hidden, const std::string& name, int64_t layers,
                          int64_t gates, bool with_cell, Cell cell) {
  const Shape xs = b.shape(x);
  BENCHSUITE_CHECK_ARG(xs.size() == 3, name, ": x is ", shape_str(xs), ", must be [batch, seq_len, features]");
  BENCHSUITE_CHECK_ARG(hidden >= 1 && layers >= 1, name, ": hidden=", hidden, " and layers=", layers,
                       " must be >= 1");
  const int64_t batch = xs[0], steps = xs[1];
  const ValueId zeros = b.node1("zeros", {}, {{"shape", std::vector<int64_t>{batch, hidden}},
                                              {"dtype", std::string(dtype_name(b.dtype()))}});
  std::vector<ValueId> last_h, last_c;
  ValueId input = x;
  for (int64_t layer = 0; layer < layers; ++layer) {
    const LayerWeights w = layer_weights(b, name, layer, gates, b.shape(input).back(), hidden);
    // The input projection for every step at once (one GEMM), as cuDNN does.
    const ValueId projected = b.linear(input, w.w_ih, w.b_ih, false, name + ".ih_l" + std::to_string(layer));
    ValueId h = zeros, c = zeros;
    std::vector<ValueId> outputs;
    for (int64_t t = 0; t < steps; ++t) {
      const ValueId recurrent_part = b.linear(h, w.w_hh, w.b_hh, false);
      std::tie(h, c) = cell(step(b, projected, t), recurrent_part, h, c);
      outputs.push_back(b.reshape(h, {batch, 1, hidden}));
    }
    input = outputs.size() == 1 ? outputs[0] : b.concat(outputs, 1);
    last_h.push_back(b.reshape(h, {1, batch, hidden}));
    if (with_cell) last_c.push_back(b.reshape(c, {1, batch, hidden}));
  }
  const auto stack = [&](const std::vector<ValueId>& v) { return v.size() == 1 ? v[0] : b.concat(v, 0); };
  return {input, stack(last_h), with_cell ? stack(last_c) : kNoValue};
}

}  // namespace

ValueId conv2d(Builder& b, ValueId x, int64_t out_channels, const Conv2dOptions& o, const std::string& name) {
  const Shape xs = b.shape(x);
  BENCHSUITE_CHECK_ARG(xs.size() == 4, name, ": x is ", shape_str(xs), ", must be [N, C, H, W]");
  const int64_t c = xs[1], kh = o.kernel.first, kw = o.kernel.second;
  const ValueId weight = b.parameter(name + ".weight", {out_channels, c, kh, kw}, fan_init(c * kh * kw));
  const ValueId bias = o.bias ? b.parameter(name + ".bias", {out_channels}, fan_init(c * kh * kw)) : kNoValue;
  const ValueId cols = b.node1("unfold", {x},
                               {{"kernel", ints(o.kernel)}, {"stride", ints(o.stride)}, {"padding", ints(o.padding)},
                                {"dilation", ints(o.dilation)}},
                               name + ".unfold");
  const ValueId flat_weight = b.reshape(weight, {out_channels, c * kh * kw});
  const ValueId y = b.linear(cols, flat_weight, bias, false, name);  // [N, Ho*Wo, O]
  const int64_t ho = (xs[2] + 2 * o.padding.first - o.dilation.first * (kh - 1) - 1) / o.stride.first + 1;
  const int64_t wo = (xs[3] + 2 * o.padding.second - o.dilation.second * (kw - 1) - 1) / o.stride.second + 1;
  return b.permute(b.reshape(y, {xs[0], ho, wo, out_channels}), {0, 3, 1, 2});
}

ValueId conv1d(Builder& b, ValueId x, int64_t out_channels, int64_t kernel, const std::string& name, int64_t stride,
               int64_t padding, int64_t dilation, bool bias) {
  const Shape xs = b.shape(x);
  BENCHSUITE_CHECK_ARG(xs.size() == 3, name, ": x is ", shape_str(xs), ", must be [N, C, L]");
  const int64_t c = xs[1];
  const ValueId weight = b.parameter(name + ".weight", {out_channels, c, kernel}, fan_init(c * kernel));
  const ValueId bvec = bias ? b.parameter(name + ".bias", {out_channels}, fan_init(c * kernel)) : kNoValue;
  const ValueId cols = b.node1("unfold", {b.reshape(x, {xs[0], c, 1, xs[2]})},
                               {{"kernel", std::vector<int64_t>{1, kernel}},
                                {"stride", std::vector<int64_t>{1, stride}},
                                {"padding", std::vector<int64_t>{0, padding}},
                                {"dilation", std::vector<int64_t>{1, dilation}}},
                               name + ".unfold");
  const ValueId y = b.linear(cols, b.reshape(weight, {out_channels, c * kernel}), bvec, false, name);  // [N, Lo, O]
  return b.permute(y, {0, 2, 1});
}

ValueId max_pool2d(Builder& b, ValueId x, std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride,
                   std::pair<int64_t, int64_t> padding) {
  return window_node(b, "max_pool2d", x, kernel, stride, padding);
}

ValueId avg_pool2d(Builder& b, ValueId x, std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride,
                   std::pair<int64_t, int64_t> padding) {
  return window_node(b, "avg_pool2d", x, kernel, stride, padding);
}

ValueId batch_norm(Builder& b, ValueId x, const std::string& name, bool training, double eps) {
  const Shape xs = b.shape(x);
  BENCHSUITE_CHECK_ARG(xs.size() >= 2, name, ": x is ", shape_str(xs), ", must be [N, C, ...]");
  const Shape c = {xs[1]};
  const ValueId gamma = b.parameter(name + ".weight", c, {ParameterInit::Kind::ones});
  const ValueId beta = b.parameter(name + ".bias", c, {ParameterInit::Kind::zeros});
  const ValueId mean = b.parameter(name + ".running_mean", c, {ParameterInit::Kind::zeros});
  const ValueId var = b.parameter(name + ".running_var", c, {ParameterInit::Kind::ones});
  return b.node("batch_norm", {x, gamma, beta, mean, var}, {{"training", training}, {"eps", eps}}, name).at(0);
}

ValueId group_norm(Builder& b, ValueId x, int64_t groups, const std::string& name, double eps) {
  const Shape xs = b.shape(x);
  BENCHSUITE_CHECK_ARG(xs.size() >= 2, name, ": x is ", shape_str(xs), ", must be [N, C, ...]");
  const ValueId gamma = b.parameter(name + ".weight", {xs[1]}, {ParameterInit::Kind::ones});
  const ValueId beta = b.parameter(name + ".bias", {xs[1]}, {ParameterInit::Kind::zeros});
  return b.node("group_norm", {x, gamma, beta}, {{"groups", groups}, {"eps", eps}}, name).at(0);
}

ValueId dropout(Builder& b, ValueId x, double p, uint64_t seed, const std::string& step_scalar) {
  if (p == 0.0) return x;
  Attrs a{{"p", p}, {"seed", static_cast<int64_t>(seed)}};
  if (!step_scalar.empty()) {
    b.scalar(step_scalar);
    a.set("step_scalar", step_scalar);
  }
  return b.node1("dropout", {x}, a);
}

ValueId sinusoidal_positions(Builder& b, ValueId ids, int64_t dim, double base, const std::string& offset_scalar) {
  Attrs a{{"dim", dim}, {"base", base}};
  if (b.dtype() != DType::float32) a.set("dtype", std::string(dtype_name(b.dtype())));
  if (!offset_scalar.empty()) {
    b.scalar(offset_scalar);
    a.set("offset_scalar", offset_scalar);
  }
  return b.node1("sinusoidal_positions", {ids}, a);
}

ValueId mlp(Builder& b, ValueId x, int64_t hidden, const std::string& activation, const std::string& name) {
  const int64_t out = b.shape(x).back();
  return b.linear(b.activation(activation, b.linear(x, hidden, name + ".fc1")), out, name + ".fc2");
}

ValueId swiglu(Builder& b, ValueId x, int64_t hidden, const std::string& name) {
  const int64_t out = b.shape(x).back();
  const ValueId gate = b.silu(b.linear(x, hidden, name + ".gate_proj", false));
  const ValueId up = b.linear(x, hidden, name + ".up_proj", false);
  return b.linear(b.mul(gate, up), out, name + ".down_proj", false);
}

ValueId moe(Builder& b, ValueId x, int64_t experts, int64_t k, int64_t hidden, const std::string& name) {
  const Shape xs = b.shape(x);
  BENCHSUITE_CHECK_ARG(!xs.empty(), name, ": x must be at least 1-D");
  BENCHSUITE_CHECK_ARG(experts >= 1 && k >= 1 && k <= experts && hidden >= 1, name, ": experts=", experts, ", k=", k,
                       ", hidden=", hidden, " must satisfy 1 <= k <= experts and hidden >= 1");
  const int64_t width = xs.back();
  int64_t tokens = 1;
  for (size_t i = 0; i + 1 < xs.size(); ++i) tokens *= xs[i];
  const ValueId flat = b.reshape(x, {tokens, width});
  const ValueId router = b.parameter(name + ".gate.weight", {experts, width});
  const ValueId logits = b.linear(flat, router, kNoValue, false, name + ".gate");
  const auto gate = b.node("topk_gate", {logits}, {{"k", k}}, name + ".route");
  const auto groups = b.node("moe_permute", {flat, gate[1]}, {{"experts", experts}}, name + ".permute");
  const ValueId gate_up = b.parameter(name + ".experts.gate_up_proj", {experts, 2 * hidden, width});
  const ValueId down = b.parameter(name + ".experts.down_proj", {experts, width, hidden});
  const Attrs out_in{{"weight_layout", std::string("out_in")}};
  const ValueId gu = b.node1("grouped_linear", {groups[0], groups[2], gate_up}, out_in, name + ".experts.gate_up");
  const ValueId h = b.mul(b.silu(b.slice(gu, 1, 0, hidden)), b.slice(gu, 1, hidden, 2 * hidden));
  const ValueId ys = b.node1("grouped_linear", {h, groups[2], down}, out_in, name + ".experts.down");
  return b.reshape(b.node1("moe_unpermute", {ys, groups[1], gate[0]}, {}, name + ".combine"), xs);
}

ValueId mamba(Builder& b, ValueId x, const MambaOptions& o, const std::string& name) {
  const Shape xs = b.shape(x);
  BENCHSUITE_CHECK_ARG(xs.size() == 3, name, ": x is ", shape_str(xs), ", must be [batch, seq_len, hidden]");
  const int64_t H = xs[2], I = o.intermediate > 0 ? o.intermediate : 2 * H, N = o.state, K = o.conv_kernel;
  const int64_t R = o.dt_rank > 0 ? o.dt_rank : (H + 15) / 16;
  BENCHSUITE_CHECK_ARG(N >= 1 && K >= 1, name, ": state=", N, " and conv_kernel=", K, " must be >= 1");
  const ValueId projected = b.linear(x, 2 * I, name + ".in_proj", false);
  const ValueId gate = b.slice(projected, 2, I, 2 * I);
  // [B, I, L] for the per-channel causal conv, then back to [B, L, I].
  const ValueId channels = b.permute(b.slice(projected, 2, 0, I), {0, 2, 1});
  const ValueId conv_w = b.parameter(name + ".conv1d.weight", {I, 1, K}, fan_init(K));
  const ValueId conv_b = b.parameter(name + ".conv1d.bias", {I}, fan_init(K));
  const ValueId conv = b.node1("depthwise_conv1d", {channels, b.reshape(conv_w, {I, K}), conv_b}, {{"pad_left", K - 1}},
                               name + ".conv1d");
  const ValueId u = b.silu(b.permute(conv, {0, 2, 1}));
  const ValueId ssm_in = b.linear(u, R + 2 * N, name + ".x_proj", false);
  const ValueId dt = b.linear(b.slice(ssm_in, 2, 0, R), I, name + ".dt_proj", true);
  // transformers initialises A_log to log(1..N) per channel and D to ones; a normal draw
  // around them keeps the decays in (0, 1) either way.
  const ValueId a_log = b.parameter(name + ".A_log", {I, N}, {ParameterInit::Kind::normal, 0.5});
  const ValueId skip = b.parameter(name + ".D", {I}, {ParameterInit::Kind::ones});
  const ValueId y = b.node1("mamba_ssm", {u, dt, a_log, b.slice(ssm_in, 2, R, R + N), b.slice(ssm_in, 2, R + N, R + 2 * N),
                                          skip},
                            {}, name + ".ssm");
  return b.linear(b.mul(y, b.silu(gate)), H, name + ".out_proj", false);
}

RecurrentOutput lstm(Builder& b, ValueId x, int64_t hidden, const std::string& name, int64_t layers) {
  return recurrent(b, x, hidden, name, layers, 4, true, [&](ValueId gx, ValueId gh, ValueId, ValueId c) {
    const ValueId gates = b.add(gx, gh);
    const ValueId i = b.node1("sigmoid", {gate(b, gates, 0, hidden)});
    const ValueId f = b.node1("sigmoid", {gate(b, gates, 1, hidden)});
    const ValueId g = b.tanh(gate(b, gates, 2, hidden));
    const ValueId o = b.node1("sigmoid", {gate(b, gates, 3, hidden)});
    const ValueId cell = b.add(b.mul(f, c), b.mul(i, g));
    return std::make_pair(b.mul(o, b.tanh(cell)), cell);
  });
}

RecurrentOutput gru(Builder& b, ValueId x, int64_t hidden, const std::string& name, int64_t layers) {
  return recurrent(b, x, hidden, name, layers, 3, false, [&](ValueId gx, ValueId gh, ValueId h, ValueId) {
    const ValueId r = b.node1("sigmoid", {b.add(gate(b, gx, 0, hidden), gate(b, gh, 0, hidden))});
    const ValueId z = b.node1("sigmoid", {b.add(gate(b, gx, 1, hidden), gate(b, gh, 1, hidden))});
    const ValueId n = b.tanh(b.add(gate(b, gx, 2, hidden), b.mul(r, gate(b, gh, 2, hidden))));
    // h' = (1 - z) n + z h = n + z (h - n)
    const ValueId diff = b.node1("axpy", {n, h}, {{"alpha", -1.0}});
    return std::make_pair(b.add(n, b.mul(z, diff)), kNoValue);
  });
}

}  // namespace benchsuite::models
