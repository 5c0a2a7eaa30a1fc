"""The normalisations (csrc/ops/norms): LayerNorm and RMSNorm over the last axis, and their
backward from the forward's saved float32 statistics (float64 for float64 x: the CPU
references take float64, double end to end)."""
from __future__ import annotations

from typing import Any

from .. import _core
from ._convert import float_arg, same_kind

__all__ = ["layernorm", "layernorm_backward", "rmsnorm", "rmsnorm_backward"]


def layernorm(x: Any, gamma: Any = None, beta: Any = None, eps: float = 1e-5, impl: str | None = None,
              return_stats: bool = False) -> Any:
    """LayerNorm over the last axis; with return_stats, (y, mean, rstd) for the backward.

    gamma and beta have x's dtype (as torch.nn.functional.layer_norm requires); y too. As
    torch's weight=None and bias=None, gamma=None means ones and beta=None zeros. The saved
    mean and rstd are float32 for every dtype but float64, whose are float64 (PyTorch keeps
    them in the accumulation type as well)."""
    y, mean, rstd = _core.layernorm(x, gamma, beta, float_arg("layernorm", "eps", eps), impl or "")
    return (same_kind(y, x), same_kind(mean, x), same_kind(rstd, x)) if return_stats else same_kind(y, x)


def layernorm_backward(dy: Any, x: Any, gamma: Any, mean: Any, rstd: Any,
                       impl: str | None = None) -> tuple[Any, Any, Any]:
    """(dx, dgamma, dbeta) from the forward's saved (float32; float64's float64) mean and rstd;
    in x's dtype."""
    return tuple(same_kind(t, x) for t in _core.layernorm_backward(dy, x, gamma, mean, rstd, impl or ""))


def rmsnorm(x: Any, gamma: Any = None, eps: float = 1e-6, impl: str | None = None,
            return_stats: bool = False) -> Any:
    """RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * gamma; with return_stats, (y, rstd).

    gamma and y have x's dtype; gamma=None means ones (torch's weight=None). The saved rstd
    is float32 for every dtype but float64 (float64)."""
    y, rstd = _core.rmsnorm(x, gamma, float_arg("rmsnorm", "eps", eps), impl or "")
    return (same_kind(y, x), same_kind(rstd, x)) if return_stats else same_kind(y, x)


def rmsnorm_backward(dy: Any, x: Any, gamma: Any, rstd: Any, impl: str | None = None) -> tuple[Any, Any]:
    """(dx, dgamma) from the forward's saved (float32; float64's float64) rstd; in x's dtype."""
    return tuple(same_kind(t, x) for t in _core.rmsnorm_backward(dy, x, gamma, rstd, impl or ""))
