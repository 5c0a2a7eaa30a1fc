"""Ops for notebooks: pass NumPy arrays, PyTorch/CuPy tensors (CPU or CUDA) or
bs.Tensor, get the same kind back, with no copies on the way in or out. `impl` names a
version (see `versions()`); the default is the op's most sophisticated version that
supports the dtype.

The memory-bound ops (add, mul, axpy, the activations and their backward, sum/mean/max,
softmax/log_softmax and their backward, layernorm/rmsnorm and their backward) take
float32, float16 or bfloat16 on every version: storage in that dtype, math in fp32 (the
v1 references in double), reductions accumulated in fp32 or wider, each output rounded
once. bfloat16 has no NumPy dtype: pass a bs.Tensor (`cast(x, "bfloat16")`) or a torch
tensor, and read results back through `cast(y, "float32")` or DLPack."""
from __future__ import annotations

import numbers
from typing import Any, Sequence

from . import _core
from .errors import InvalidArgumentError

__all__ = ["cast", "add", "mul", "axpy", "relu", "gelu", "silu", "relu_backward", "gelu_backward",
           "silu_backward", "sum", "mean", "max", "softmax", "softmax_backward", "log_softmax",
           "log_softmax_backward", "layernorm", "layernorm_backward", "rmsnorm", "rmsnorm_backward",
           "matmul", "fill", "randn", "uniform", "versions", "Tensor"]

Tensor = _core.Tensor


def _kind(x: Any) -> str:
    if isinstance(x, _core.Tensor):
        return "benchsuite"
    return type(x).__module__.split(".")[0]


def _int_arg(op: str, name: str, value: Any, low: int = -2**63, high: int = 2**63 - 1) -> Any:
    """An integer argument as the core takes it (int64): one outside [low, high] is a named
    error here (pybind11 would raise TypeError or RuntimeError); other values pass through
    for the core to check."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and not low <= int(value) <= high:
        raise InvalidArgumentError(f"{op}: {name}={int(value)} is out of range ({low}..{high})")
    return value


def _float_arg(op: str, name: str, value: Any) -> Any:
    """A real argument as the core takes it: an integer too large for a float is a named error."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise InvalidArgumentError(f"{op}: {name}={value} is too large for a float") from None
    return value


def _shape_arg(op: str, shape: Any) -> Any:
    """A shape (an int or a sequence of ints) with every dimension inside int64."""
    if isinstance(shape, (list, tuple)):
        for i, d in enumerate(shape):
            _int_arg(op, f"shape[{i}]", d)
    else:
        _int_arg(op, "shape", shape)
    return shape


def _like(out: _core.Tensor, like: Any) -> Any:
    """Return `out` as the same kind of array as `like` (zero-copy)."""
    kind = _kind(like)
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


def add(a: Any, b: Any, impl: str | None = None) -> Any:
    """a + b (same shape and dtype)."""
    return _like(_core.add(a, b, impl or ""), a)


def mul(a: Any, b: Any, impl: str | None = None) -> Any:
    """a * b; b has a's shape or is a row vector over a's last axis."""
    return _like(_core.mul(a, b, impl or ""), a)


def axpy(alpha: float, x: Any, y: Any, impl: str | None = None) -> Any:
    """alpha * x + y."""
    return _like(_core.axpy(_float_arg("axpy", "alpha", alpha), x, y, impl or ""), x)


def relu(x: Any, impl: str | None = None) -> Any:
    return _like(_core.relu(x, impl or ""), x)


def gelu(x: Any, impl: str | None = None) -> Any:
    """GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return _like(_core.gelu(x, impl or ""), x)


def silu(x: Any, impl: str | None = None) -> Any:
    """x * sigmoid(x)."""
    return _like(_core.silu(x, impl or ""), x)


def relu_backward(x: Any, dy: Any, impl: str | None = None) -> Any:
    return _like(_core.relu_backward(x, dy, impl or ""), x)


def gelu_backward(x: Any, dy: Any, impl: str | None = None) -> Any:
    return _like(_core.gelu_backward(x, dy, impl or ""), x)


def silu_backward(x: Any, dy: Any, impl: str | None = None) -> Any:
    return _like(_core.silu_backward(x, dy, impl or ""), x)


def sum(x: Any, axis: int | None = -1, impl: str | None = None) -> Any:  # noqa: A001
    """Sum over the last axis (axis=-1) or every element (axis=None), accumulated in fp32
    or wider; the result has x's dtype (as torch.sum)."""
    return _like(_core.sum(x, _int_arg("sum", "axis", axis), impl or ""), x)


def mean(x: Any, axis: int | None = -1, impl: str | None = None) -> Any:
    """Mean over the last axis (axis=-1) or every element (axis=None)."""
    return _like(_core.mean(x, _int_arg("mean", "axis", axis), impl or ""), x)


def max(x: Any, axis: int | None = -1, impl: str | None = None) -> Any:  # noqa: A001
    """Maximum over the last axis (axis=-1) or every element (axis=None)."""
    return _like(_core.max(x, _int_arg("max", "axis", axis), impl or ""), x)


def softmax(x: Any, impl: str | None = None) -> Any:
    """Softmax over the last axis."""
    return _like(_core.softmax(x, impl or ""), x)


