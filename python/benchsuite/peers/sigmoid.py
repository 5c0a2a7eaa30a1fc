"""Peers of the sigmoid cases: y = 1 / (1 + exp(-x)), and its backward from the output."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import on_devices


def _np_sigmoid(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, _, x = _numpy.vector(p)
    one = x.dtype.type(1)  # in the array's dtype: a float32 scalar would promote float16 arrays
    return lambda: one / (one + np.exp(-x))


def _np_sigmoid_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen, y = _numpy.vector(p)
    dy = _numpy.normal(gen, p["n"], y.dtype)
    one = y.dtype.type(1)
    return lambda: dy * y * (one - y)


def _torch_sigmoid_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, y = _torch.vector(p, device)
    dy = torch.randn_like(y)
    return lambda: torch.ops.aten.sigmoid_backward(dy, y)


PEERS = {
    "sigmoid": on_devices(numpy=_np_sigmoid, torch=_torch.simple(lambda t, x: lambda: t.sigmoid(x), "vector")),
    "sigmoid_backward": on_devices(numpy=_np_sigmoid_backward, torch=_torch_sigmoid_backward),
}
