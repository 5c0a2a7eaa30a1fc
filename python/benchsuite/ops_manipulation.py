"""The manipulation ops for notebooks (re-exported by benchsuite.ops).

They move bytes only, so every dtype works. `reshape` and `slice` return views: the
result shares memory with the input (a write through either shows in the other), and a
NumPy input gives a NumPy view back, a torch tensor a torch view (through DLPack).
`transpose`, `contiguous` and `concat` return new contiguous arrays (`contiguous` returns
its input unchanged when it is already contiguous)."""
from __future__ import annotations

from typing import Any, Sequence

from . import _core

__all__: list[str] = ["transpose", "contiguous", "reshape", "slice", "concat"]


def _like(out: _core.Tensor, like: Any) -> Any:
    # Imported here: benchsuite.ops imports this module at its end.
    from .ops import _like as like_fn
    return like_fn(out, like)


def transpose(x: Any, impl: str | None = None) -> Any:
    """Swap the last two axes: [..., m, n] -> a new contiguous [..., n, m]."""
    return _like(_core.transpose(x, impl or ""), x)


def contiguous(x: Any, impl: str | None = None) -> Any:
    """A contiguous copy of a strided view (e.g. x.T or x[:, ::2]); CUDA views too."""
    return _like(_core.contiguous(x, impl or ""), x)


def reshape(x: Any, shape: int | Sequence[int]) -> Any:
    """x in a new shape (one entry may be -1) as a view; a non-contiguous x is copied first."""
    from .ops import _shape_arg
    return _like(_core.reshape(x, _shape_arg("reshape", shape)), x)


def slice(x: Any, dim: int, start: int | None, stop: int | None, step: int = 1) -> Any:  # noqa: A001
    """x[start:stop:step] along `dim` as a view. Negative dim/start/stop count from the end;
    None means the whole dimension; step >= 1; indices beyond the size are an error."""
    from .ops import _int_arg
    return _like(_core.slice(x, _int_arg("slice", "dim", dim), _int_arg("slice", "start", start),
                             _int_arg("slice", "stop", stop), _int_arg("slice", "step", step)), x)


def concat(xs: Sequence[Any], dim: int = 0, impl: str | None = None) -> Any:
    """A new array joining `xs` (same dtype, device and shape outside `dim`) along `dim`."""
    from .ops import _int_arg
    out = _core.concat(xs, _int_arg("concat", "dim", dim), impl or "")  # raises unless xs is a non-empty list/tuple of arrays
    return _like(out, xs[0])
