"""The nn ops for notebooks (re-exported by benchsuite.ops): embedding lookup, fused
softmax + NLL cross-entropy and rotary position embedding, each with its backward.

Pass NumPy arrays, PyTorch/CuPy tensors (CPU or CUDA) or bs.Tensor; the result is the
same kind as the main input. Ids and targets are int64 (NumPy's default integer on Linux).
`impl` names a version (``bs.ops.versions("rope")``); the default is the fastest one.
"""
from __future__ import annotations

from typing import Any

from .. import _core
from ..core.errors import InvalidArgumentError
from ._convert import float_arg, int_arg, same_kind

__all__ = ["embedding", "embedding_backward", "cross_entropy", "cross_entropy_backward", "rope",
           "rope_backward"]


def _int(op: str, name: str, value: Any) -> int:
    return int(int_arg(op, name, value))


def _float(op: str, name: str, value: Any) -> float:
    return float(float_arg(op, name, value))


def embedding(weight: Any, ids: Any, impl: str | None = None) -> Any:
    """weight[ids]: weight [V, D] float32 (float64 on the CPU reference), ids [...] int64 in [0, V) -> [..., D].

    An id out of range raises InvalidArgumentError naming the first bad id and V (CUDA ids
    are copied to the host for that check)."""
    return same_kind(_core.embedding(weight, ids, impl or ""), weight)


def embedding_backward(dout: Any, ids: Any, num_embeddings: int, impl: str | None = None) -> Any:
    """Gradient of embedding w.r.t. weight: dweight [num_embeddings, D], where row v is the
    sum of dout[..., :] over the positions whose id is v (zero for unused ids).
    Deterministic on every backend: same inputs, same bits."""
    return same_kind(_core.embedding_backward(dout, ids, _int("embedding_backward", "num_embeddings", num_embeddings),
                                            impl or ""), dout)


def cross_entropy(logits: Any, targets: Any, ignore_index: int = -100, impl: str | None = None,
                  reduction: str = "mean") -> Any:
    """Softmax cross-entropy of logits [N, C] against int64 class targets [N].

    loss_r = logsumexp(logits[r]) - logits[r, targets[r]]. Rows whose target equals
    ignore_index get loss 0 and are left out of the mean (the mean is NaN when every row
    is ignored, as in PyTorch). reduction="mean" returns the mean as a 0-d array;
    reduction="none" the per-row losses [N]."""
    if reduction not in ("mean", "none"):
        raise InvalidArgumentError(f"cross_entropy: reduction={reduction!r} must be 'mean' or 'none'")
    loss, row_loss = _core.cross_entropy(logits, targets, _int("cross_entropy", "ignore_index", ignore_index),
                                         impl or "")
    return same_kind(loss if reduction == "mean" else row_loss, logits)


def cross_entropy_backward(logits: Any, targets: Any, ignore_index: int = -100, impl: str | None = None,
                           dloss: float = 1.0) -> Any:
    """Gradient of the mean cross-entropy w.r.t. logits, times dloss:
    (softmax(logits) - onehot(targets)) * dloss / (rows not ignored); ignored rows get 0."""
    op = "cross_entropy_backward"
    return same_kind(_core.cross_entropy_backward(logits, targets, _int(op, "ignore_index", ignore_index),
                                              _float(op, "dloss", dloss), impl or ""), logits)


def rope(x: Any, base: float = 10000.0, position_offset: int = 0, impl: str | None = None) -> Any:
    """Rotary position embedding, GPT-NeoX "rotate half" form, of x [B, T, H, Dh] (Dh even).

    With half = Dh/2, position p = t + position_offset and i < half:
    angle = p * base ** (-2 i / Dh),
    y[..., i] = x[..., i] cos(angle) - x[..., i + half] sin(angle),
    y[..., i + half] = x[..., i + half] cos(angle) + x[..., i] sin(angle)."""
    return same_kind(_core.rope(x, _float("rope", "base", base), _int("rope", "position_offset", position_offset),
                            impl or ""), x)


def rope_backward(dy: Any, base: float = 10000.0, position_offset: int = 0, impl: str | None = None) -> Any:
    """Gradient of rope: the inverse rotation (angle -> -angle) of dy [B, T, H, Dh]."""
    return same_kind(_core.rope_backward(dy, _float("rope_backward", "base", base),
                                     _int("rope_backward", "position_offset", position_offset), impl or ""), dy)
