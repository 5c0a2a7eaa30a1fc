// Composite layers over the graph builder, each a function of the builder that reads like the
// layer it makes and names its parameters as PyTorch does (a state dict loads by name):
// convolutions from unfold + one linear, pooling, the channel normalisations, dropout,
// sinusoidal positions, MLPs, and the recurrent LSTM and GRU unrolled over the sequence
// (a graph is built for concrete shapes). Gradients come from the node kinds they use.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "graph/builder.h"

namespace benchsuite::models {

using graph::Builder;
using graph::ValueId;

struct Conv2dOptions {
  std::pair<int64_t, int64_t> kernel{3, 3}, stride{1, 1}, padding{0, 0}, dilation{1, 1};
  bool bias = true;
};

// x [N, C, H, W] -> [N, out_channels, Ho, Wo]; `name`.weight [O, C, kh, kw], `name`.bias [O].
ValueId conv2d(Builder& b, ValueId x, int64_t out_channels, const Conv2dOptions& o, const std::string& name);
// x [N, C, L] -> [N, out_channels, Lo]; `name`.weight [O, C, k] (torch.nn.Conv1d).
ValueId conv1d(Builder& b, ValueId x, int64_t out_channels, int64_t kernel, const std::string& name,
               int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1, bool bias = true);
// Pools over x [N, C, H, W]; stride 0 means the kernel (torch's default).
ValueId max_pool2d(Builder& b, ValueId x, std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride = {0, 0},
                   std::pair<int64_t, int64_t> padding = {0, 0});
ValueId avg_pool2d(Builder& b, ValueId x, std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride = {0, 0},
                   std::pair<int64_t, int64_t> padding = {0, 0});

// `name`.weight / .bias [C] (ones / zeros), and for batch_norm the buffers
// `name`.running_mean / .running_var (zeros / ones) that inference (training = false) uses.
ValueId batch_norm(Builder& b, ValueId x, const std::string& name, bool training = false, double eps = 1e-5);
ValueId group_norm(Builder& b, ValueId x, int64_t groups, const std::string& name, double eps = 1e-5);

// Inverted dropout with a reproducible mask: (seed, element), plus the runtime scalar
// `step_scalar` when given (one mask per training step). p = 0 returns x unchanged.
ValueId dropout(Builder& b, ValueId x, double p, uint64_t seed, const std::string& step_scalar = "");
// ids [B, S] -> [B, S, dim] fixed sinusoidal positions (offset_scalar: positions already cached).
ValueId sinusoidal_positions(Builder& b, ValueId ids, int64_t dim, double base = 10000.0,
                             const std::string& offset_scalar = "");

// fc2(act(fc1(x))) with `name`.fc1 / .fc2 (activation: a node kind, e.g. "gelu_erf").
ValueId mlp(Builder& b, ValueId x, int64_t hidden, const std::string& activation, const std::string& name);
// down(silu(gate(x)) * up(x)), LLaMA's names `name`.gate_proj / .up_proj / .down_proj, no biases.
ValueId swiglu(Builder& b, ValueId x, int64_t hidden, const std::string& name);

// Mixtral's sparse mixture-of-experts block on x [..., H]: a router `name`.gate.weight [E, H]
// picks k experts per token (softmax over their logits); each expert is a SwiGLU MLP with
// `name`.experts.gate_up_proj [E, 2F, H] (gate rows first) and `name`.experts.down_proj
// [E, H, F] (transformers' MixtralExperts layout), run on its tokens only.
ValueId moe(Builder& b, ValueId x, int64_t experts, int64_t k, int64_t hidden, const std::string& name);

struct MambaOptions {
  int64_t intermediate = 0;  // I: 0 means 2 * H (transformers' expand = 2)
  int64_t state = 16;        // N
  int64_t conv_kernel = 4;   // K
  int64_t dt_rank = 0;       // R: 0 means ceil(H / 16)
};
// transformers' MambaMixer on x [B, L, H]: in_proj to (x, gate) [B, L, 2I]; a causal
// depthwise conv (kernel K) and SiLU; x_proj to (dt [R], B [N], C [N]); dt_proj; the
// selective SSM with A = -exp(A_log) and skip D; times SiLU(gate); out_proj. Parameters
// `name`.in_proj.weight, conv1d.weight [I, 1, K] / .bias, x_proj.weight, dt_proj.weight /
// .bias, A_log [I, N], D [I], out_proj.weight, as transformers names them.
ValueId mamba(Builder& b, ValueId x, const MambaOptions& o, const std::string& name);

struct RecurrentOutput {
  ValueId output;  // [B, T, H]: the last layer's h at every step
  ValueId h;       // [layers, B, H]: each layer's last h (torch's h_n)
  ValueId c;       // [layers, B, H]: each layer's last cell (LSTM only, else kNoValue)
};
// torch.nn.LSTM / GRU with batch_first=True, zero initial states, unidirectional: x [B, T, I];
// parameters `name`.weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}; gate order
// i, f, g, o (LSTM) and r, z, n (GRU), as torch.
RecurrentOutput lstm(Builder& b, ValueId x, int64_t hidden, const std::string& name, int64_t layers = 1);
RecurrentOutput gru(Builder& b, ValueId x, int64_t hidden, const std::string& name, int64_t layers = 1);

}  // namespace benchsuite::models
