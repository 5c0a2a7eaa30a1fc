"""Peers of the reduction cases: sum, mean and max over the last axis or every element."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import Builder, on_devices


def _np_reduce(kind: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, _, x = _numpy.matrix(p)
        fn = {"sum": np.sum, "mean": np.mean, "max": np.max}[kind]
        axis = None if p.get("all") else -1
        return lambda: fn(x, axis=axis)
    return build


def _torch_reduce(kind: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, x = _torch.matrix(p, device)
        fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[kind]
        if p.get("all"):
            return lambda: fn(x)
        return lambda: fn(x, dim=-1)
    return build


PEERS = {kind: on_devices(numpy=_np_reduce(kind), torch=_torch_reduce(kind)) for kind in ("sum", "mean", "max")}
