"""The caching memory pool, switchable at run time, and the pool-efficiency benchmark:
the pool_churn case (allocate and free many buffers per iteration) with the pool off and on."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from .. import _core
from ..core.settings import HarnessSettings

__all__ = ["set_caching_pool", "caching_pool_enabled", "caching_pool", "pool_stats", "empty_pool",
           "pool_efficiency"]


def set_caching_pool(enabled: bool) -> bool:
    """Switch the pool for benchsuite's own buffers (bs.Tensor, case inputs); returns the
    previous setting. Switching it off releases every cached block."""
    return bool(_core.set_caching_pool(bool(enabled)))


def caching_pool_enabled() -> bool:
    return bool(_core.caching_pool_enabled())


def pool_stats() -> dict[str, Any]:
    """{enabled, hits, misses, returned, cached_blocks, cached_bytes}."""
    return dict(_core.pool_stats())


def empty_pool() -> None:
    """Release cached blocks and zero the counters (the pool stays on or off)."""
    _core.empty_pool()


@contextlib.contextmanager
def caching_pool(enabled: bool = True) -> Iterator[None]:
    """`with bs.memory.caching_pool(): ...` runs the block with the pool on, then restores it."""
    previous = set_caching_pool(enabled)
    try:
        yield
    finally:
        set_caching_pool(previous)


def pool_efficiency(device: str = "cpu", buffers: int = 64, nbytes: int = 1 << 20,
                    settings: HarnessSettings | None = None) -> dict[str, Any]:
    """Measure pool_churn with the pool off and on: medians, speedup (off / on) and the
    pool's hit rate. Skipped or failed runs leave the figures None (see `results`)."""
    from .measure import measure

    off = measure("pool_churn", device=device, settings=settings, buffers=buffers, bytes=nbytes, pool=False)
    on = measure("pool_churn", device=device, settings=settings, buffers=buffers, bytes=nbytes, pool=True)
    t_off = off.stats.median if off.stats else None
    t_on = on.stats.median if on.stats else None
    return {"device": on.device, "buffers": buffers, "bytes": nbytes, "without_pool_s": t_off,
            "with_pool_s": t_on, "speedup": (t_off / t_on) if (t_off and t_on) else None,
            "hit_rate": on.extra.get("pool_hit_rate"), "results": [off, on]}
