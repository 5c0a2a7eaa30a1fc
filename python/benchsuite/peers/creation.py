"""Peers of the creation cases: fill and normal random numbers."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import on_devices


def _np_fill(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    import numpy as np
    out = np.empty(p["n"], dtype=p.get("dtype", "float32"))
    return lambda: out.fill(1.5)


def _np_randn(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen = _numpy.rng()
    out = np.empty(p["n"], dtype=np.float32)
    return lambda: gen.standard_normal(out=out, dtype=np.float32)


def _torch_fill(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, out = _torch.vector(p, device)
    return lambda: out.fill_(1.5)


def _torch_randn(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, out = _torch.vector(p, device)
    return lambda: torch.randn(p["n"], device=out.device, out=out)


PEERS = {
    "fill": on_devices(numpy=_np_fill, torch=_torch_fill),
    "randn": on_devices(numpy=_np_randn, torch=_torch_randn),
}
