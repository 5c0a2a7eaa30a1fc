"""The attention ops for notebooks (re-exported by benchsuite.ops): scaled dot-product
attention over q, k, v [B, H, S, D] of one dtype (float32, float16 or bfloat16), forward and
backward. Outputs have q's dtype; the log-sum-exp is always float32.

Pass NumPy arrays, PyTorch/CuPy tensors (CPU or CUDA) or bs.Tensor; results are the same
kind as q. `impl` names a version (``bs.ops.versions("attention")``); the default is the
fastest one.
"""
from __future__ import annotations

from typing import Any

from . import _core

__all__ = ["attention", "attention_backward"]


def _like(out: _core.Tensor, like: Any) -> Any:
    # benchsuite.ops imports this module at its end, so its helper is looked up lazily.
    from .ops import _like as like_fn
    return like_fn(out, like)


def attention(q: Any, k: Any, v: Any, causal: bool = False, scale: float | None = None, impl: str | None = None,
              return_lse: bool = False) -> Any:
    """O = softmax(Q K^T * scale [+ causal mask]) V for q, k, v [B, H, S, D] (equal shapes).

    scale defaults to 1/sqrt(D); causal lets query i see keys j <= i only. With
    return_lse=True returns (o, lse), lse [B, H, S] the row log-sum-exp of the scaled scores
    (what attention_backward needs), always float32. float16/bfloat16 inputs accumulate in
    float32; on CUDA their default is the tensor-core version v3 (sm_80+)."""
    from .ops import _float_arg
    o, lse = _core.attention(q, k, v, bool(causal), None if scale is None else _float_arg("attention", "scale", scale),
                             impl or "")
    return (_like(o, q), _like(lse, q)) if return_lse else _like(o, q)


def attention_backward(do: Any, q: Any, k: Any, v: Any, o: Any, lse: Any, causal: bool = False,
                       scale: float | None = None, impl: str | None = None) -> tuple[Any, Any, Any]:
    """(dq, dk, dv) of attention from the output gradient do, with the forward's o and lse.

    do and o have q's dtype, lse is float32; the gradients have q's dtype."""
    from .ops import _float_arg
    dq, dk, dv = _core.attention_backward(do, q, k, v, o, lse, bool(causal),
                                          None if scale is None else _float_arg("attention_backward", "scale", scale),
                                          impl or "")
    return _like(dq, q), _like(dk, q), _like(dv, q)
