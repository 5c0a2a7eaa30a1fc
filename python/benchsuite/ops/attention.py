"""The attention ops for notebooks (re-exported by benchsuite.ops): scaled dot-product
attention over q, k, v [B, H, S, D] of one dtype (float32, float16 or bfloat16), forward and
backward; float64 on the CPU references. Outputs have q's dtype; the log-sum-exp is float32
(float64 for float64 q).

Pass NumPy arrays, PyTorch/CuPy tensors (CPU or CUDA) or bs.Tensor; results are the same
kind as q. `impl` names a version (``bs.ops.versions("attention")``); the default is the
fastest one.
"""
from __future__ import annotations

from typing import Any

from .. import _core
from ._convert import float_arg, int_arg, same_kind

__all__ = ["attention", "attention_backward", "attention_kv", "attention_kv_backward"]


def attention(q: Any, k: Any, v: Any, causal: bool = False, scale: float | None = None, impl: str | None = None,
              return_lse: bool = False) -> Any:
    """O = softmax(Q K^T * scale [+ causal mask]) V for q, k, v [B, H, S, D] (equal shapes).

    scale defaults to 1/sqrt(D); causal lets query i see keys j <= i only. With
    return_lse=True returns (o, lse), lse [B, H, S] the row log-sum-exp of the scaled scores
    (what attention_backward needs), float32 (float64 for float64 q). float16/bfloat16 inputs accumulate in
    float32; on CUDA their default is the tensor-core version v3 (sm_80+)."""
    o, lse = _core.attention(q, k, v, bool(causal), None if scale is None else float_arg("attention", "scale", scale),
                             impl or "")
    return (same_kind(o, q), same_kind(lse, q)) if return_lse else same_kind(o, q)


def attention_backward(do: Any, q: Any, k: Any, v: Any, o: Any, lse: Any, causal: bool = False,
                       scale: float | None = None, impl: str | None = None) -> tuple[Any, Any, Any]:
    """(dq, dk, dv) of attention from the output gradient do, with the forward's o and lse.

    do and o have q's dtype, lse is float32 (float64 for float64 q); the gradients have q's dtype."""
    dq, dk, dv = _core.attention_backward(do, q, k, v, o, lse, bool(causal),
                                          None if scale is None else float_arg("attention_backward", "scale", scale),
                                          impl or "")
    return same_kind(dq, q), same_kind(dk, q), same_kind(dv, q)


def attention_kv(q: Any, k: Any, v: Any, key_mask: Any = None, causal: bool = False, scale: float | None = None,
                 q_offset: int = 0, kv_len: int | None = None, window: int = 0, impl: str | None = None) -> Any:
    """Attention with grouped heads, masks and a key/value cache (float32; float64 on the CPU
    reference, the key mask float32 for either).

    q [B, Hq, Sq, D]; k, v [B, Hkv, cap, D] with Hq a multiple of Hkv (MHA, MQA, GQA). Query i
    sits at position q_offset + i and sees key j when j < kv_len (default: all of k),
    key_mask[b, j] != 0 (a [B, cap] padding mask), j <= its position (causal) and, with
    window > 0, j > its position - window. A query that sees no key gets zeros."""
    return same_kind(_core.attention_kv(q, k, v, key_mask, bool(causal),
                                        None if scale is None else float_arg("attention_kv", "scale", scale),
                                        int_arg("attention_kv", "q_offset", q_offset),
                                        -1 if kv_len is None else int_arg("attention_kv", "kv_len", kv_len),
                                        int_arg("attention_kv", "window", window), impl or ""), q)


def attention_kv_backward(do: Any, q: Any, k: Any, v: Any, key_mask: Any = None, causal: bool = False,
                          scale: float | None = None, q_offset: int = 0, kv_len: int | None = None, window: int = 0,
                          impl: str | None = None) -> tuple[Any, Any, Any]:
    """(dq, dk, dv) of attention_kv (the same arguments) for the output gradient do [B, Hq, Sq, D].

    dk and dv [B, Hkv, cap, D] sum the gradients of each kv head's query heads; keys at or past
    kv_len, and keys no query sees, get zeros. The softmax is recomputed (nothing saved)."""
    op = "attention_kv_backward"
    dq, dk, dv = _core.attention_kv_backward(do, q, k, v, key_mask, bool(causal),
                                             None if scale is None else float_arg(op, "scale", scale),
                                             int_arg(op, "q_offset", q_offset),
                                             -1 if kv_len is None else int_arg(op, "kv_len", kv_len),
                                             int_arg(op, "window", window), impl or "")
    return same_kind(dq, q), same_kind(dk, q), same_kind(dv, q)