def matmul(a: Any, b: Any, impl: str | None = None) -> Any:
    """a @ b for 2-D a [m, k] and b [k, n]."""
    return _like(_core.matmul(a, b, impl or ""), a)


def cast(x: Any, dtype: str, impl: str | None = None) -> Any:
    """A converted copy (round to nearest even into float16/bfloat16, truncation into ints).

    Returns a bs.Tensor: bfloat16 has no NumPy dtype, so `.numpy()` works only for the others.
    """
    return _core.cast(x, dtype, impl or "")


def fill(shape: int | Sequence[int], value: float, dtype: str = "float32", device: str = "cpu",
         impl: str | None = None) -> _core.Tensor:
    """A new bs.Tensor holding `value` everywhere."""
    return _core.fill(_shape_arg("fill", shape), _float_arg("fill", "value", value), dtype, device, impl or "")


def randn(shape: int | Sequence[int], seed: int = 0, dtype: str = "float32", device: str = "cpu",
          mean: float = 0.0, std: float = 1.0, impl: str | None = None) -> _core.Tensor:
    """Normal random numbers from a counter-based RNG: same seed, same numbers on CPU and CUDA."""
    return _core.randn(_shape_arg("randn", shape), _int_arg("randn", "seed", seed), dtype, device,
                       _float_arg("randn", "mean", mean), _float_arg("randn", "std", std), impl or "")


def uniform(shape: int | Sequence[int], seed: int = 0, dtype: str = "float32", device: str = "cpu",
            low: float = 0.0, high: float = 1.0, impl: str | None = None) -> _core.Tensor:
    """Uniform [low, high) random numbers from the same counter-based RNG."""
    return _core.uniform(_shape_arg("uniform", shape), _int_arg("uniform", "seed", seed), dtype, device,
                         _float_arg("uniform", "low", low), _float_arg("uniform", "high", high), impl or "")


def versions(op: str | None = None, device: str | None = None) -> list[dict[str, Any]]:
    """Registered versions (op, version, description, device, dtypes, reference)."""
    return [v for v in _core.op_versions()
            if (op is None or v["op"] == op) and (device is None or v["device"] == device)]


def softmax_backward(y: Any, dy: Any, impl: str | None = None) -> Any:
    """Gradient of softmax given its output y: y * (dy - sum(dy * y))."""
    return _like(_core.softmax_backward(y, dy, impl or ""), y)


def log_softmax(x: Any, impl: str | None = None) -> Any:
    """log(softmax(x)) over the last axis, computed stably."""
    return _like(_core.log_softmax(x, impl or ""), x)


def log_softmax_backward(y: Any, dy: Any, impl: str | None = None) -> Any:
    """Gradient of log_softmax given its output y: dy - exp(y) * sum(dy)."""
    return _like(_core.log_softmax_backward(y, dy, impl or ""), y)


def layernorm(x: Any, gamma: Any, beta: Any, eps: float = 1e-5, impl: str | None = None,
              return_stats: bool = False) -> Any:
    """LayerNorm over the last axis; with return_stats, (y, mean, rstd) for the backward.

    gamma and beta have x's dtype (as torch.nn.functional.layer_norm requires); y too. The
    saved mean and rstd are float32 for every dtype (PyTorch keeps them in the
    accumulation type as well)."""
    y, mean, rstd = _core.layernorm(x, gamma, beta, _float_arg("layernorm", "eps", eps), impl or "")
    return (_like(y, x), _like(mean, x), _like(rstd, x)) if return_stats else _like(y, x)


def layernorm_backward(dy: Any, x: Any, gamma: Any, mean: Any, rstd: Any,
                       impl: str | None = None) -> tuple[Any, Any, Any]:
    """(dx, dgamma, dbeta) from the forward's saved (float32) mean and rstd; in x's dtype."""
    return tuple(_like(t, x) for t in _core.layernorm_backward(dy, x, gamma, mean, rstd, impl or ""))


def rmsnorm(x: Any, gamma: Any, eps: float = 1e-6, impl: str | None = None,
            return_stats: bool = False) -> Any:
    """RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * gamma; with return_stats, (y, rstd).

    gamma and y have x's dtype; the saved rstd is float32 for every dtype."""
    y, rstd = _core.rmsnorm(x, gamma, _float_arg("rmsnorm", "eps", eps), impl or "")
    return (_like(y, x), _like(rstd, x)) if return_stats else _like(y, x)


def rmsnorm_backward(dy: Any, x: Any, gamma: Any, rstd: Any, impl: str | None = None) -> tuple[Any, Any]:
    """(dx, dgamma) from the forward's saved (float32) rstd; in x's dtype."""
    return tuple(_like(t, x) for t in _core.rmsnorm_backward(dy, x, gamma, rstd, impl or ""))


# Op areas kept in their own modules; their names are part of benchsuite.ops.
from .ops_manipulation import *  # noqa: E402,F401,F403
from .ops_nn import *  # noqa: E402,F401,F403
from .ops_scan import *  # noqa: E402,F401,F403
from .ops_attention import *  # noqa: E402,F401,F403
from . import ops_attention as _a, ops_manipulation as _m, ops_nn as _n, ops_scan as _s  # noqa: E402

__all__ += _m.__all__ + _n.__all__ + _s.__all__ + _a.__all__
