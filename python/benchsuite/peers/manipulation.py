"""Peers of the data-movement cases: transpose, contiguous copy of a view, concat."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import on_devices


def _np_transpose(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen = _numpy.rng()
    x = gen.standard_normal((p.get("batch", 1), p["rows"], p["cols"]), dtype=np.float32)
    out = np.empty((x.shape[0], p["cols"], p["rows"]), dtype=np.float32)
    return lambda: np.copyto(out, np.swapaxes(x, -1, -2))


def _np_contiguous(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen = _numpy.rng()
    base = gen.standard_normal((p["cols"], p["rows"]), dtype=np.float32)
    out = np.empty((p["rows"], p["cols"]), dtype=np.float32)
    return lambda: np.copyto(out, base.T)


def _np_concat(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen = _numpy.rng()
    parts = [gen.standard_normal((p["rows"], p["cols"]), dtype=np.float32) for _ in range(p["parts"])]
    return lambda: np.concatenate(parts, axis=p.get("dim", 0))


def _torch_transpose(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, dtype, dev = _torch.setup(p, device)
    x = torch.randn(p.get("batch", 1), p["rows"], p["cols"], device=dev, dtype=dtype)
    out = torch.empty(x.shape[0], p["cols"], p["rows"], device=dev, dtype=dtype)
    return lambda: out.copy_(x.transpose(-1, -2))


def _torch_contiguous(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, dtype, dev = _torch.setup(p, device)
    base = torch.randn(p["cols"], p["rows"], device=dev, dtype=dtype)
    out = torch.empty(p["rows"], p["cols"], device=dev, dtype=dtype)
    return lambda: out.copy_(base.t())


def _torch_concat(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, dtype, dev = _torch.setup(p, device)
    parts = [torch.randn(p["rows"], p["cols"], device=dev, dtype=dtype) for _ in range(p["parts"])]
    return lambda: torch.cat(parts, dim=p.get("dim", 0))


PEERS = {
    "transpose": on_devices(numpy=_np_transpose, torch=_torch_transpose),
    "contiguous": on_devices(numpy=_np_contiguous, torch=_torch_contiguous),
    "concat": on_devices(numpy=_np_concat, torch=_torch_concat),
}
