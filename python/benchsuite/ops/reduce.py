"""The reductions (csrc/ops/reduce): sum, mean and max over the last axis or every element,
accumulated in fp32 or wider."""
from __future__ import annotations

from typing import Any

from .. import _core
from ._convert import int_arg, same_kind

__all__ = ["sum", "mean", "max"]


def sum(x: Any, axis: int | None = -1, impl: str | None = None) -> Any:  # noqa: A001
    """Sum over the last axis (axis=-1) or every element (axis=None), accumulated in fp32
    or wider; the result has x's dtype (as torch.sum)."""
    return same_kind(_core.sum(x, int_arg("sum", "axis", axis), impl or ""), x)


def mean(x: Any, axis: int | None = -1, impl: str | None = None) -> Any:
    """Mean over the last axis (axis=-1) or every element (axis=None)."""
    return same_kind(_core.mean(x, int_arg("mean", "axis", axis), impl or ""), x)


def max(x: Any, axis: int | None = -1, impl: str | None = None) -> Any:  # noqa: A001
    """Maximum over the last axis (axis=-1) or every element (axis=None)."""
    return same_kind(_core.max(x, int_arg("max", "axis", axis), impl or ""), x)
