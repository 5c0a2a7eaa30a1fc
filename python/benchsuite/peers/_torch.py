"""PyTorch builders' shared inputs and the CPU thread matching: torch runs its CPU kernels
on as many threads as our CPU kernels get (OpenMP's count in the core), so a CPU speedup
compares kernels, not thread counts."""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator, Mapping

from ._base import Builder


def setup(p: Mapping[str, Any], device: str):
    import torch
    dtype = getattr(torch, p.get("dtype", "float32"))
    return torch, dtype, torch.device(device)


def matrix(p: Mapping[str, Any], device: str):
    torch, dtype, dev = setup(p, device)
    return torch, torch.randn(p["rows"], p["cols"], device=dev, dtype=dtype)


def vector(p: Mapping[str, Any], device: str):
    torch, dtype, dev = setup(p, device)
    return torch, torch.randn(p["n"], device=dev, dtype=dtype)


def simple(make: Callable[[Any, Any], Callable[[], Any]], shape: str = "matrix") -> Builder:
    """A peer that is one torch call on a random matrix [rows, cols] (or vector [n])."""
    def build(p: Mapping[str, Any], device: str) -> Callable[[], Any]:
        torch, x = (matrix if shape == "matrix" else vector)(p, device)
        return make(torch, x)
    return build


def harness_threads() -> int:
    """The threads our CPU kernels run on: OpenMP's max_threads as the core sees it now
    (OMP_NUM_THREADS, else the logical cores), 1 in a core built without OpenMP."""
    from .. import _core
    openmp = _core.build_config().get("openmp") or {}
    if not openmp.get("enabled"):
        return 1
    return int(openmp.get("max_threads") or os.cpu_count() or 1)


@contextlib.contextmanager
def cpu_threads(n: int) -> Iterator[int]:
    """torch's intra-op CPU threads set to n (harness_threads(), read before this) for the
    block, and put back after.

    torch and the core share one OpenMP runtime when both load libgomp.so.1 (torch's wheel
    ships one under that name): then torch's count is the core's, and torch's first use on a
    thread sets it to torch's own default (physical cores). A count torch set that way was
    never ours, so what is put back is the count the core had."""
    import torch
    before = torch.get_num_threads()  # may be torch's first use on this thread (see above)
    put_back = n if harness_threads() != n else before
    if before != n:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != put_back:
            torch.set_num_threads(put_back)
