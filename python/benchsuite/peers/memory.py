"""Peers of the memory cases: a plain copy."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import on_devices


def _np_copy(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, _, src = _numpy.vector(p)
    dst = np.empty_like(src)
    return lambda: np.copyto(dst, src)


def _torch_copy(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, src = _torch.vector(p, device)
    dst = torch.empty_like(src)
    return lambda: dst.copy_(src)


PEERS = {"copy": on_devices(numpy=_np_copy, torch=_torch_copy)}
