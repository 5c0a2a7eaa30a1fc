"""The creation ops (csrc/ops/creation): a converted copy, and new tensors filled with a value
or with counter-based random numbers (same seed, same numbers on CPU and CUDA)."""
from __future__ import annotations

from typing import Any, Sequence

from .. import _core
from ._convert import float_arg, int_arg, shape_arg

__all__ = ["cast", "fill", "randn", "uniform"]


def cast(x: Any, dtype: str, impl: str | None = None) -> Any:
    """A converted copy (round to nearest even into float16/bfloat16, truncation into ints).

    Returns a bs.Tensor: bfloat16 has no NumPy dtype, so `.numpy()` works only for the others.
    """
    return _core.cast(x, dtype, impl or "")


def fill(shape: int | Sequence[int], value: float, dtype: str = "float32", device: str = "cpu",
         impl: str | None = None) -> _core.Tensor:
    """A new bs.Tensor holding `value` everywhere."""
    return _core.fill(shape_arg("fill", shape), float_arg("fill", "value", value), dtype, device, impl or "")


def randn(shape: int | Sequence[int], seed: int = 0, dtype: str = "float32", device: str = "cpu",
          mean: float = 0.0, std: float = 1.0, impl: str | None = None) -> _core.Tensor:
    """Normal random numbers from a counter-based RNG: same seed, same numbers on CPU and CUDA."""
    return _core.randn(shape_arg("randn", shape), int_arg("randn", "seed", seed), dtype, device,
                       float_arg("randn", "mean", mean), float_arg("randn", "std", std), impl or "")


def uniform(shape: int | Sequence[int], seed: int = 0, dtype: str = "float32", device: str = "cpu",
            low: float = 0.0, high: float = 1.0, impl: str | None = None) -> _core.Tensor:
    """Uniform [low, high) random numbers from the same counter-based RNG."""
    return _core.uniform(shape_arg("uniform", shape), int_arg("uniform", "seed", seed), dtype, device,
                         float_arg("uniform", "low", low), float_arg("uniform", "high", high), impl or "")
