"""Composite layers for the graph builder, as in C++ (csrc/models/layers.h): functions of
the builder that add a layer's nodes and parameters, named as PyTorch names them, so a
torch state dict loads by name::

    from benchsuite.models import Builder, layers
    b = Builder()
    x = b.input("x", (8, 3, 32, 32), "float32")
    h = layers.conv2d(b, x, 16, 3, "conv1", padding=1)
    h = layers.batch_norm(b, h, "bn1")
    h = layers.max_pool2d(b, b.relu(h), 2)
    out, h_n, c_n = layers.lstm(b, seq, hidden=64, name="lstm")
"""
from __future__ import annotations

from typing import Sequence

from .. import _core
from .graph import Builder

IntOrPair = int | Sequence[int]

__all__ = ["conv2d", "conv1d", "max_pool2d", "avg_pool2d", "batch_norm", "group_norm", "dropout",
           "sinusoidal_positions", "mlp", "swiglu", "moe", "mamba", "lstm", "gru"]


def conv2d(b: Builder, x: int, out_channels: int, kernel: IntOrPair, name: str, stride: IntOrPair = 1,
           padding: IntOrPair = 0, dilation: IntOrPair = 1, bias: bool = True) -> int:
    """torch.nn.Conv2d on x [N, C, H, W]: unfold (im2col) and one linear; `name`.weight [O, C, kh, kw]."""
    return _core.layer_conv2d(b, x, out_channels, kernel, name, stride, padding, dilation, bias)


def conv1d(b: Builder, x: int, out_channels: int, kernel: int, name: str, stride: int = 1, padding: int = 0,
           dilation: int = 1, bias: bool = True) -> int:
    """torch.nn.Conv1d on x [N, C, L]; `name`.weight [O, C, k]."""
    return _core.layer_conv1d(b, x, out_channels, kernel, name, stride, padding, dilation, bias)


def max_pool2d(b: Builder, x: int, kernel: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> int:
    """torch.nn.MaxPool2d (stride defaults to the kernel)."""
    return _core.layer_pool2d(b, "max", x, kernel, stride, padding)


def avg_pool2d(b: Builder, x: int, kernel: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> int:
    """torch.nn.AvgPool2d, padding counted in the mean (count_include_pad=True)."""
    return _core.layer_pool2d(b, "avg", x, kernel, stride, padding)


def batch_norm(b: Builder, x: int, name: str, training: bool = False, eps: float = 1e-5) -> int:
    """torch.nn.BatchNorm1d/2d: batch statistics when training, else running_mean / running_var."""
    return _core.layer_batch_norm(b, x, name, training, eps)


def group_norm(b: Builder, x: int, groups: int, name: str, eps: float = 1e-5) -> int:
    """torch.nn.GroupNorm over x [N, C, ...]."""
    return _core.layer_group_norm(b, x, groups, name, eps)


def dropout(b: Builder, x: int, p: float, seed: int, step_scalar: str = "") -> int:
    """Inverted dropout whose mask depends only on (seed, element[, step]): reproducible."""
    return _core.layer_dropout(b, x, p, seed, step_scalar)


def sinusoidal_positions(b: Builder, ids: int, dim: int, base: float = 10000.0, offset_scalar: str = "") -> int:
    """Fixed sinusoidal positions [B, S, dim] for ids [B, S] (Vaswani et al.)."""
    return _core.layer_sinusoidal_positions(b, ids, dim, base, offset_scalar)


def mlp(b: Builder, x: int, hidden: int, activation: str, name: str) -> int:
    """`name`.fc2(activation(`name`.fc1(x)))."""
    return _core.layer_mlp(b, x, hidden, activation, name)


def swiglu(b: Builder, x: int, hidden: int, name: str) -> int:
    """down_proj(silu(gate_proj(x)) * up_proj(x)), LLaMA's MLP."""
    return _core.layer_swiglu(b, x, hidden, name)


def moe(b: Builder, x: int, experts: int, k: int, hidden: int, name: str) -> int:
    """Mixtral's sparse MoE block: top-k routing, SwiGLU experts on their tokens only
    (`name`.gate.weight, `name`.experts.gate_up_proj, `name`.experts.down_proj)."""
    return _core.layer_moe(b, x, experts, k, hidden, name)


def mamba(b: Builder, x: int, name: str, intermediate: int = 0, state: int = 16, conv_kernel: int = 4,
          dt_rank: int = 0) -> int:
    """transformers' MambaMixer on x [B, L, H] (intermediate 0: 2H; dt_rank 0: ceil(H/16))."""
    return _core.layer_mamba(b, x, name, intermediate, state, conv_kernel, dt_rank)


def lstm(b: Builder, x: int, hidden: int, name: str, layers: int = 1) -> tuple[int, int, int]:
    """torch.nn.LSTM(batch_first=True) from zero states: (output [B, T, H], h_n, c_n)."""
    return tuple(_core.layer_lstm(b, x, hidden, name, layers))


def gru(b: Builder, x: int, hidden: int, name: str, layers: int = 1) -> tuple[int, int]:
    """torch.nn.GRU(batch_first=True) from a zero state: (output [B, T, H], h_n)."""
    return tuple(_core.layer_gru(b, x, hidden, name, layers))
