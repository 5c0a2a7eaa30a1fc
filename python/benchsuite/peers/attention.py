"""Peers of the attention cases: softmax(Q K^T * scale [+ causal mask]) V, and its backward
(PyTorch only: NumPy has no autograd); a decode step against a KV cache (attention_decode)."""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import Builder, on_devices


def _np_attention(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen = _numpy.rng()
    _numpy.float32_only(p, "matmul")  # float16 matmuls without BLAS; no bfloat16 at all
    shape = (p["batch"], p["heads"], p["seq_len"], p["head_dim"])
    q, k, v = (gen.standard_normal(shape, dtype=np.float32) for _ in range(3))
    scale = np.float32(1.0 / math.sqrt(p["head_dim"]))
    mask = np.triu(np.full((p["seq_len"], p["seq_len"]), -np.inf, dtype=np.float32), 1) if p.get("causal") else 0

    def run() -> Any:
        s = (q @ np.swapaxes(k, -1, -2)) * scale + mask
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)) @ v
    return run


def _torch_attention(backward: bool) -> Builder:
    """torch SDPA in the case's dtype (its fused flash/memory-efficient kernels for fp16/bf16);
    the backward peer times the gradient of a retained forward graph, backward only."""
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, dtype, dev = _torch.setup(p, device)
        shape = (p["batch"], p["heads"], p["seq_len"], p["head_dim"])
        q, k, v = (torch.randn(shape, device=dev, dtype=dtype, requires_grad=backward) for _ in range(3))
        sdpa = torch.nn.functional.scaled_dot_product_attention
        causal = bool(p.get("causal"))
        if not backward:
            return lambda: sdpa(q, k, v, is_causal=causal)
        o = sdpa(q, k, v, is_causal=causal)
        do = torch.randn_like(o)
        return lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True)
    return build


def _torch_decode(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    """One decode step through SDPA: q [B, H, 1, D] against the whole cache (the last query of
    a causal sequence sees every key, so no mask); GQA through enable_gqa."""
    torch, dtype, dev = _torch.setup(p, device)
    q = torch.randn(p["batch"], p["heads"], 1, p["head_dim"], device=dev, dtype=dtype)
    k, v = (torch.randn(p["batch"], p["kv_heads"], p["context"], p["head_dim"], device=dev, dtype=dtype)
            for _ in range(2))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    gqa = {"enable_gqa": True} if p["kv_heads"] != p["heads"] else {}
    return lambda: sdpa(q, k, v, **gqa)


PEERS = {
    "attention_decode": on_devices(torch=_torch_decode),
    "attention": on_devices(numpy=_np_attention, torch=_torch_attention(False)),
    "attention_backward": on_devices(torch=_torch_attention(True)),
}
