"""Peers of the matmul cases: a (batched) matrix product."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import on_devices


def _np_matmul(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen = _numpy.rng()
    _numpy.float32_only(p, "matmul")
    lead = (p["batch"],) if p.get("batch", 1) > 1 else ()
    a = gen.standard_normal(lead + (p["m"], p["k"]), dtype=np.float32)
    b = gen.standard_normal(lead + (p["k"], p["n"]), dtype=np.float32)
    return lambda: np.matmul(a, b)


def _torch_matmul(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, dtype, dev = _torch.setup(p, device)
    lead = (p["batch"],) if p.get("batch", 1) > 1 else ()
    a = torch.randn(*lead, p["m"], p["k"], device=dev, dtype=dtype)
    b = torch.randn(*lead, p["k"], p["n"], device=dev, dtype=dtype)
    return lambda: torch.matmul(a, b)


PEERS = {"matmul": on_devices(numpy=_np_matmul, torch=_torch_matmul)}
