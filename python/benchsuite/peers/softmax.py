"""Peers of the softmax cases: softmax and log_softmax over the last axis and their backward."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import on_devices


def _np_softmax(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, _, x = _numpy.matrix(p)

    def run() -> Any:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return run


def _np_log_softmax(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, _, x = _numpy.matrix(p)

    def run() -> Any:
        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return run


def _np_softmax_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen, y = _numpy.matrix(p)
    dy = _numpy.normal(gen, y.shape, y.dtype)
    return lambda: y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def _np_log_softmax_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen, y = _numpy.matrix(p)
    dy = _numpy.normal(gen, y.shape, y.dtype)
    return lambda: dy - np.exp(y) * dy.sum(axis=-1, keepdims=True)


def _torch_softmax_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, y = _torch.matrix(p, device)
    dy = torch.randn_like(y)
    return lambda: torch._softmax_backward_data(dy, y, -1, y.dtype)


def _torch_log_softmax_backward(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, y = _torch.matrix(p, device)
    dy = torch.randn_like(y)
    return lambda: torch._log_softmax_backward_data(dy, y, -1, y.dtype)


PEERS = {
    "softmax": on_devices(numpy=_np_softmax, torch=_torch.simple(lambda t, x: lambda: t.softmax(x, -1))),
    "log_softmax": on_devices(numpy=_np_log_softmax, torch=_torch.simple(lambda t, x: lambda: t.log_softmax(x, -1))),
    "softmax_backward": on_devices(numpy=_np_softmax_backward, torch=_torch_softmax_backward),
    "log_softmax_backward": on_devices(numpy=_np_log_softmax_backward, torch=_torch_log_softmax_backward),
}
