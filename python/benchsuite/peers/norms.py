"""Peers of the normalisation cases: LayerNorm and RMSNorm over the last axis."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _numpy, _torch
from ._base import PeerSkip, on_devices

_EPS_LAYERNORM = 1e-5
_EPS_RMSNORM = 1e-5


def _np_layernorm(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen, x = _numpy.matrix(p)
    g = _numpy.normal(gen, p["cols"], x.dtype)
    b = _numpy.normal(gen, p["cols"], x.dtype)
    eps = x.dtype.type(_EPS_LAYERNORM)

    def run() -> Any:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / np.sqrt(var + eps) * g + b
    return run


def _np_rmsnorm(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    np, gen, x = _numpy.matrix(p)
    g = _numpy.normal(gen, p["cols"], x.dtype)
    eps = x.dtype.type(_EPS_RMSNORM)
    return lambda: x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * g


def _torch_layernorm(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, x = _torch.matrix(p, device)
    # weight and bias in the input's dtype, as layer_norm requires and as our op takes them
    g = torch.randn(p["cols"], device=x.device, dtype=x.dtype)
    b = torch.randn(p["cols"], device=x.device, dtype=x.dtype)
    return lambda: torch.nn.functional.layer_norm(x, (p["cols"],), g, b, _EPS_LAYERNORM)


def _torch_rmsnorm(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
    torch, x = _torch.matrix(p, device)
    g = torch.randn(p["cols"], device=x.device, dtype=x.dtype)
    if not hasattr(torch.nn.functional, "rms_norm"):
        raise PeerSkip("peer_unsupported", "this PyTorch has no torch.nn.functional.rms_norm")
    return lambda: torch.nn.functional.rms_norm(x, (p["cols"],), g, _EPS_RMSNORM)


PEERS = {
    "layernorm": on_devices(numpy=_np_layernorm, torch=_torch_layernorm),
    "rmsnorm": on_devices(numpy=_np_rmsnorm, torch=_torch_rmsnorm),
}
