"""Peers: what a user would otherwise call for the same work (NumPy and PyTorch eager on the
CPU, PyTorch eager on CUDA), measured in the same run on same-shaped fresh random inputs, so
every result carries its speedup over each peer. A peer that is not installed, or has no
equivalent for a case, is a `skipped` comparison with the reason, never an error.

One module per op family (peers/<family>.py) holds a `PEERS` table of its cases; the tables
are merged here by listing the package, so a new family adds only its own module. PyTorch
on the CPU runs on as many threads as our CPU kernels (see _torch.cpu_threads)."""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import pkgutil
from typing import Any, Iterable, Mapping

from ._base import Builder, DevicePeers, PeerSkip, no_peer, on_devices

__all__ = ["PEERS", "PeerSkip", "Builder", "peers_for", "measure_peers", "no_peer", "on_devices"]

_Skip = PeerSkip  # the name the builders raised before the package split


def _collect(paths: Iterable[str], package: str) -> dict[str, DevicePeers]:
    """Every family module's PEERS under `paths` (modules not starting with "_"), merged; a
    case in two modules is a programming error."""
    table: dict[str, DevicePeers] = {}
    where: dict[str, str] = {}
    for info in pkgutil.iter_modules(list(paths)):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for case, devices in getattr(module, "PEERS", {}).items():
            if case in table:
                raise RuntimeError(f"peers of case {case!r} are in both {where[case]} and {module.__name__}")
            table[case], where[case] = devices, module.__name__
    return table


#: case family -> device type -> peer name -> (python package it needs, builder)
PEERS: dict[str, DevicePeers] = _collect(__path__, __name__)


def peers_for(case: str, device: str) -> dict[str, tuple[str, Builder]]:
    """The peers of a case family on a device type ('cpu' or 'cuda[:N]')."""
    return PEERS.get(case, {}).get("cuda" if device.startswith("cuda") else "cpu", {})


# What PyTorch says when it has no kernel for a dtype on a device (e.g. '"addmm_impl_cpu_"
# not implemented for 'Half'', or "Could not run 'aten::...' with arguments from the 'CPU'
# backend"): such a peer is skipped, as NumPy's bfloat16 is.
_NO_KERNEL = ("not implemented for", "Could not run '")


def _no_kernel(exc: BaseException) -> bool:
    return isinstance(exc, (RuntimeError, NotImplementedError)) and any(s in str(exc) for s in _NO_KERNEL)


def _no_kernel_reason(package: str, device: str, params: Mapping[str, Any], exc: BaseException) -> str:
    where = "CUDA" if device.startswith("cuda") else "CPU"
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"unsupported_dtype: {package} has no {where} kernel for dtype={params.get('dtype', 'float32')} " \
           f"({first_line})"


# Peers that run PyTorch (transformers models too): their CPU threads are matched to ours.
_TORCH_PACKAGES = ("torch", "transformers")


def _peer_threads(package: str, device: str) -> tuple[contextlib.AbstractContextManager, int | None]:
    """(context to build and time the peer in, its CPU thread count when matched): PyTorch
    gets our kernels' thread count, put back after; on CUDA too, so that torch's CPU-side
    first use cannot change the count our CPU kernels run on later in the run."""
    if package not in _TORCH_PACKAGES:
        return contextlib.nullcontext(), None
    from . import _torch
    n = _torch.harness_threads()
    return _torch.cpu_threads(n), (None if device.startswith("cuda") else n)


def measure_peers(case: str, params: Mapping[str, Any], device: str, ours_median: float | None,
                  settings: Any) -> dict[str, dict[str, Any]]:
    """Measure every peer of `case` on `device`; {peer: {status, reason, median_s, speedup}}
    (CPU PyTorch peers add `threads`, the count they ran on).

    speedup = peer median / our median: above 1, ours is faster.
    """
    from ..harness.measure import measure_callable
    out: dict[str, dict[str, Any]] = {}
    for name, (package, build) in peers_for(case, device).items():
        entry: dict[str, Any] = {"status": "skipped", "reason": None, "median_s": None, "speedup": None}
        out[name] = entry
        if importlib.util.find_spec(package) is None:
            entry["reason"] = f"peer_missing: {package} is not installed"
            continue
        try:
            importlib.import_module(package)
        except Exception as exc:  # installed but broken (e.g. a CUDA wheel missing its libraries)
            entry["reason"] = f"peer_missing: {package} cannot be imported ({type(exc).__name__}: {exc})"
            continue
        if device.startswith("cuda") and package in _TORCH_PACKAGES:
            import torch
            if not torch.cuda.is_available():
                entry["reason"] = "no_cuda: torch sees no CUDA device"
                continue
        threads, n_threads = _peer_threads(package, device)
        with threads:
            try:
                fn = build(params, device)
            except PeerSkip as exc:
                entry["reason"] = f"{exc.reason}: {exc}"
                continue
            except (TypeError, KeyError) as exc:  # a case parameter the peer cannot express
                entry["reason"] = f"peer_unsupported: {exc}"
                continue
            except Exception as exc:
                if not _no_kernel(exc):
                    raise
                entry["reason"] = _no_kernel_reason(package, device, params, exc)
                continue
            try:  # once up front: a dtype the peer has no kernel for is a skip, not a failed timing
                fn()
            except Exception as exc:  # any other error: the timing below records it
                if _no_kernel(exc):
                    entry["reason"] = _no_kernel_reason(package, device, params, exc)
                    continue
            result = measure_callable(fn, device=device, name=f"{case}:{name}", settings=settings)
        if n_threads is not None:
            entry["threads"] = n_threads
        if result.stats is None:
            entry["reason"] = f"{result.reason}: {result.error or '; '.join(result.reasons)}"
            continue
        entry["status"] = result.status
        entry["median_s"] = result.stats.median
        if result.status == "invalid":
            entry["reason"] = "; ".join(result.reasons)
        if ours_median:
            entry["speedup"] = result.stats.median / ours_median
    return out
