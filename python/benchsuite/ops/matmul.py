"""The matrix product (csrc/ops/matmul)."""
from __future__ import annotations

from typing import Any

from .. import _core
from ._convert import same_kind

__all__ = ["matmul"]


def matmul(a: Any, b: Any, impl: str | None = None) -> Any:
    """a @ b for 2-D a [m, k] and b [k, n]."""
    return same_kind(_core.matmul(a, b, impl or ""), a)
