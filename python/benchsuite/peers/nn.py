"""Peers of the language-model pieces: embedding, cross-entropy and rotary embedding, each
with its backward."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import Builder, no_peer, on_devices


def _np_embedding(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen = _numpy.rng()
    weight = gen.standard_normal((p["vocab"], p["dim"]), dtype=np.float32)
    ids = gen.integers(0, p["vocab"], p["tokens"])
    out = np.empty((p["tokens"], p["dim"]), dtype=np.float32)
    return lambda: np.take(weight, ids, axis=0, out=out)


def _np_embedding_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen = _numpy.rng()
    dout = gen.standard_normal((p["tokens"], p["dim"]), dtype=np.float32)
    ids = gen.integers(0, p["vocab"], p["tokens"])

    def run() -> Any:
        dweight = np.zeros((p["vocab"], p["dim"]), dtype=np.float32)
        np.add.at(dweight, ids, dout)
        return dweight
    return run


def _np_cross_entropy(backward: bool) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, gen = _numpy.rng()
        x = gen.standard_normal((p["rows"], p["classes"]), dtype=np.float32)
        t = gen.integers(0, p["classes"], p["rows"])
        rows = np.arange(p["rows"])

        def forward() -> Any:
            m = x.max(axis=1, keepdims=True)
            lse = np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]
            return (lse - x[rows, t]).mean()

        def grad() -> Any:
            e = np.exp(x - x.max(axis=1, keepdims=True))
            g = e / e.sum(axis=1, keepdims=True)
            g[rows, t] -= 1
            return g / p["rows"]
        return grad if backward else forward
    return build


def _np_rope(backward: bool) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, gen = _numpy.rng()
        b, t, h, d = p["batch"], p["seq_len"], p["heads"], p["head_dim"]
        x = gen.standard_normal((b, t, h, d), dtype=np.float32)
        half = d // 2
        angle = np.arange(t)[:, None] * 10000.0 ** (-2 * np.arange(half) / d)
        cos = np.cos(angle).astype(np.float32)[None, :, None, :]
        sin = (np.sin(angle) * (-1 if backward else 1)).astype(np.float32)[None, :, None, :]

        def run() -> Any:
            x1, x2 = x[..., :half], x[..., half:]
            return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
        return run
    return build


def _torch_embedding(backward: bool) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, dtype, dev = _torch.setup(p, device)
        ids = torch.randint(0, p["vocab"], (p["tokens"],), device=dev)
        if backward:
            grad = torch.randn(p["tokens"], p["dim"], device=dev, dtype=dtype)
            return lambda: torch.ops.aten.embedding_dense_backward(grad, ids, p["vocab"], -1, False)
        weight = torch.randn(p["vocab"], p["dim"], device=dev, dtype=dtype)
        return lambda: torch.nn.functional.embedding(ids, weight)
    return build


def _torch_cross_entropy(backward: bool) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, dtype, dev = _torch.setup(p, device)
        x = torch.randn(p["rows"], p["classes"], device=dev, dtype=dtype)
        t = torch.randint(0, p["classes"], (p["rows"],), device=dev)
        if not backward:
            return lambda: torch.nn.functional.cross_entropy(x, t)
        onehot = torch.nn.functional.one_hot(t, p["classes"]).to(dtype)
        return lambda: torch.softmax(x, -1).sub_(onehot).div_(p["rows"])
    return build


_NO_TORCH_ROPE = no_peer("PyTorch has no built-in rotary embedding")

PEERS = {
    "embedding": on_devices(numpy=_np_embedding, torch=_torch_embedding(False)),
    "embedding_backward": on_devices(numpy=_np_embedding_backward, torch=_torch_embedding(True)),
    "cross_entropy": on_devices(numpy=_np_cross_entropy(False), torch=_torch_cross_entropy(False)),
    "cross_entropy_backward": on_devices(numpy=_np_cross_entropy(True), torch=_torch_cross_entropy(True)),
    "rope": on_devices(numpy=_np_rope(False), torch=_NO_TORCH_ROPE),
    "rope_backward": on_devices(numpy=_np_rope(True), torch=_NO_TORCH_ROPE),
}
