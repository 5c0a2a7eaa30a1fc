"""The softmax ops (csrc/ops/softmax): softmax and log_softmax over the last axis, and their
backward from the forward's output."""
from __future__ import annotations

from typing import Any

from .. import _core
from ._convert import same_kind

__all__ = ["softmax", "softmax_backward", "log_softmax", "log_softmax_backward"]


def softmax(x: Any, impl: str | None = None) -> Any:
    """Softmax over the last axis."""
    return same_kind(_core.softmax(x, impl or ""), x)


def softmax_backward(y: Any, dy: Any, impl: str | None = None) -> Any:
    """Gradient of softmax given its output y: y * (dy - sum(dy * y))."""
    return same_kind(_core.softmax_backward(y, dy, impl or ""), y)


def log_softmax(x: Any, impl: str | None = None) -> Any:
    """log(softmax(x)) over the last axis, computed stably."""
    return same_kind(_core.log_softmax(x, impl or ""), x)


def log_softmax_backward(y: Any, dy: Any, impl: str | None = None) -> Any:
    """Gradient of log_softmax given its output y: dy - exp(y) * sum(dy)."""
    return same_kind(_core.log_softmax_backward(y, dy, impl or ""), y)
