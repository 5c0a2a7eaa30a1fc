"""The scan ops for notebooks (re-exported by benchsuite.ops)."""
from __future__ import annotations

from typing import Any

from .. import _core
from ._convert import int_arg, same_kind

__all__: list[str] = ["selective_scan"]


def selective_scan(x: Any, a: Any, b: Any, c: Any, h0: Any = None, chunk: int = 64,
                   impl: str | None = None) -> tuple[Any, Any]:
    """Selective scan of a diagonal state-space model (Mamba style), float32:

        h_t = a_t * h_{t-1} + b_t * x_t      (elementwise over the N states)
        y_t = sum_n c_t[n] * h_t[n]

    x [B, T, D], a [B, T, D, N] (discretised decays in (0, 1)), b [B, T, D, N],
    c [B, T, N] (shared across the D channels), h0 [B, D, N] or None (zeros).
    Returns (y [B, T, D], h_last [B, D, N]) as the same kind of array as x. `chunk` is the
    number of time steps per chunk of the chunked versions (v2); v1 is sequential.
    """
    y, h_last = _core.selective_scan(x, a, b, c, h0, int_arg("selective_scan", "chunk", chunk), impl or "")
    return same_kind(y, x), same_kind(h_last, x)
