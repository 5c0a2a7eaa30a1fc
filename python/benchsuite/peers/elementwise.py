"""Peers of the elementwise cases: add, mul, axpy and the activations."""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import Builder, on_devices

_ALPHA = 0.75


def _np_binary(ufunc_name: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, gen, a = _numpy.vector(p)
        b = _numpy.normal(gen, p["n"], a.dtype)
        out = np.empty_like(a)
        ufunc = getattr(np, ufunc_name)
        return lambda: ufunc(a, b, out=out)
    return build


def _np_axpy(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen, x = _numpy.vector(p)
    y = _numpy.normal(gen, p["n"], x.dtype)
    out = np.empty_like(x)
    alpha = x.dtype.type(_ALPHA)

    def run() -> Any:
        np.multiply(x, alpha, out=out)
        return np.add(out, y, out=out)
    return run


def _np_activation(kind: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        np, _, x = _numpy.vector(p)
        t = x.dtype.type  # constants in the array's dtype: a float32 scalar would promote float16 arrays
        if kind == "relu":
            out = np.empty_like(x)
            return lambda: np.maximum(x, t(0), out=out)
        if kind == "silu":
            return lambda: x / (t(1) + np.exp(-x))
        if kind == "tanh":
            out = np.empty_like(x)
            return lambda: np.tanh(x, out=out)
        k, c = t(math.sqrt(2 / math.pi)), t(0.044715)
        return lambda: t(0.5) * x * (t(1) + np.tanh(k * (x + c * x * x * x)))
    return build


def _torch_binary(name: str) -> Builder:
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, a = _torch.vector(p, device)
        b, out = torch.randn_like(a), torch.empty_like(a)
        fn = getattr(torch, name)
        return lambda: fn(a, b, out=out)
    return build


def _torch_axpy(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, x = _torch.vector(p, device)
    y, out = torch.randn_like(x), torch.empty_like(x)
    return lambda: torch.add(y, x, alpha=_ALPHA, out=out)


PEERS = {
    "add": on_devices(numpy=_np_binary("add"), torch=_torch_binary("add")),
    "mul": on_devices(numpy=_np_binary("multiply"), torch=_torch_binary("mul")),
    "axpy": on_devices(numpy=_np_axpy, torch=_torch_axpy),
    "relu": on_devices(numpy=_np_activation("relu"),
                       torch=_torch.simple(lambda t, x: lambda: t.relu(x), "vector")),
    "gelu": on_devices(numpy=_np_activation("gelu"),
                       torch=_torch.simple(lambda t, x: lambda: t.nn.functional.gelu(x, approximate="tanh"), "vector")),
    "silu": on_devices(numpy=_np_activation("silu"),
                       torch=_torch.simple(lambda t, x: lambda: t.nn.functional.silu(x), "vector")),
    # NumPy has no erf: PyTorch only.
    "gelu_erf": on_devices(torch=_torch.simple(lambda t, x: lambda: t.nn.functional.gelu(x), "vector")),
    "tanh": on_devices(numpy=_np_activation("tanh"), torch=_torch.simple(lambda t, x: lambda: t.tanh(x), "vector")),
}
