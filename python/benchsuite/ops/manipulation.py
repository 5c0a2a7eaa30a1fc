"""The manipulation ops for notebooks (re-exported by benchsuite.ops).

They move bytes only, so every dtype works. `reshape` and `slice` return views: the
result shares memory with the input (a write through either shows in the other), and a
NumPy input gives a NumPy view back, a torch tensor a torch view (through DLPack).
`transpose`, `contiguous` and `concat` return new contiguous arrays (`contiguous` returns
its input unchanged when it is already contiguous)."""
from __future__ import annotations

from typing import Any, Sequence

from .. import _core
from ._convert import int_arg, same_kind, shape_arg

__all__: list[str] = ["transpose", "contiguous", "reshape", "slice", "concat"]


def transpose(x: Any, impl: str | None = None) -> Any:
    """Swap the last two axes: [..., m, n] -> a new contiguous [..., n, m]."""
    return same_kind(_core.transpose(x, impl or ""), x)


def contiguous(x: Any, impl: str | None = None) -> Any:
    """A contiguous copy of a strided view (e.g. x.T or x[:, ::2]); CUDA views too."""
    return same_kind(_core.contiguous(x, impl or ""), x)


def reshape(x: Any, shape: int | Sequence[int]) -> Any:
    """x in a new shape (one entry may be -1) as a view; a non-contiguous x is copied first."""
    return same_kind(_core.reshape(x, shape_arg("reshape", shape)), x)


def slice(x: Any, dim: int, start: int | None, stop: int | None, step: int = 1) -> Any:  # noqa: A001
    """x[start:stop:step] along `dim` as a view. Negative dim/start/stop count from the end;
    None means the whole dimension; step >= 1; indices beyond the size are an error."""
    return same_kind(_core.slice(x, int_arg("slice", "dim", dim), int_arg("slice", "start", start),
                             int_arg("slice", "stop", stop), int_arg("slice", "step", step)), x)


def concat(xs: Sequence[Any], dim: int = 0, impl: str | None = None) -> Any:
    """A new array joining `xs` (same dtype, device and shape outside `dim`) along `dim`."""
    # raises unless xs is a non-empty list/tuple of arrays
    out = _core.concat(xs, int_arg("concat", "dim", dim), impl or "")
    return same_kind(out, xs[0])
