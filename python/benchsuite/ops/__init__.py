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
# One module per op family (as csrc/ops/<family>/), found here by listing the package: a
# family module's __all__ joins this one. A registered op with no hand-written wrapper is
# still bs.ops.<op> through the generic wrapper (module __getattr__), so a new family needs
# no edit here at all.
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from .. import _core
from ._generic import generic_op

Tensor = _core.Tensor


def versions(op: str | None = None, device: str | None = None) -> list[dict[str, Any]]:
    """Registered versions (op, version, description, device, dtypes, reference)."""
    return [v for v in _core.op_versions()
            if (op is None or v["op"] == op) and (device is None or v["device"] == device)]


def _load_families() -> list[str]:
    """Import every family module (any module not starting with "_") and bind its __all__
    here; a family named like one of its ops (softmax, matmul, attention) leaves the op bound."""
    names: list[str] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in module.__all__:
            globals()[name] = getattr(module, name)
        names += [n for n in module.__all__ if n not in names]
    return names


__all__ = _load_families() + ["versions", "Tensor"]
_HANDWRITTEN = frozenset(__all__)
_GENERIC: frozenset[str] | None = None  # the registered ops served by the generic wrapper, once asked


def _generic_names() -> frozenset[str]:
    """Registered ops that the core binds (a `_core` function of the op's name) but no family
    module wraps."""
    global _GENERIC
    if _GENERIC is None:
        ops = {v["op"] for v in _core.op_versions()}
        _GENERIC = frozenset(op for op in ops if op.isidentifier() and not op.startswith("_")
                             and op not in _HANDWRITTEN and callable(getattr(_core, op, None)))
    return _GENERIC


def __getattr__(name: str) -> Any:
    if not name.startswith("_") and name in _generic_names():
        fn = generic_op(name)
        globals()[name] = fn  # made once
        return fn
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _generic_names())
