"""Arguments and results of the ops as the core takes and returns them: integers and reals
checked into named errors, arrays in as bs.Tensor and back as the caller's kind of array.
Every family module imports these (and only these) from the package, so nothing here
imports a family."""
from __future__ import annotations

import numbers
from typing import Any

from .. import _core
from ..core.errors import InvalidArgumentError


def array_kind(x: Any) -> str:
    if isinstance(x, _core.Tensor):
        return "benchsuite"
    return type(x).__module__.split(".")[0]


def int_arg(op: str, name: str, value: Any, low: int = -2**63, high: int = 2**63 - 1) -> Any:
    """An integer argument as the core takes it (int64): one outside [low, high] is a named
    error here (pybind11 would raise TypeError or RuntimeError); other values pass through
    for the core to check."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and not low <= int(value) <= high:
        raise InvalidArgumentError(f"{op}: {name}={int(value)} is out of range ({low}..{high})")
    return value


def float_arg(op: str, name: str, value: Any) -> Any:
    """A real argument as the core takes it: an integer too large for a float is a named error."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise InvalidArgumentError(f"{op}: {name}={value} is too large for a float") from None
    return value


def shape_arg(op: str, shape: Any) -> Any:
    """A shape (an int or a sequence of ints) with every dimension inside int64."""
    if isinstance(shape, (list, tuple)):
        for i, d in enumerate(shape):
            int_arg(op, f"shape[{i}]", d)
    else:
        int_arg(op, "shape", shape)
    return shape


def same_kind(out: _core.Tensor, like: Any) -> Any:
    """Return `out` as the same kind of array as `like` (zero-copy)."""
    kind = array_kind(like)
    if kind == "numpy":
        try:
            return out.numpy()
        except ValueError as exc:  # a view NumPy cannot describe (e.g. > 2**63 bytes, even with 0 elements)
            raise InvalidArgumentError(f"the result's shape={list(out.shape)} ({out.dtype}) cannot be a NumPy "
                                       f"array: {exc}") from None
    if kind == "torch":
        import torch
        return torch.from_dlpack(out)
    if kind == "cupy":
        import cupy
        return cupy.from_dlpack(out)
    return out


def is_array(x: Any) -> bool:
    """An array the core takes without copying: a bs.Tensor, a DLPack producer (torch, CuPy,
    JAX...) or an object with NumPy's array interface."""
    return isinstance(x, _core.Tensor) or hasattr(x, "__dlpack__") or hasattr(x, "__array_interface__")


def to_tensor(x: Any) -> Any:
    """x as a bs.Tensor (zero-copy) when it is an array the core takes; anything else, or an
    array it cannot take, unchanged, so that the core's error names the argument."""
    if isinstance(x, _core.Tensor) or not is_array(x):
        return x
    try:
        return _core.as_tensor(x)
    except Exception:  # e.g. a NumPy dtype the core has no name for: the op itself says which argument
        return x


def results_same_kind(out: Any, like: Any) -> Any:
    """The core's results as the caller's kind of array: a tensor, or a list/tuple of them
    (multi-output ops) as a tuple; anything else (a number, None) unchanged."""
    if isinstance(out, _core.Tensor):
        return out if like is None else same_kind(out, like)
    if isinstance(out, (list, tuple)):
        return tuple(results_same_kind(o, like) for o in out)
    return out
