"""The generic wrapper: any op the core binds (a `_core` function named as a registered op)
without a hand-written wrapper in a family module is still `bs.ops.<op>`, taking arrays of
any kind and giving results back as the caller's kind. So a new op family needs no edit in
benchsuite.ops; a hand-written wrapper (ops/<family>.py) only adds checked arguments,
defaults and a docstring."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from .. import _core
from ._convert import is_array, results_same_kind, to_tensor


def _first_array(args: Iterable[Any], kwargs: Mapping[str, Any]) -> Any:
    """The array whose kind the results take: the first array argument (or first array in a
    list/tuple argument, as concat's inputs), positional before keyword; None if there is none."""
    for value in (*args, *kwargs.values()):
        if is_array(value):
            return value
        if isinstance(value, (list, tuple)):
            for item in value:
                if is_array(item):
                    return item
    return None


def _convert(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and any(is_array(v) for v in value):
        return type(value)(to_tensor(v) for v in value)
    return to_tensor(value)


def generic_op(name: str) -> Callable[..., Any]:
    """`_core.<name>` for notebooks: array-likes (NumPy, torch/CuPy tensors, bs.Tensor) go in
    as bs.Tensor without copies, every result (a tensor, or a list/tuple of them) comes back
    as the first array argument's kind; `impl` names a version (default: the op's default)."""
    core_fn = getattr(_core, name)

    def op(*args: Any, impl: str | None = None, **kwargs: Any) -> Any:
        like = _first_array(args, kwargs)
        args = tuple(_convert(a) for a in args)
        kwargs = {k: _convert(v) for k, v in kwargs.items()}
        if impl is not None:
            kwargs["impl"] = impl
        return results_same_kind(core_fn(*args, **kwargs), like)

    op.__name__ = op.__qualname__ = name
    op.__module__ = "benchsuite.ops"
    op.__doc__ = ((core_fn.__doc__ or f"{name}(...)").strip() + "\n\nGeneric wrapper: arrays of any kind in, results "
                  "as the first array argument's kind; impl= names a version (bs.ops.versions(op)).")
    return op
