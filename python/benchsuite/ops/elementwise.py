"""The elementwise ops (csrc/ops/elementwise): add, mul, axpy and the activations with their
backward. float32, float16 or bfloat16 storage, fp32 math, each output rounded once."""
from __future__ import annotations

from typing import Any

from .. import _core
from ._convert import float_arg, same_kind

__all__ = ["add", "mul", "axpy", "relu", "gelu", "silu", "gelu_erf", "tanh", "relu_backward", "gelu_backward",
           "silu_backward", "gelu_erf_backward", "tanh_backward"]


def add(a: Any, b: Any, impl: str | None = None) -> Any:
    """a + b (same shape and dtype)."""
    return same_kind(_core.add(a, b, impl or ""), a)


def mul(a: Any, b: Any, impl: str | None = None) -> Any:
    """a * b; b has a's shape or is a row vector over a's last axis."""
    return same_kind(_core.mul(a, b, impl or ""), a)


def axpy(alpha: float, x: Any, y: Any, impl: str | None = None) -> Any:
    """alpha * x + y."""
    return same_kind(_core.axpy(float_arg("axpy", "alpha", alpha), x, y, impl or ""), x)


def relu(x: Any, impl: str | None = None) -> Any:
    return same_kind(_core.relu(x, impl or ""), x)


def gelu(x: Any, impl: str | None = None) -> Any:
    """GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return same_kind(_core.gelu(x, impl or ""), x)


def silu(x: Any, impl: str | None = None) -> Any:
    """x * sigmoid(x)."""
    return same_kind(_core.silu(x, impl or ""), x)


def gelu_erf(x: Any, impl: str | None = None) -> Any:
    """GELU, exact form (BERT; torch's default): 0.5 x (1 + erf(x / sqrt 2))."""
    return same_kind(_core.gelu_erf(x, impl or ""), x)


def tanh(x: Any, impl: str | None = None) -> Any:
    return same_kind(_core.tanh(x, impl or ""), x)


def relu_backward(x: Any, dy: Any, impl: str | None = None) -> Any:
    return same_kind(_core.relu_backward(x, dy, impl or ""), x)


def gelu_backward(x: Any, dy: Any, impl: str | None = None) -> Any:
    return same_kind(_core.gelu_backward(x, dy, impl or ""), x)


def silu_backward(x: Any, dy: Any, impl: str | None = None) -> Any:
    return same_kind(_core.silu_backward(x, dy, impl or ""), x)


def gelu_erf_backward(x: Any, dy: Any, impl: str | None = None) -> Any:
    return same_kind(_core.gelu_erf_backward(x, dy, impl or ""), x)


def tanh_backward(x: Any, dy: Any, impl: str | None = None) -> Any:
    return same_kind(_core.tanh_backward(x, dy, impl or ""), x)
