"""NumPy builders' shared inputs: fresh random data of the case's shape, in the dtype a
NumPy user would compute in."""
from __future__ import annotations

from typing import Any, Mapping

from ._base import PeerSkip


def rng():
    import numpy as np
    return np, np.random.default_rng()


def dtype(p: Mapping[str, Any]):
    """The NumPy dtype a user would compute in for the case's dtype: float32, or float16
    computed in float16; bfloat16 has no NumPy dtype, so that peer is skipped."""
    import numpy as np
    name = p.get("dtype", "float32")
    if name == "bfloat16":
        raise PeerSkip("unsupported_dtype", "numpy has no bfloat16")
    if name not in ("float32", "float16"):
        raise PeerSkip("unsupported_dtype", f"no NumPy peer for dtype={name}")
    return np.dtype(name)


def normal(gen, shape, dt):
    import numpy as np
    return gen.standard_normal(shape, dtype=np.float32).astype(dt, copy=False)


def matrix(p: Mapping[str, Any]):
    np, gen = rng()
    return np, gen, normal(gen, (p["rows"], p["cols"]), dtype(p))


def vector(p: Mapping[str, Any]):
    np, gen = rng()
    return np, gen, normal(gen, p["n"], dtype(p))


def float32_only(p: Mapping[str, Any], what: str) -> None:
    """NumPy has fast (BLAS) matrix products in float32 only: float16 would time a scalar
    loop, and there is no bfloat16 at all."""
    if p.get("dtype", "float32") != "float32":
        raise PeerSkip("unsupported_dtype", f"NumPy has no fast {p['dtype']} {what}")
