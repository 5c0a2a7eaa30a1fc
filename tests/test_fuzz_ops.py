"""Property tests (hypothesis) over every op in bs.ops and every CPU version of it.

Inputs are drawn: shapes with 0-size dimensions, 1, primes and a few long rows; dtypes
float32 / float16 / bfloat16 where the version lists them (and every dtype for the ops that
only move bytes); layouts that are contiguous, offset by one element, transposed,
step-sliced, reversed (negative strides) or broadcast (stride 0); values from a normal
distribution at three scales with zeros and NaN / +inf / -inf sprinkled in; scalar
arguments that are NaN, infinite, negative or past int64. Each call must either return what
a NumPy float64 reference computes from the same (rounded) inputs, or - where the inputs
are invalid - raise a benchsuite error (InvalidArgumentError, UnsupportedError, ...): never
another exception type.

NaN/inf rule: the float64 reference is the op's documented formula evaluated on the same
inputs with IEEE arithmetic (what NumPy gives), and the output must have NaN where it has
NaN and the same infinity where it has one ("strict"). Where versions legitimately sum in
another order, rescale, or underflow to 0 on the way (flash attention, the chunked scan,
RoPE's angles, exp(y) in the softmax backwards) the output only has to be non-finite
where the reference is ("loose"): inf - inf vs inf, or 0 * inf vs tiny * inf, is then a
question of order or range, not a bug. A causal mask takes masked keys out of every sum.
Finite entries follow op_helpers' tolerance policy (see close()).

Huge sizes (anything that could take the process down) run in child processes, at the end
of this file: the child must exit cleanly, each call giving a skipped (oom) Result or an
InvalidArgumentError naming the parameter. Budget: derandomized (reproducible) with a
modest max_examples; BENCHSUITE_FUZZ_EXAMPLES=N changes it, BENCHSUITE_FUZZ_RANDOM=1
explores new inputs on each run.
"""
from __future__ import annotations

import inspect
import json
import math
import os
import queue
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

import benchsuite as bs
from benchsuite import _core

from conftest import CUDA
from op_helpers import TERM_NOISE, TOLERANCE, as_f64, dtype_of, round_to
# The references of the op test files (float64, the documented formulas).
from test_ops import ACT, ACT_GRAD, _layernorm64, _log_softmax64, _rmsnorm64, _softmax64
from test_ops_nn import cross_entropy_backward_ref, cross_entropy_ref, embedding_backward_ref, rope_ref
from test_ops_scan import reference as scan_reference

EXAMPLES = int(os.environ.get("BENCHSUITE_FUZZ_EXAMPLES", "40"))
RANDOM = os.environ.get("BENCHSUITE_FUZZ_RANDOM") == "1"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
                print_blob=True, suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])

# the float64 references meet empty rows and overflowing casts on purpose
pytestmark = [pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]

FLOATS = ["float32", "float16", "bfloat16"]
INTS = ["int8", "int32", "int64", "uint8"]
NAMED = bs.BenchsuiteError
MAX_ELEMENTS = 6000


# --------------------------------------------------------------------------------------------------
# drawing inputs

# dimension sizes: 0, 1, small primes, powers of two and their neighbours, a free range
DIMS = st.one_of(st.sampled_from([0, 1, 1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 32, 33, 64, 127]),
                 st.integers(0, 40))
LONG_DIMS = st.sampled_from([1000, 1023, 1025, 4097])  # past the vector / register paths


def _cap(shape: list[int], limit: int = MAX_ELEMENTS) -> tuple[int, ...]:
    shape = list(shape)
    while math.prod(shape) > limit:
        i = max(range(len(shape)), key=lambda j: shape[j])
        shape[i] //= 2
    return tuple(shape)


@st.composite
def shapes(draw, min_rank: int = 1, max_rank: int = 3, limit: int = MAX_ELEMENTS) -> tuple[int, ...]:
    dims = draw(st.lists(DIMS, min_size=min_rank, max_size=max_rank))
    if dims and draw(st.integers(0, 5)) == 0:
        dims[-1] = draw(LONG_DIMS)
    return _cap(dims, limit)


@st.composite
def values(draw, shape, dtype: str = "float32", special: bool = True, scale: float | None = None) -> np.ndarray:
    """float64 values exactly representable in `dtype`: normal at a drawn scale, some zeros,
    and (when `special`) NaN / +inf / -inf at a drawn rate in some examples."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = tuple(shape)
    if dtype in INTS:
        info = np.iinfo(dtype)
        lo, hi = max(int(info.min), -1000), min(int(info.max), 1000)
        return np.asarray(rng.integers(lo, hi, shape, endpoint=True), dtype=np.float64)
    scale = draw(st.sampled_from([1.0, 1.0, 1e-3, 30.0])) if scale is None else scale
    x = np.array(rng.standard_normal(shape) * scale, dtype=np.float64)  # 0-d stays an array
    if draw(st.integers(0, 3)) == 0:
        x[np.asarray(rng.random(shape)) < 0.2] = 0.0
    if special and draw(st.integers(0, 2)) == 0:
        kinds = draw(st.lists(st.sampled_from([math.nan, math.inf, -math.inf]), min_size=1, max_size=3,
                              unique=True))
        mask = np.asarray(rng.random(shape)) < draw(st.sampled_from([0.01, 0.1, 0.5, 1.0]))
        x[mask] = rng.choice(kinds, size=int(mask.sum()))
    return round_to(x, dtype)


LAYOUTS = ["contiguous", "contiguous", "offset", "transposed", "step", "reversed", "broadcast"]


def _to_dtype(v: np.ndarray, dtype: str):
    """A contiguous array of `dtype` holding v: NumPy, or a bs.Tensor for bfloat16."""
    if dtype == "bfloat16":
        return bs.ops.cast(np.require(np.asarray(v, dtype=np.float32), requirements="C"), "bfloat16")
    with np.errstate(all="ignore"):
        return np.require(np.asarray(v).astype(dtype), requirements="C")  # 0-d stays 0-d


@st.composite
def layout(draw, v: np.ndarray, dtype: str, allow=LAYOUTS) -> tuple[object, np.ndarray]:
    """(the op's input holding `v` in `dtype` in a drawn memory layout, the values it holds).

    The values change only for "broadcast" (the first slice repeated along axis 0)."""
    kind = draw(st.sampled_from(allow))
    note(f"layout {kind} {dtype} {v.shape}")
    if kind == "broadcast" and v.ndim >= 1 and v.shape[0] > 1 and dtype != "bfloat16":
        v = np.broadcast_to(v[:1], v.shape)
        return np.broadcast_to(_to_dtype(v[:1], dtype), v.shape), v
    if kind == "offset":
        flat = _to_dtype(np.concatenate([[0.0], v.reshape(-1)]), dtype)
        if dtype == "bfloat16":
            return bs.ops.reshape(bs.ops.slice(flat, 0, 1, None), v.shape), v
        return flat[1:].reshape(v.shape), v
    if kind == "transposed" and v.ndim >= 2 and dtype != "bfloat16":
        return np.swapaxes(_to_dtype(np.swapaxes(v, -1, -2), dtype), -1, -2), v
    if kind == "reversed" and v.ndim >= 1 and dtype != "bfloat16":
        axis = draw(st.integers(0, v.ndim - 1))
        return np.flip(_to_dtype(np.flip(v, axis), dtype), axis), v
    if kind == "step" and v.ndim >= 1:
        axis = draw(st.integers(0, v.ndim - 1))
        big_shape = list(v.shape)
        big_shape[axis] *= 2
        big = np.zeros(big_shape)
        index = [slice(None)] * v.ndim
        index[axis] = slice(None, None, 2)
        big[tuple(index)] = v
        big = _to_dtype(big, dtype)
        if dtype == "bfloat16":
            return bs.ops.slice(big, axis, None, None, 2), v
        return big[tuple(index)], v
    return _to_dtype(v, dtype), v


def _dtype_choices(version: dict, wanted=FLOATS) -> list[str]:
    return [d for d in wanted if d in version["dtypes"]] or list(version["dtypes"])


# --------------------------------------------------------------------------------------------------
# calling and checking


# The device of the version under test: a CUDA version's fuzzer runs unchanged, its array
# arguments moved to the device for the call (impl=... names the version) and the results
# brought back, so every CUDA version meets the same inputs and float64 references.
_DEVICE = {"name": "cpu"}


def _to_device(a):
    if isinstance(a, np.ndarray):
        return bs.Tensor.from_numpy(np.ascontiguousarray(a)).to(_DEVICE["name"])
    if isinstance(a, bs.Tensor):
        return a.to(_DEVICE["name"])
    return a


def _to_host(y):
    if isinstance(y, (list, tuple)):
        return type(y)(_to_host(t) for t in y)
    if isinstance(y, bs.Tensor) and y.device != "cpu":
        y = y.to("cpu")
        return y if y.dtype == "bfloat16" else y.numpy()
    return y


def call(fn, *args, **kwargs):
    """Call an op: a benchsuite error propagates (the caller decides whether one was allowed);
    any other exception type is a failure."""
    try:
        if _DEVICE["name"] != "cpu" and kwargs.get("impl"):
            return _to_host(fn(*map(_to_device, args), **{k: _to_device(v) for k, v in kwargs.items()}))
        return fn(*args, **kwargs)
    except NAMED:
        raise
    except Exception as exc:  # noqa: BLE001 - the property under test
        pytest.fail(f"{getattr(fn, '__name__', fn)} raised {type(exc).__name__} (not a benchsuite error): {exc}")


def call_ok(fn, *args, **kwargs):
    """Call an op on valid inputs: it must return."""
    try:
        out = call(fn, *args, **kwargs)
    except NAMED as exc:
        pytest.fail(f"{getattr(fn, '__name__', fn)} raised {type(exc).__name__} on valid inputs: {exc}")
    event("valid inputs: checked against NumPy")
    return out


def call_err(fn, *args, expected=NAMED, **kwargs) -> BaseException:
    """Call an op on invalid inputs: it must raise a benchsuite error (of `expected`)."""
    try:
        out = call(fn, *args, **kwargs)
    except expected as exc:
        event(f"invalid inputs: {type(exc).__name__}")
        return exc
    except NAMED as exc:
        pytest.fail(f"{getattr(fn, '__name__', fn)} raised {type(exc).__name__}, expected {expected.__name__}: {exc}")
    pytest.fail(f"{getattr(fn, '__name__', fn)} returned {type(out).__name__} on invalid inputs; expected "
                f"{expected.__name__}")


def _finite_max(dtype: str) -> float:
    return {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float64": 1.7976931348623157e308}.get(
        dtype, 3.4028234663852886e38)


def close(got: np.ndarray, exact: np.ndarray, dtype: str, what: str, terms=None) -> None:
    """op_helpers.assert_close_to_exact's policy (normwise within the dtype's tolerance, or
    ~1e-6 of the terms the result is summed from; 16-bit outputs no worse than twice the exact
    result rounded once), where the exact result rounded once to the dtype is always within
    bounds: a product that underflows to 0 or a subnormal is the best any output can do."""
    diff, size = float(np.linalg.norm(got - exact)), float(np.linalg.norm(exact))
    best = float(np.linalg.norm(round_to(exact, dtype) - exact))
    noise = TERM_NOISE.get(dtype, 1e-6) * float(np.linalg.norm(terms)) if terms is not None else 0.0
    rel = diff / size if size else diff
    assert diff <= max(TOLERANCE[dtype] * size, noise, 2 * best), \
        f"{what}: normwise error {rel:.3g} > {dtype} tolerance {TOLERANCE[dtype]}"
    if dtype not in ("float32", "float64"):
        assert diff <= max(2 * best + 1e-7 * size, noise), \
            f"{what}: error {diff:.3g} > 2x the {dtype}-rounded exact result's {best:.3g}"


def check(out, exact, dtype: str, what: str, terms=None, nonfinite: str = "strict") -> None:
    """`out` against the float64 reference `exact` (see the module docstring for the rules)."""
    got = as_f64(out)
    with np.errstate(all="ignore"):
        exact = np.asarray(exact, dtype=np.float64)
        want = round_to(exact, dtype)  # an exact result past the dtype's range rounds to inf
    assert got.shape == exact.shape, f"{what}: shape {got.shape} != {exact.shape}"
    # a result within 0.5% of the dtype's largest value may round either way
    edge = np.isfinite(exact) & (np.abs(exact) > 0.995 * _finite_max(dtype))
    bad_nan = np.isnan(want) != np.isnan(got)
    if nonfinite == "strict":
        inf = np.isinf(want)
        bad_inf = (inf & (got != want)) | (~inf & np.isinf(got))
    else:
        bad_nan = np.isfinite(want) != np.isfinite(got)
        bad_inf = np.zeros_like(bad_nan)
    bad = (bad_nan | bad_inf) & ~edge
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        pytest.fail(f"{what}: {int(bad.sum())} of {bad.size} outputs break the NaN/inf rule ({nonfinite}); "
                    f"first at {i}: got {got[i]!r}, NumPy reference {exact[i]!r}")
    finite = np.isfinite(want) & np.isfinite(got) & ~edge
    if finite.any():
        t = None if terms is None else np.broadcast_to(np.abs(np.asarray(terms, dtype=np.float64)),
                                                       exact.shape)[finite]
        if t is not None and not np.all(np.isfinite(t)):
            t = None
        close(got[finite], exact[finite], dtype, what, t)


def ref(fn, *args, **kwargs):
    """A NumPy reference evaluated with IEEE semantics (no warnings for NaN/inf/overflow)."""
    with np.errstate(all="ignore"):
        return fn(*args, **kwargs)


# --------------------------------------------------------------------------------------------------
# one fuzzer per op: draws inputs for `version` (a registry entry), calls, checks


def fuzz_add_mul(op: str):
    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        shape = data.draw(shapes(1, 3), label="shape")
        row = data.draw(st.booleans(), label="row vector b")
        a_v = data.draw(values(shape, dtype))
        b_v = data.draw(values(shape[-1:] if row else shape, dtype))
        a, a_v = data.draw(layout(a_v, dtype))
        b, b_v = data.draw(layout(b_v, dtype))
        if data.draw(st.integers(0, 9), label="mismatch") == 0 and shape[-1] > 0:
            bad = _to_dtype(np.zeros(shape[:-1] + (shape[-1] + 1,)), dtype)
            call_err(getattr(bs.ops, op), a, bad, impl=version["version"], expected=bs.InvalidArgumentError)
            return
        out = call_ok(getattr(bs.ops, op), a, b, impl=version["version"])
        assert dtype_of(out) == dtype
        combine = np.add if op == "add" else np.multiply
        check(out, ref(combine, a_v, b_v), dtype, f"{op} {version['version']}",
              ref(lambda: np.abs(a_v) + np.abs(b_v)) if op == "add" else None)
    return fuzz


def fuzz_axpy(data, version):
    dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
    shape = data.draw(shapes(1, 3))
    alpha = data.draw(st.one_of(st.floats(-100, 100, width=32), st.sampled_from([math.nan, math.inf, -math.inf, 0.0])),
                      label="alpha")
    x, x_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
    y, y_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
    if not math.isfinite(alpha):
        call_err(bs.ops.axpy, alpha, x, y, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.axpy, alpha, x, y, impl=version["version"])
    alpha32 = float(np.float32(alpha))
    check(out, ref(lambda: alpha32 * x_v + y_v), dtype, f"axpy {version['version']}",
          ref(lambda: np.abs(alpha32 * x_v) + np.abs(y_v)))


def fuzz_activation(op: str):
    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        x, x_v = data.draw(layout(data.draw(values(data.draw(shapes(0, 3)), dtype)), dtype))
        out = call_ok(getattr(bs.ops, op), x, impl=version["version"])
        assert dtype_of(out) == dtype
        check(out, ref(ACT[op], x_v), dtype, f"{op} {version['version']}", x_v)
    return fuzz


def fuzz_activation_backward(op: str):
    name = op.removesuffix("_backward")

    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        shape = data.draw(shapes(0, 3))
        x, x_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
        dy, dy_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
        out = call_ok(getattr(bs.ops, op), x, dy, impl=version["version"])
        # gelu/silu loose: their derivative far out (|x| ~ 10) is 0 in fp32 but tiny in float64,
        # so an infinite dy gives 0 * inf = NaN against tiny * inf = inf
        check(out, ref(lambda: dy_v * ACT_GRAD[name](x_v)), dtype, f"{op} {version['version']}", 2 * dy_v,
              nonfinite="strict" if name == "relu" else "loose")
    return fuzz


def fuzz_reduction(op: str):
    numpy_fn = {"sum": np.sum, "mean": np.mean, "max": np.max}[op]

    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        shape = data.draw(shapes(0, 3))
        axis = data.draw(st.sampled_from([-1, None]), label="axis")
        x, x_v = data.draw(layout(data.draw(values(shape, dtype, scale=data.draw(st.sampled_from([1.0, 1e-3]))),
                                              dtype), dtype))
        fn = getattr(bs.ops, op)
        if axis == -1 and len(shape) == 0:
            # a 0-d array has no last axis: a named error or the value itself
            try:
                out = call(fn, x, axis=axis, impl=version["version"])
            except NAMED:
                return
            check(out, x_v, dtype, f"{op} {version['version']} 0-d")
            return
        empty = (math.prod(shape) == 0) if axis is None else (shape[-1] == 0)
        if op == "max" and empty:
            call_err(fn, x, axis=axis, impl=version["version"], expected=bs.InvalidArgumentError)
            return
        out = call_ok(fn, x, axis=axis, impl=version["version"])
        assert dtype_of(out) == dtype
        exact = ref(numpy_fn, x_v, axis=axis)
        terms = ref(numpy_fn, np.abs(x_v), axis=axis) if op != "max" else None
        check(np.atleast_1d(as_f64(out)), np.atleast_1d(exact), dtype, f"{op} {version['version']} axis={axis}",
              None if terms is None else np.atleast_1d(terms))
    return fuzz


def fuzz_softmax(op: str):
    fn_ref = _softmax64 if op == "softmax" else _log_softmax64

    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        shape = data.draw(shapes(1, 3))
        x, x_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
        out = call_ok(getattr(bs.ops, op), x, impl=version["version"])
        assert dtype_of(out) == dtype
        exact = ref(fn_ref, x_v)
        terms = None if op == "softmax" else ref(lambda: np.abs(x_v) + np.abs(x_v - exact))
        check(out, exact, dtype, f"{op} {version['version']}", terms)
    return fuzz


def fuzz_softmax_backward(op: str):
    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        shape = data.draw(shapes(1, 3))
        forward = _softmax64 if op == "softmax_backward" else _log_softmax64
        # y as training passes it (the forward's output), or anything (a fuzz of the formula)
        if data.draw(st.booleans(), label="y from the forward"):
            y_v = round_to(ref(forward, data.draw(values(shape, "float32", special=False))), dtype)
        else:
            y_v = data.draw(values(shape, dtype, scale=1.0))
        y, y_v = data.draw(layout(y_v, dtype))
        dy, dy_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
        out = call_ok(getattr(bs.ops, op), y, dy, impl=version["version"])
        # The row sum's rounding error is bounded by the sum of its terms' magnitudes (not by
        # the sum's own, which cancels): the terms are weighed by that.
        with np.errstate(all="ignore"):
            if op == "softmax_backward":
                dot = (dy_v * y_v).sum(-1, keepdims=True)
                dot_terms = np.abs(dy_v * y_v).sum(-1, keepdims=True)
                exact, terms = y_v * (dy_v - dot), np.abs(y_v) * (np.abs(dy_v) + dot_terms)
            else:
                total = dy_v.sum(-1, keepdims=True)
                total_terms = np.abs(dy_v).sum(-1, keepdims=True)
                exact, terms = dy_v - np.exp(y_v) * total, np.abs(dy_v) + np.exp(y_v) * total_terms
        # exp(y) of a very negative y underflows to 0 in fp32 where float64 keeps a tiny value:
        # tiny * inf (an inf in dy's sum) is inf, 0 * inf is NaN - non-finite either way
        check(out, exact, dtype, f"{op} {version['version']}", terms, nonfinite="loose")
    return fuzz


def fuzz_norm(op: str):
    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        shape = data.draw(shapes(1, 3))
        bad_eps = st.sampled_from([0.0, -1.0, math.nan, math.inf])
        eps = data.draw(st.sampled_from([1e-5, 1e-6, 1.0]) if data.draw(st.integers(0, 5)) else bad_eps, label="eps")
        x, x_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
        g, g_v = data.draw(layout(data.draw(values(shape[-1:], dtype, special=False, scale=1.0)), dtype))
        b, b_v = data.draw(layout(data.draw(values(shape[-1:], dtype, special=False, scale=1.0)), dtype))
        impl = version["version"]
        if not (math.isfinite(eps) and eps > 0):
            args = (x, g, b) if op == "layernorm" else (x, g)
            call_err(getattr(bs.ops, op), *args, eps=eps, impl=impl, expected=bs.InvalidArgumentError)
            return
        if op == "layernorm":
            y, mean, rstd = call_ok(bs.ops.layernorm, x, g, b, eps=eps, impl=impl, return_stats=True)
            ref_y, ref_mean, ref_rstd = ref(_layernorm64, x_v, g_v, b_v, eps)
            check(mean, ref_mean, "float32", f"layernorm {impl} mean", ref(np.mean, np.abs(x_v), axis=-1))
            # x - mean cancels: the error of a float32 mean (summed in 8 float lanes: ~cols/8 ulps,
            # not 16) is amplified by rstd (up to 1/sqrt(eps) for a constant row), so the terms are
            # |x| + |mean| scaled as y is, and by the accumulation length
            grow = max(1.0, shape[-1] / 8 * 2.0**-24 / 1e-6)
            terms = ref(lambda: grow * (np.abs(x_v) + np.abs(ref_mean)[..., None]) * ref_rstd[..., None]
                        * np.abs(g_v) + np.abs(b_v))
        else:
            y, rstd = call_ok(bs.ops.rmsnorm, x, g, eps=eps, impl=impl, return_stats=True)
            ref_y, ref_rstd = ref(_rmsnorm64, x_v, g_v, eps)
            terms = ref_y
        assert dtype_of(y) == dtype and dtype_of(rstd) == "float32"
        check(y, ref_y, dtype, f"{op} {impl} y", terms)
        # the variance of a row with |mean| >> std cancels: a float32 mean off by d |x| (d: the
        # float accumulation above) adds up to (d |x|)^2 + 2 d |x| std to it, which
        # 1 / sqrt(var + eps) scales by rstd^3 / 2; terms such that 1e-6 * terms is that
        with np.errstate(all="ignore"):
            xm = ref(np.mean, np.abs(x_v), axis=-1) if op == "layernorm" else np.zeros_like(ref_rstd)
            d = 2 * max(1e-6, shape[-1] / 8 * 2.0**-24)
            dvar = (d * xm) ** 2 + 2 * d * xm * np.sqrt(np.maximum(ref_rstd ** -2 - eps, 0))
            rstd_terms = 1e6 * 0.5 * ref_rstd ** 3 * dvar + np.abs(ref_rstd)
        check(rstd, ref_rstd, "float32", f"{op} {impl} rstd", rstd_terms)
    return fuzz


def fuzz_norm_backward(op: str):
    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        shape = data.draw(shapes(1, 3))
        cols = shape[-1]
        x_v = data.draw(values(shape, dtype))
        g_v = data.draw(values((cols,), dtype, special=False, scale=1.0))
        dy_v = data.draw(values(shape, dtype))
        x, x_v = data.draw(layout(x_v, dtype))
        g, g_v = data.draw(layout(g_v, dtype))
        dy, dy_v = data.draw(layout(dy_v, dtype))
        rows = math.prod(shape[:-1])
        x2, dy2 = x_v.reshape(rows, cols), dy_v.reshape(rows, cols)
        impl = version["version"]
        f32 = lambda a: np.asarray(a, dtype=np.float32).astype(np.float64)  # noqa: E731
        with np.errstate(all="ignore"):
            if op == "layernorm_backward":
                _, mean, rstd = _layernorm64(x2, g_v, 0, 1e-5)
                mean, rstd = f32(mean), f32(rstd)
                xhat = (x2 - mean[:, None]) * rstd[:, None]
                gg = dy2 * g_v
                exact_dx = rstd[:, None] * (gg - gg.mean(-1, keepdims=True)
                                            - xhat * (gg * xhat).mean(-1, keepdims=True))
                exact = [exact_dx.reshape(shape), (dy2 * xhat).sum(0), dy2.sum(0)]
                # x - mean cancels (as in the forward): its magnitude is (|x| + |mean|) * rstd
                xabs = (np.abs(x2) + np.abs(mean)[:, None]) * rstd[:, None]
                terms = [(rstd[:, None] * (np.abs(gg) + np.abs(gg).mean(-1, keepdims=True)
                                           + xabs * (np.abs(gg) * xabs).mean(-1, keepdims=True))).reshape(shape),
                         (np.abs(dy2) * xabs).sum(0), np.abs(dy2).sum(0)]
                stats = [mean.reshape(shape[:-1]), rstd.reshape(shape[:-1])]
            else:
                _, rstd = _rmsnorm64(x2, g_v, 1e-6)
                rstd = f32(rstd)
                xhat = x2 * rstd[:, None]
                gg = dy2 * g_v
                exact_dx = rstd[:, None] * (gg - xhat * (gg * xhat).mean(-1, keepdims=True))
                exact = [exact_dx.reshape(shape), (dy2 * xhat).sum(0)]
                terms = [(rstd[:, None] * (np.abs(gg) + np.abs(gg).mean(-1, keepdims=True))).reshape(shape),
                         np.abs(dy2 * xhat).sum(0)]
                stats = [rstd.reshape(shape[:-1])]
        stat_inputs = [np.require(np.asarray(s, dtype=np.float32), requirements="C") for s in stats]
        if data.draw(st.integers(0, 9), label="stats in the wrong dtype") == 0:
            stat_inputs = [s.astype(np.float16) for s in stat_inputs]
            call_err(getattr(bs.ops, op), dy, x, g, *stat_inputs, impl=impl, expected=bs.InvalidArgumentError)
            return
        outs = call_ok(getattr(bs.ops, op), dy, x, g, *stat_inputs, impl=impl)
        for name, got, want, mag in zip(("dx", "dgamma", "dbeta"), outs, exact, terms):
            assert dtype_of(got) == dtype, name
            check(got, want, dtype, f"{op} {impl} {name}", mag)
    return fuzz


def _matmul_exact(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b with IEEE semantics term by term (BLAS may skip zeros or reorder infinities)."""
    with np.errstate(all="ignore"):
        return (a[..., :, :, None] * b[..., None, :, :]).sum(axis=-2)


def fuzz_matmul(data, version):
    dtype = data.draw(st.sampled_from(_dtype_choices(version)) if data.draw(st.integers(0, 4))
                      else st.sampled_from(FLOATS), label="dtype")
    m, n, k = (data.draw(DIMS, label=name) for name in "mnk")
    m, n, k = _cap([m, n, k], 3000)
    batch = data.draw(st.sampled_from([(), (), (1,), (3,), (2, 2), (0,)]), label="batch")
    shared = data.draw(st.booleans(), label="b shared across the batch")
    a, a_v = data.draw(layout(data.draw(values(batch + (m, k), dtype, scale=1.0)), dtype))
    b, b_v = data.draw(layout(data.draw(values(((k, n) if shared else batch + (k, n)), dtype, scale=1.0)), dtype))
    if dtype not in version["dtypes"]:
        exc = call_err(bs.ops.matmul, a, b, impl=version["version"], expected=bs.UnsupportedError)
        assert exc.reason == "unsupported_dtype"
        return
    if k > 0 and data.draw(st.integers(0, 9), label="mismatched k") == 0:
        bad = _to_dtype(np.zeros((k + 1, n)), dtype)
        call_err(bs.ops.matmul, a, bad, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.matmul, a, b, impl=version["version"])
    exact = _matmul_exact(a_v, b_v)
    check(out, exact, dtype, f"matmul {version['version']}", _matmul_exact(np.abs(a_v), np.abs(b_v)))


def fuzz_fill(data, version):
    dtype = data.draw(st.sampled_from(version["dtypes"]), label="dtype")
    shape = data.draw(st.one_of(shapes(0, 3), st.integers(0, 50)), label="shape")
    value = data.draw(st.one_of(st.floats(-1e6, 1e6), st.integers(-300, 300).map(float),
                                st.sampled_from([math.nan, math.inf, -math.inf, 2.0**63, -2.0**63, 1e20, 65520.0])),
                      label="value")
    if dtype in INTS:
        info = np.iinfo(dtype)
        if not (math.isfinite(value) and info.min <= math.trunc(value) <= info.max):
            call_err(bs.ops.fill, shape, value, dtype=dtype, impl=version["version"],
                     expected=bs.InvalidArgumentError)
            return
    out = call_ok(bs.ops.fill, shape, value, dtype=dtype, impl=version["version"])
    want_shape = (shape,) if isinstance(shape, int) else tuple(shape)
    assert tuple(out.shape) == want_shape and out.dtype == dtype
    got = as_f64(out) if dtype in FLOATS else out.numpy().astype(np.float64)
    want = np.full(want_shape, math.trunc(value) if dtype in INTS else round_to(value, dtype))
    np.testing.assert_array_equal(got, want)


def _random_dtype_shape(data, version):
    dtype = data.draw(st.sampled_from(version["dtypes"]), label="dtype")
    shape = data.draw(st.one_of(shapes(0, 3), st.integers(0, 50)), label="shape")
    return dtype, shape, (shape,) if isinstance(shape, int) else tuple(shape)


def fuzz_randn(data, version):
    dtype, shape, want_shape = _random_dtype_shape(data, version)
    valid = data.draw(st.integers(0, 3), label="valid arguments") > 0
    seed = data.draw(st.integers(0, 2**63 - 1) if valid else
                     st.one_of(st.integers(0, 2**63 - 1), st.sampled_from([-1, 2**63, 2**64, -2**70])), label="seed")
    mean = data.draw(st.sampled_from([0.0, 3.0, -1e3] + ([] if valid else [math.nan, math.inf])), label="mean")
    std = data.draw(st.sampled_from([1.0, 0.0, 0.5, 1e3] + ([] if valid else [-1.0, math.nan, math.inf])),
                    label="std")
    if not (0 <= seed < 2**63 and math.isfinite(mean) and math.isfinite(std) and std >= 0):
        call_err(bs.ops.randn, shape, seed=seed, dtype=dtype, mean=mean, std=std, impl=version["version"],
                 expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.randn, shape, seed=seed, dtype=dtype, mean=mean, std=std, impl=version["version"])
    again = call_ok(bs.ops.randn, shape, seed=seed, dtype=dtype, mean=mean, std=std, impl=version["version"])
    assert tuple(out.shape) == want_shape and out.dtype == dtype
    x = as_f64(out)
    assert np.all(np.isfinite(x)) and np.array_equal(x, as_f64(again))
    if std == 0:
        assert np.all(x == round_to(mean, dtype))


def fuzz_uniform(data, version):
    dtype, shape, want_shape = _random_dtype_shape(data, version)
    seed = data.draw(st.integers(0, 2**63 - 1), label="seed")
    low = data.draw(st.sampled_from([0.0, -2.0, 5.0, -1e3, -2.5, math.nan, -math.inf]), label="low")
    high = data.draw(st.sampled_from([1.0, 3.0, 5.0, 1e3, 255.5, -3.0, math.nan, math.inf]), label="high")
    # an integer dtype must hold both ends (after truncation): else a named error, not wrapped values
    fits = dtype not in INTS or all(np.iinfo(dtype).min <= math.trunc(v) <= np.iinfo(dtype).max
                                    for v in (low, high) if math.isfinite(v))
    if not (math.isfinite(low) and math.isfinite(high) and low <= high and fits):
        call_err(bs.ops.uniform, shape, seed=seed, dtype=dtype, low=low, high=high, impl=version["version"],
                 expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.uniform, shape, seed=seed, dtype=dtype, low=low, high=high, impl=version["version"])
    assert tuple(out.shape) == want_shape and out.dtype == dtype
    x = as_f64(out) if dtype in FLOATS else out.numpy().astype(np.float64)
    assert np.all(np.isfinite(x))
    if x.size and dtype in FLOATS:
        lo, hi = round_to(low, dtype), round_to(high, dtype)
        assert np.all((x >= lo) & (x <= hi)), (x.min(), x.max())
    elif x.size:
        assert np.all((x >= math.trunc(low)) & (x <= math.trunc(high))), (x.min(), x.max())


def fuzz_cast(data, version):
    src = data.draw(st.sampled_from(version["dtypes"]), label="from")
    dst = data.draw(st.sampled_from(version["dtypes"] + ["float64", "complex64", "int16"]), label="to")
    shape = data.draw(shapes(0, 3))
    if src in INTS:
        info = np.iinfo(src)
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        lo, hi = max(int(info.min), -2**53), min(int(info.max), 2**53)  # cast goes through double
        v = rng.integers(lo, hi, shape, endpoint=True, dtype=np.int64).astype(src)
        x = v if data.draw(st.booleans()) else np.flip(v.copy(), 0) if v.ndim else v
        x_v = x
    else:
        x, x_v = data.draw(layout(data.draw(values(shape, src, scale=data.draw(st.sampled_from([1.0, 100.0, 1e4])))),
                                  src))
    if dst not in version["dtypes"]:
        call_err(bs.ops.cast, x, dst, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.cast, x, dst, impl=version["version"])
    assert out.dtype == dst and tuple(out.shape) == tuple(shape)
    got = as_f64(out) if dst in FLOATS else out.numpy().astype(np.float64)
    src_v = np.asarray(x_v, dtype=np.float64)
    if dst in FLOATS or dst == "float64":
        # round to nearest even (exact for ints up to 2**53, which the values stay within)
        want = round_to(src_v, dst)
        assert np.array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got[~np.isnan(want)], want[~np.isnan(want)])
    else:
        info = np.iinfo(dst)
        with np.errstate(all="ignore"):
            t = np.trunc(src_v)
        # truncation where the value fits; NaN, inf and out-of-range values: any value (C++ leaves
        # them undefined; finding reported: they come out as INT_MIN / wrapped)
        fits = np.isfinite(t) & (t >= info.min) & (t <= info.max)
        np.testing.assert_array_equal(got[fits], t[fits])


def fuzz_transpose(data, version):
    dtype = data.draw(st.sampled_from(version["dtypes"]), label="dtype")
    shape = data.draw(shapes(1, 4))
    x, x_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
    if len(shape) < 2:
        call_err(bs.ops.transpose, x, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.transpose, x, impl=version["version"])
    _same_values(out, np.swapaxes(x_v, -1, -2), dtype)


def _same_values(out, want: np.ndarray, dtype: str) -> None:
    got = as_f64(out) if dtype in FLOATS else np.asarray(out, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert dtype_of(out) == dtype
    assert np.array_equal(got, want, equal_nan=True), "bytes moved wrongly"


def fuzz_contiguous(data, version):
    dtype = data.draw(st.sampled_from(version["dtypes"]), label="dtype")
    shape = data.draw(shapes(0, 4))
    x, x_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
    out = call_ok(bs.ops.contiguous, x, impl=version["version"])
    _same_values(out, x_v, dtype)
    flags = out.is_contiguous() if isinstance(out, bs.Tensor) else out.flags["C_CONTIGUOUS"]
    assert flags


def fuzz_concat(data, version):
    dtype = data.draw(st.sampled_from(version["dtypes"]), label="dtype")
    shape = data.draw(shapes(1, 3, limit=1500))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    parts = data.draw(st.integers(1, 4), label="parts")
    xs, vs = [], []
    for _ in range(parts):
        s = list(shape)
        s[dim] = data.draw(DIMS.map(lambda d: d % 9))
        x, v = data.draw(layout(data.draw(values(tuple(s), dtype)), dtype))
        xs.append(x)
        vs.append(v)
    if data.draw(st.integers(0, 9), label="one part mismatched") == 0 and len(shape) > 1:
        s = list(shape)
        other = (dim + 1) % len(shape)
        s[other] += 1
        xs.append(_to_dtype(np.zeros(s), dtype))
        call_err(bs.ops.concat, xs, dim=dim, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.concat, xs, dim=dim, impl=version["version"])
    _same_values(out, np.concatenate(vs, axis=dim), dtype)


def fuzz_reshape(data, version):
    dtype = data.draw(st.sampled_from(FLOATS + INTS), label="dtype")
    shape = data.draw(shapes(0, 3))
    x, x_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
    size = math.prod(shape)
    new = list(data.draw(st.permutations(list(shape) + [1] * data.draw(st.integers(0, 2)))))
    if new and size and data.draw(st.booleans(), label="-1"):
        new[data.draw(st.integers(0, len(new) - 1))] = -1
    if data.draw(st.integers(0, 5), label="wrong size") == 0:
        new = new + [2] if size else [-1, -1]
    try:
        want = np.reshape(x_v, new)
    except ValueError:
        call_err(bs.ops.reshape, x, new, expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.reshape, x, new)
    _same_values(out, want, dtype)


def fuzz_slice(data, version):
    dtype = data.draw(st.sampled_from(FLOATS + INTS), label="dtype")
    shape = data.draw(shapes(1, 3))
    x, x_v = data.draw(layout(data.draw(values(shape, dtype)), dtype))
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    index = st.one_of(st.none(), st.integers(-40, 40), st.sampled_from([2**62, -2**62, 2**63 - 1]))
    start, stop = data.draw(index, label="start"), data.draw(index, label="stop")
    step = data.draw(st.one_of(st.integers(-2, 5), st.sampled_from([2**62, 2**63 - 1])), label="step")
    ok = -len(shape) <= dim < len(shape) and step >= 1
    if ok:
        size = shape[dim]
        ok = all(i is None or -size <= i <= size for i in (start, stop))
    if not ok:
        call_err(bs.ops.slice, x, dim, start, stop, step, expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.slice, x, dim, start, stop, step)
    index_ = [slice(None)] * len(shape)
    index_[dim] = slice(start, stop, step)
    _same_values(out, x_v[tuple(index_)], dtype)


def fuzz_embedding(data, version):
    vocab, dim = data.draw(DIMS.map(lambda d: d % 50)), data.draw(DIMS)
    ids_shape = data.draw(shapes(0, 3, limit=200))
    w, w_v = data.draw(layout(data.draw(values((vocab, dim), "float32")), "float32"))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    ids = rng.integers(0, max(vocab, 1), ids_shape, dtype=np.int64)
    bad = data.draw(st.integers(0, 5), label="bad id") == 0 and ids.size
    if bad or (vocab == 0 and ids.size):
        if bad:
            ids.reshape(-1)[data.draw(st.integers(0, ids.size - 1))] = data.draw(
                st.sampled_from([-1, vocab, 2**62, -2**63]))
        call_err(bs.ops.embedding, w, ids, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.embedding, w, ids, impl=version["version"])
    _same_values(out, w_v[ids], "float32")


def fuzz_embedding_backward(data, version):
    vocab, dim = data.draw(DIMS.map(lambda d: d % 50)), data.draw(DIMS)
    ids_shape = data.draw(shapes(0, 3, limit=200))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    ids = rng.integers(0, max(vocab, 1), ids_shape, dtype=np.int64)
    dout, dout_v = data.draw(layout(data.draw(values(ids_shape + (dim,), "float32")), "float32"))
    if vocab == 0 and ids.size:
        call_err(bs.ops.embedding_backward, dout, ids, vocab, impl=version["version"],
                 expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.embedding_backward, dout, ids, vocab, impl=version["version"])
    if dim == 0 or ids.size == 0:
        _same_values(out, np.zeros((vocab, dim)), "float32")
        return
    with np.errstate(all="ignore"):
        exact = embedding_backward_ref(dout_v, ids, vocab)
        terms = embedding_backward_ref(np.abs(dout_v), ids, vocab)
    check(out, exact, "float32", f"embedding_backward {version['version']}", terms)


def _ce_inputs(data):
    rows, classes = data.draw(DIMS, label="rows"), data.draw(st.one_of(DIMS, LONG_DIMS), label="classes")
    rows, classes = _cap([rows, classes])
    logits, l_v = data.draw(layout(data.draw(values((rows, classes), "float32")), "float32"))
    ignore = data.draw(st.sampled_from([-100, -1, 0, 2**62]), label="ignore_index")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    targets = rng.integers(0, max(classes, 1), rows, dtype=np.int64)
    targets[rng.random(rows) < data.draw(st.sampled_from([0.0, 0.3, 1.0]))] = ignore
    bad = data.draw(st.integers(0, 7), label="bad target") == 0 and rows > 0
    if bad:
        targets[data.draw(st.integers(0, rows - 1))] = data.draw(st.sampled_from([classes, -3, 2**63 - 1]))
        bad = not np.all((targets == ignore) | ((targets >= 0) & (targets < classes)))
    return logits, l_v, targets, ignore, bad or classes == 0


def fuzz_cross_entropy(data, version):
    logits, l_v, targets, ignore, bad = _ce_inputs(data)
    reduction = data.draw(st.sampled_from(["mean", "none", "sum"]), label="reduction")
    if bad or reduction == "sum":
        call_err(bs.ops.cross_entropy, logits, targets, ignore_index=ignore, reduction=reduction,
                 impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.cross_entropy, logits, targets, ignore_index=ignore, reduction=reduction,
                  impl=version["version"])
    mean, rows = ref(cross_entropy_ref, l_v, targets, ignore)
    kept = targets != ignore
    if reduction == "none":
        terms = ref(lambda: np.abs(l_v).max(axis=1) + 1 if l_v.size else np.zeros(0))
        check(out, rows, "float32", f"cross_entropy {version['version']} rows", terms if l_v.size else None)
    else:
        check(np.atleast_1d(as_f64(out)), np.atleast_1d(mean), "float32", f"cross_entropy {version['version']} mean",
              np.atleast_1d(ref(lambda: np.abs(rows[kept]).mean() + 1 if kept.any() else 0.0)))


def fuzz_cross_entropy_backward(data, version):
    logits, l_v, targets, ignore, bad = _ce_inputs(data)
    dloss = data.draw(st.sampled_from([1.0, 0.5, -2.0, 0.0, math.nan, math.inf]), label="dloss")
    if bad or not math.isfinite(dloss):
        call_err(bs.ops.cross_entropy_backward, logits, targets, ignore_index=ignore, dloss=dloss,
                 impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.cross_entropy_backward, logits, targets, ignore_index=ignore, dloss=dloss,
                  impl=version["version"])
    if l_v.size == 0:
        assert as_f64(out).shape == l_v.shape
        return
    exact = ref(cross_entropy_backward_ref, l_v, targets, ignore, dloss)
    check(out, exact, "float32", f"cross_entropy_backward {version['version']}",
          ref(lambda: np.abs(exact) + abs(dloss) / max(int((targets != ignore).sum()), 1)))


def fuzz_rope(op: str):
    def fuzz(data, version):
        b, t, h = (data.draw(st.integers(0, 5)) for _ in range(3))
        dh = 2 * data.draw(st.integers(0, 40), label="half")
        if data.draw(st.integers(0, 9), label="odd head_dim") == 0:
            dh += 1
        base = data.draw(st.sampled_from([10000.0, 500000.0, 2.0, 0.0, -1.0, math.nan, math.inf]), label="base")
        offset = data.draw(st.sampled_from([0, 7, 4096, -1, 2**62, 2**63, 2**64]), label="position_offset")
        x, x_v = data.draw(layout(data.draw(values((b, t, h, dh), "float32")), "float32"))
        fn = getattr(bs.ops, op)
        if dh % 2 or not (math.isfinite(base) and base > 0) or not 0 <= offset < 2**63:  # 2**63: past int64
            call_err(fn, x, base=base, position_offset=offset, impl=version["version"],
                     expected=bs.InvalidArgumentError)
            return
        try:
            out = call(fn, x, base=base, position_offset=offset, impl=version["version"])
        except bs.InvalidArgumentError as exc:
            # positions past what float64 angles resolve may be refused, by name
            assert offset > 2**40 and "position_offset" in str(exc), exc
            return
        if offset > 2**40:  # the angle p * theta is meaningless in any precision there
            assert as_f64(out).shape == x_v.shape
            return
        exact = ref(rope_ref, x_v, base, offset, inverse=op == "rope_backward")
        check(out, exact, "float32", f"{op} {version['version']}", np.abs(x_v) * 2, nonfinite="loose")
    return fuzz


def fuzz_selective_scan(data, version):
    bsz, t, d, n = (data.draw(st.sampled_from([0, 1, 2, 3, 5, 17]), label=lab) for lab in "BTDN")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x_v = data.draw(values((bsz, t, d), "float32"))
    a_v = np.exp(-np.logaddexp(0.0, rng.standard_normal((bsz, t, d, n)))).astype(np.float32).astype(np.float64)
    if data.draw(st.booleans(), label="specials in a"):
        a_v[rng.random(a_v.shape) < 0.05] = data.draw(st.sampled_from([math.nan, math.inf, 0.0, 1.0]))
    b_v = data.draw(values((bsz, t, d, n), "float32"))
    c_v = data.draw(values((bsz, t, n), "float32"))
    with_h0 = data.draw(st.booleans(), label="h0")
    h0_v = data.draw(values((bsz, d, n), "float32")) if with_h0 else None
    chunk = data.draw(st.sampled_from([1, 2, 3, 64, 2**40, 0, -1, 2**63]), label="chunk")
    x, x_v = data.draw(layout(x_v, "float32"))
    a, a_v = data.draw(layout(a_v, "float32"))
    b, b_v = data.draw(layout(b_v, "float32"))
    c, c_v = data.draw(layout(c_v, "float32"))
    h0 = None
    if with_h0:
        h0, h0_v = data.draw(layout(h0_v, "float32"))
    if not 1 <= chunk < 2**63:
        call_err(bs.ops.selective_scan, x, a, b, c, h0, chunk=chunk, impl=version["version"],
                 expected=bs.InvalidArgumentError)
        return
    y, h_last = call_ok(bs.ops.selective_scan, x, a, b, c, h0, chunk=chunk, impl=version["version"])
    y_ref, h_ref = ref(scan_reference, x_v, a_v, b_v, c_v, h0_v)
    terms_y = ref(scan_reference, np.abs(x_v), np.abs(a_v), np.abs(b_v), np.abs(c_v),
                  None if h0_v is None else np.abs(h0_v))
    check(y, y_ref, "float32", f"selective_scan {version['version']} y", terms_y[0], nonfinite="loose")
    check(h_last, h_ref, "float32", f"selective_scan {version['version']} h_last", terms_y[1], nonfinite="loose")


def _visible(shape, causal: bool) -> np.ndarray:
    s = shape[-2]
    return np.tril(np.ones((s, s), bool)) if causal else np.ones((s, s), bool)


def attention64(q, k, v, causal: bool, scale):
    """(o, lse) in float64 (test_ops_attention.attention_ref's formula), except that a masked key
    is out of every sum: a NaN or inf in a future key or value never reaches an earlier query
    (as 0 * v would carry it)."""
    q, k, v = (np.asarray(t, np.float64) for t in (q, k, v))
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    vis = _visible(q.shape, causal)
    with np.errstate(all="ignore"):
        s = np.where(vis, np.einsum("bhid,bhjd->bhij", q, k) * scale, -np.inf)
        m = s.max(-1, keepdims=True, initial=-np.inf)
        e = np.where(vis, np.exp(s - m), 0.0)
        total = e.sum(-1, keepdims=True)
        p = e / total
        o = np.where(vis[..., None], p[..., :, :, None] * v[..., None, :, :], 0.0).sum(-2)
        return o, (m + np.log(total))[..., 0]


def attention_backward64(do, q, k, v, o, lse, causal: bool, scale, absolute: bool = False):
    """(dq, dk, dv) in float64 from the o and lse the op is given (masked pairs out of every sum);
    absolute=True: the same sums of magnitudes (what the result is summed from)."""
    do, q, k, v, o, lse = (np.asarray(t, np.float64) for t in (do, q, k, v, o, lse))
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    vis = _visible(q.shape, causal)
    f = np.abs if absolute else (lambda a: a)
    with np.errstate(all="ignore"):
        s = np.einsum("bhid,bhjd->bhij", q, k) * scale
        p = np.where(vis, np.exp(s - lse[..., None]), 0.0)
        dp = np.einsum("bhid,bhjd->bhij", f(do), f(v))
        r = (f(do) * f(o)).sum(-1, keepdims=True)
        ds = np.where(vis, p * (dp + r if absolute else dp - r), 0.0)
        dv = np.where(vis[..., None], p[..., None] * f(do)[..., :, None, :], 0.0).sum(-3)
        dq = np.where(vis[..., None], ds[..., None] * f(k)[..., None, :, :], 0.0).sum(-2) * scale
        dk = np.where(vis[..., None], ds[..., None] * f(q)[..., :, None, :], 0.0).sum(-3) * scale
    return dq, dk, dv


def _attention_inputs(data, version):
    dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
    shape = (data.draw(st.sampled_from([1, 1, 2, 0])), data.draw(st.sampled_from([1, 2, 0])),
             data.draw(st.sampled_from([0, 1, 2, 7, 33, 64, 65, 70])), data.draw(st.sampled_from([1, 2, 8, 16, 40])))
    causal = data.draw(st.booleans(), label="causal")
    bad_scale = st.sampled_from([0.0, -1.0, math.nan, math.inf])
    scale = data.draw(st.one_of(st.sampled_from([None, None, 0.7, 3.0]), bad_scale) if data.draw(st.integers(0, 5))
                      else bad_scale, label="scale")
    q, q_v = data.draw(layout(data.draw(values(shape, dtype, scale=1.0)), dtype))
    k, k_v = data.draw(layout(data.draw(values(shape, dtype, scale=1.0)), dtype))
    v, v_v = data.draw(layout(data.draw(values(shape, dtype, scale=1.0)), dtype))
    valid_scale = scale is None or (math.isfinite(scale) and scale > 0)
    return dtype, shape, causal, scale, valid_scale, (q, k, v), (q_v, k_v, v_v)


def fuzz_attention(data, version):
    dtype, shape, causal, scale, valid, (q, k, v), (q_v, k_v, v_v) = _attention_inputs(data, version)
    impl = version["version"]
    if not valid:
        call_err(bs.ops.attention, q, k, v, causal=causal, scale=scale, impl=impl, expected=bs.InvalidArgumentError)
        return
    o, lse = call_ok(bs.ops.attention, q, k, v, causal=causal, scale=scale, impl=impl, return_lse=True)
    o_ref, lse_ref = attention64(q_v, k_v, v_v, causal, scale)
    mag = attention64(q_v, k_v, np.abs(v_v), causal, scale)[0]
    check(o, o_ref, dtype, f"attention {impl} o", mag, nonfinite="loose")
    assert dtype_of(lse) == "float32"
    check(lse, lse_ref, "float32", f"attention {impl} lse", np.abs(lse_ref) + 1, nonfinite="loose")


def _attention_kv_inputs(data):
    """Grouped heads, a cache of cap slots with kv_len in use, an offset, a window, a mask:
    (q, do, k, v, mask, options)."""
    b, kv_heads, group = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    sq, cap, d = data.draw(st.integers(0, 5)), data.draw(st.integers(0, 7)), data.draw(st.integers(1, 9))
    kv_len, q_offset, window = data.draw(st.integers(0, cap)), data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4))
    causal, masked = data.draw(st.booleans()), data.draw(st.booleans())
    gen = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    q, do = (gen.standard_normal((2, b, kv_heads * group, sq, d)) * 2).astype(np.float32)
    k, v = (gen.standard_normal((2, b, kv_heads, cap, d)) * 2).astype(np.float32)
    mask = (gen.random((b, cap)) > 0.3).astype(np.float32) if masked else None
    return q, do, k, v, mask, {"causal": causal, "q_offset": q_offset, "kv_len": kv_len, "window": window}


def fuzz_attention_kv(data, version):
    from test_graph import attention_reference
    q, _, k, v, mask, opts = _attention_kv_inputs(data)
    causal, q_offset, kv_len, window = opts["causal"], opts["q_offset"], opts["kv_len"], opts["window"]
    o = call_ok(bs.ops.attention_kv, q, k, v, key_mask=mask, causal=causal, q_offset=q_offset, kv_len=kv_len,
                window=window, impl=version["version"])
    ref = attention_reference(q, k[:, :, :kv_len], v[:, :, :kv_len], causal,
                              None if mask is None else mask[:, :kv_len], q_offset, window)
    np.testing.assert_allclose(o, ref, rtol=1e-4, atol=1e-5)


def fuzz_attention_kv_backward(data, version):
    from test_graph import attention_backward_reference
    q, do, k, v, mask, opts = _attention_kv_inputs(data)
    if data.draw(st.integers(0, 6), label="bad do") == 0:
        call_err(bs.ops.attention_kv_backward, do[..., :0] if do.shape[-1] > 1 else do[:, :0], q, k, v, key_mask=mask,
                 impl=version["version"], expected=bs.InvalidArgumentError)
        return
    got = call_ok(bs.ops.attention_kv_backward, do, q, k, v, key_mask=mask, **opts, impl=version["version"])
    want = attention_backward_reference(do, q, k, v, opts["causal"], mask, opts["q_offset"], opts["window"],
                                        opts["kv_len"])
    for name, a, r in zip(("dq", "dk", "dv"), got, want):
        check(a, r, "float32", f"attention_kv_backward {name}", np.abs(r) + 1)


def fuzz_attention_backward(data, version):
    dtype, shape, causal, scale, valid, (q, k, v), (q_v, k_v, v_v) = _attention_inputs(data, version)
    impl = version["version"]
    do, do_v = data.draw(layout(data.draw(values(shape, dtype, scale=1.0)), dtype))
    # o and lse as the forward gives them (o rounded to the dtype, lse to float32)
    o_v, lse_v = attention64(q_v, k_v, v_v, causal, scale if valid else None)
    o_v, lse_v = round_to(o_v, dtype), round_to(lse_v, "float32")
    o, lse = _to_dtype(o_v, dtype), np.require(lse_v.astype(np.float32), requirements="C")
    if not valid:
        call_err(bs.ops.attention_backward, do, q, k, v, o, lse, causal=causal, scale=scale, impl=impl,
                 expected=bs.InvalidArgumentError)
        return
    grads = call_ok(bs.ops.attention_backward, do, q, k, v, o, lse, causal=causal, scale=scale, impl=impl)
    exact = attention_backward64(do_v, q_v, k_v, v_v, o_v, lse_v, causal, scale)
    mags = attention_backward64(do_v, q_v, k_v, v_v, o_v, lse_v, causal, scale, absolute=True)
    for name, got, want, mag in zip(("dq", "dk", "dv"), grads, exact, mags):
        assert dtype_of(got) == dtype, name
        check(got, want, dtype, f"attention_backward {impl} {name}", mag, nonfinite="loose")



# ---- the model layer's ops (conv, channel norms, dropout, positions, MoE, SSM) -----------------------
# float32 references (CPU only); inputs from a drawn seed; PyTorch in float64 as the reference
# where it has the op (it is in the test extra), NumPy formulas otherwise.
def _gen(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


def _f32(gen, *shape, scale=1.0):
    return (gen.standard_normal(shape) * scale).astype(np.float32)


def _torch():
    return pytest.importorskip("torch", reason="torch is not installed (test extra): the reference")


def _grads(torch, out, inputs, dy):
    (out * torch.from_numpy(dy.astype(np.float64))).sum().backward()
    return [t.grad.numpy() for t in inputs]


def _leaf(torch, *arrays):
    return [torch.from_numpy(a.astype(np.float64)).requires_grad_() for a in arrays]


def fuzz_dropout(data, version):
    gen = _gen(data)
    x = _f32(gen, *data.draw(shapes(0, 3, limit=2000)))
    p = data.draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0, -0.1, math.nan]), label="p")
    seed = data.draw(st.integers(0, 2**64 - 1), label="seed")
    if not 0 <= p < 1:
        call_err(bs.ops.dropout, x, p, seed, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    y = as_f64(call_ok(bs.ops.dropout, x, p, seed, impl=version["version"]))
    kept = y != 0
    np.testing.assert_allclose(y[kept], (x.astype(np.float64) / (1 - p))[kept], rtol=1e-6)
    # One mask: another CPU version (for a CUDA version, the CPU reference) gives the same bits.
    other = "v1" if version["version"] != "v1" or _DEVICE["name"] != "cpu" else "v2"
    np.testing.assert_array_equal(y, as_f64(bs.ops.dropout(x, p, seed, impl=other)))


def fuzz_sinusoidal(data, version):
    seq, dim = data.draw(st.integers(0, 40), label="seq"), data.draw(st.integers(-1, 33), label="dim")
    offset = data.draw(st.sampled_from([0, 1, 7, 1000, -1]), label="offset")
    if dim < 1 or offset < 0:
        call_err(bs.ops.sinusoidal_positions, seq, dim, 10000.0, offset, device=_DEVICE["name"],
                 impl=version["version"], expected=bs.InvalidArgumentError)
        return
    out = call_ok(bs.ops.sinusoidal_positions, seq, dim, 10000.0, offset, device=_DEVICE["name"],
                  impl=version["version"])
    angle = np.arange(offset, offset + seq)[:, None] / np.power(10000.0, 2 * (np.arange(dim) // 2) / dim)[None, :]
    check(out, np.where(np.arange(dim) % 2 == 0, np.sin(angle), np.cos(angle)), "float32", "sinusoidal_positions")


def _norm_terms(x, dy, gamma, rstd):
    """The scale of a normalisation backward's terms: |dy gamma| rstd, times (1 + rstd |x|) for
    the rounding of the saved float32 statistics (a set of nearly equal values has a large
    rstd, and dx is then ill-conditioned for any implementation that saves them)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    g = np.abs(dy.astype(np.float64) * gamma.reshape(shape))
    return g * rstd * (1 + rstd * np.abs(x.astype(np.float64)))


def fuzz_group_norm(backward: bool):
    def fuzz(data, version):
        torch = _torch()
        gen = _gen(data)
        n, groups, per = (data.draw(st.integers(1, 4), label=lab) for lab in ("n", "groups", "per"))
        spatial = data.draw(st.sampled_from([(), (1,), (5,), (3, 2)]), label="spatial")
        if per * int(np.prod(spatial)) == 1:
            per = 2  # a group of one value: torch refuses it (its variance is 0: y = beta here)
        c = groups * per
        x, gamma, beta = _f32(gen, n, c, *spatial, scale=3), _f32(gen, c), _f32(gen, c)
        bad = data.draw(st.integers(0, 5), label="bad groups") == 0 and c > 1
        g = c + 1 if bad else groups
        if bad:
            call_err(bs.ops.group_norm, x, gamma, beta, g, impl=version["version"] if not backward else None,
                     expected=bs.InvalidArgumentError)
            return
        tx, tg, tb = _leaf(torch, x, gamma, beta)
        want = torch.nn.functional.group_norm(tx, groups, tg, tb, 1e-5)
        if not backward:
            y, _, _ = call_ok(bs.ops.group_norm, x, gamma, beta, groups, impl=version["version"])
            check(y, want.detach().numpy(), "float32", "group_norm")
            return
        _, mean, rstd = bs.ops.group_norm(x, gamma, beta, groups)
        dy = _f32(gen, *x.shape)
        got = call_ok(bs.ops.group_norm_backward, dy, x, gamma, mean, rstd, groups, impl=version["version"])
        r = np.repeat(as_f64(rstd).reshape(n, groups), per, axis=1).reshape((n, c) + (1,) * len(spatial))
        terms = _norm_terms(x, dy, gamma, r)
        for name, a, b in zip(("dx", "dgamma", "dbeta"), got, _grads(torch, want, (tx, tg, tb), dy)):
            check(a, b, "float32", f"group_norm_backward {name}", terms if name == "dx" else np.abs(b) + 1)
    return fuzz


def fuzz_batch_norm(backward: bool):
    def fuzz(data, version):
        torch = _torch()
        gen = _gen(data)
        n, c = data.draw(st.integers(1, 5), label="n"), data.draw(st.integers(1, 6), label="c")
        spatial = data.draw(st.sampled_from([(), (4,), (3, 2)]), label="spatial")
        training = data.draw(st.booleans(), label="training")
        if training and n * int(np.prod(spatial)) == 1:
            training = False  # one value per channel: zero variance, torch's training mode rejects it
        x, gamma, beta = _f32(gen, n, c, *spatial, scale=2), _f32(gen, c), _f32(gen, c)
        rm, rv = _f32(gen, c), (gen.random(c) + 0.5).astype(np.float32)
        tx, tg, tb = _leaf(torch, x, gamma, beta)
        want = torch.nn.functional.batch_norm(tx, torch.from_numpy(rm.astype(np.float64)),
                                              torch.from_numpy(rv.astype(np.float64)), tg, tb, training, 0.1, 1e-5)
        if not backward:
            if not training and data.draw(st.booleans(), label="drop running stats"):
                call_err(bs.ops.batch_norm, x, gamma, beta, None, None, False, impl=version["version"],
                         expected=bs.InvalidArgumentError)
                return
            y, _, _ = call_ok(bs.ops.batch_norm, x, gamma, beta, rm, rv, training, impl=version["version"])
            check(y, want.detach().numpy(), "float32", "batch_norm")
            return
        _, mean, rstd = bs.ops.batch_norm(x, gamma, beta, rm, rv, training)
        dy = _f32(gen, *x.shape)
        got = call_ok(bs.ops.batch_norm_backward, dy, x, gamma, mean, rstd, training, impl=version["version"])
        terms = _norm_terms(x, dy, gamma, as_f64(rstd).reshape((1, c) + (1,) * len(spatial)))
        for name, a, b in zip(("dx", "dgamma", "dbeta"), got, _grads(torch, want, (tx, tg, tb), dy)):
            check(a, b, "float32", f"batch_norm_backward {name}", terms if name == "dx" else np.abs(b) + 1)
    return fuzz


def fuzz_depthwise(backward: bool):
    def fuzz(data, version):
        torch = _torch()
        gen = _gen(data)
        b, c, length, kernel = (data.draw(st.integers(1, n), label=lab) for lab, n in (("b", 3), ("c", 5), ("len", 9),
                                                                                      ("kernel", 5)))
        pad = data.draw(st.integers(0, 5), label="pad_left")
        x, w, bias = _f32(gen, b, c, length), _f32(gen, c, kernel), _f32(gen, c)
        out_len = length + pad - kernel + 1
        if out_len < 1:
            call_err(bs.ops.depthwise_conv1d, x, w, bias, pad, impl=version["version"] if not backward else None,
                     expected=bs.InvalidArgumentError)
            return
        tx, tw, tb = _leaf(torch, x, w, bias)
        want = torch.nn.functional.conv1d(torch.nn.functional.pad(tx, (pad, 0)), tw[:, None, :], tb, groups=c)
        if not backward:
            check(call_ok(bs.ops.depthwise_conv1d, x, w, bias, pad, impl=version["version"]), want.detach().numpy(),
                  "float32", "depthwise_conv1d")
            return
        dy = _f32(gen, b, c, out_len)
        got = call_ok(bs.ops.depthwise_conv1d_backward, dy, x, w, pad, impl=version["version"])
        for name, a, r in zip(("dx", "dw", "db"), got, _grads(torch, want, (tx, tw, tb), dy)):
            check(a, r, "float32", f"depthwise_conv1d_backward {name}", np.abs(r) + 1)
    return fuzz


def _window(data):
    kernel = (data.draw(st.integers(1, 4), label="kh"), data.draw(st.integers(1, 4), label="kw"))
    stride = (data.draw(st.integers(1, 3), label="sh"), data.draw(st.integers(1, 3), label="sw"))
    padding = (data.draw(st.integers(0, 2), label="ph"), data.draw(st.integers(0, 2), label="pw"))
    return kernel, stride, padding


def fuzz_unfold_fold(op: str):
    def fuzz(data, version):
        torch = _torch()
        gen = _gen(data)
        n, c, h, w = (data.draw(st.integers(1, m), label=lab) for lab, m in (("n", 2), ("c", 3), ("h", 7), ("w", 7)))
        kernel, stride, padding = _window(data)
        dilation = (data.draw(st.integers(1, 2), label="dh"), data.draw(st.integers(1, 2), label="dw"))
        ho = (h + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
        wo = (w + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
        if h + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1 < 0 or \
                w + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1 < 0:
            call_err(bs.ops.unfold, _f32(gen, n, c, h, w), kernel, stride, padding, dilation,
                     impl=version["version"] if op == "unfold" else None, expected=bs.InvalidArgumentError)
            return
        if op == "unfold":
            x = _f32(gen, n, c, h, w)
            want = torch.nn.functional.unfold(torch.from_numpy(x.astype(np.float64)), kernel, dilation, padding,
                                              stride).transpose(1, 2).numpy()
            check(call_ok(bs.ops.unfold, x, kernel, stride, padding, dilation, impl=version["version"]), want,
                  "float32", "unfold")
            return
        cols = _f32(gen, n, ho * wo, c * kernel[0] * kernel[1])
        want = torch.nn.functional.fold(torch.from_numpy(cols.astype(np.float64)).transpose(1, 2), (h, w), kernel,
                                        dilation, padding, stride).numpy()
        check(call_ok(bs.ops.fold, cols, c, h, w, kernel, stride, padding, dilation, impl=version["version"]), want,
              "float32", "fold", np.abs(want) + 1)
    return fuzz


def fuzz_pool(op: str):
    def fuzz(data, version):
        torch = _torch()
        F = torch.nn.functional
        gen = _gen(data)
        n, c, h, w = (data.draw(st.integers(1, m), label=lab) for lab, m in (("n", 2), ("c", 3), ("h", 8), ("w", 8)))
        kernel, stride, padding = _window(data)
        padding = (min(padding[0], kernel[0] // 2), min(padding[1], kernel[1] // 2))  # torch's rule
        if kernel[0] > h + 2 * padding[0] or kernel[1] > w + 2 * padding[1]:
            call_err(bs.ops.max_pool2d, _f32(gen, n, c, h, w), kernel, stride, padding,
                     impl=version["version"] if op == "max_pool2d" else None, expected=bs.InvalidArgumentError)
            return
        x = gen.permutation(n * c * h * w).reshape(n, c, h, w).astype(np.float32)  # distinct: one argmax
        tx = _leaf(torch, x)[0]
        if op.startswith("max"):
            want, idx = F.max_pool2d(tx, kernel, stride, padding, return_indices=True)
        else:
            want = F.avg_pool2d(tx, kernel, stride, padding)
        if op == "max_pool2d":
            y, got_idx = call_ok(bs.ops.max_pool2d, x, kernel, stride, padding, impl=version["version"])
            check(y, want.detach().numpy(), "float32", op)
            np.testing.assert_array_equal(as_f64(got_idx), idx.numpy())
        elif op == "avg_pool2d":
            check(call_ok(bs.ops.avg_pool2d, x, kernel, stride, padding, impl=version["version"]),
                  want.detach().numpy(), "float32", op)
        else:
            dy = _f32(gen, *want.shape)
            (dx_want,) = _grads(torch, want, (tx,), dy)
            if op == "max_pool2d_backward":
                got = call_ok(bs.ops.max_pool2d_backward, dy, idx.numpy(), h, w, impl=version["version"])
            else:
                got = call_ok(bs.ops.avg_pool2d_backward, dy, h, w, kernel, stride, padding, impl=version["version"])
            check(got, dx_want, "float32", op, np.abs(dx_want) + 1)
    return fuzz


def _routing(data, gen):
    tokens, experts = data.draw(st.integers(1, 9), label="tokens"), data.draw(st.integers(1, 6), label="experts")
    k = data.draw(st.integers(1, experts), label="k")
    logits = _f32(gen, tokens, experts, scale=2)
    return tokens, experts, k, logits


def _topk_numpy(logits, k):
    order = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(logits.astype(np.float64), order, 1)
    e = np.exp(top - top[:, :1])
    return e / e.sum(1, keepdims=True), order


def fuzz_topk_gate(data, version):
    gen = _gen(data)
    tokens, experts, k, logits = _routing(data, gen)
    if data.draw(st.integers(0, 5), label="bad k") == 0:
        call_err(bs.ops.topk_gate, logits, experts + 1, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    weights, idx = call_ok(bs.ops.topk_gate, logits, k, impl=version["version"])
    want_w, want_i = _topk_numpy(logits, k)
    np.testing.assert_array_equal(as_f64(idx), want_i)
    check(weights, want_w, "float32", "topk_gate weights")


def fuzz_topk_gate_backward(data, version):
    gen = _gen(data)
    tokens, experts, k, logits = _routing(data, gen)
    weights, idx = bs.ops.topk_gate(logits, k)
    dw = _f32(gen, tokens, k)
    got = call_ok(bs.ops.topk_gate_backward, dw, weights, idx, experts, impl=version["version"])
    w = as_f64(weights)
    want = np.zeros((tokens, experts))
    np.put_along_axis(want, as_f64(idx).astype(np.int64), w * (dw - (w * dw).sum(1, keepdims=True)), 1)
    check(got, want, "float32", "topk_gate_backward", np.abs(want) + 1)


def _grouping(data, gen):
    tokens, experts, k, logits = _routing(data, gen)
    _, idx = bs.ops.topk_gate(logits, k)
    idx = as_f64(idx).astype(np.int64)
    width = data.draw(st.integers(1, 7), label="width")
    return tokens, experts, k, idx, width


def _permutation_numpy(idx, experts):
    flat = idx.reshape(-1)
    order = np.argsort(flat, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=experts))])
    return order, offsets


def fuzz_moe_permute(data, version):
    gen = _gen(data)
    tokens, experts, k, idx, width = _grouping(data, gen)
    x = _f32(gen, tokens, width)
    if data.draw(st.integers(0, 5), label="bad index") == 0:
        bad = idx.copy()
        bad[0, 0] = data.draw(st.sampled_from([-1, experts]))
        call_err(bs.ops.moe_permute, x, bad, experts, impl=version["version"], expected=bs.InvalidArgumentError)
        return
    xs, order, offsets = call_ok(bs.ops.moe_permute, x, idx, experts, impl=version["version"])
    want_order, want_offsets = _permutation_numpy(idx, experts)
    np.testing.assert_array_equal(as_f64(order), want_order)
    np.testing.assert_array_equal(as_f64(offsets), want_offsets)
    check(xs, x[want_order // k], "float32", "moe_permute")


def fuzz_moe_permute_backward(data, version):
    gen = _gen(data)
    tokens, experts, k, idx, width = _grouping(data, gen)
    order, _ = _permutation_numpy(idx, experts)
    dxs = _f32(gen, tokens * k, width)
    want = np.zeros((tokens, width))
    np.add.at(want, order // k, dxs.astype(np.float64))
    check(call_ok(bs.ops.moe_permute_backward, dxs, order, tokens, impl=version["version"]), want, "float32",
          "moe_permute_backward", np.abs(want) + 1)
    if tokens * k > 1:
        call_err(bs.ops.moe_permute_backward, dxs, np.zeros_like(order), tokens, impl=version["version"],
                 expected=bs.InvalidArgumentError)


def fuzz_grouped_matmul(weight_grad: bool):
    def fuzz(data, version):
        gen = _gen(data)
        tokens, experts, k, idx, width = _grouping(data, gen)
        _, offsets = _permutation_numpy(idx, experts)
        rows, m = tokens * k, data.draw(st.integers(1, 6), label="m")
        xs = _f32(gen, rows, width)
        segments = [slice(offsets[e], offsets[e + 1]) for e in range(experts)]
        if not weight_grad:
            w = _f32(gen, experts, width, m)
            want = np.concatenate([xs[s].astype(np.float64) @ w[e] for e, s in enumerate(segments)])
            check(call_ok(bs.ops.grouped_matmul, xs, offsets, w, impl=version["version"]), want, "float32",
                  "grouped_matmul", np.abs(xs).sum(1, keepdims=True) * np.abs(w).max() + 1)
            if experts > 1:
                call_err(bs.ops.grouped_matmul, xs, offsets[::-1].copy(), w, impl=version["version"],
                         expected=bs.InvalidArgumentError)
            return
        dys = _f32(gen, rows, m)
        out_in = data.draw(st.booleans(), label="out_in")
        want = np.stack([xs[s].astype(np.float64).T @ dys[s] for s in segments])
        if out_in:
            want = want.transpose(0, 2, 1)
        check(call_ok(bs.ops.grouped_matmul_weight_grad, xs, dys, offsets, out_in, impl=version["version"]), want,
              "float32", "grouped_matmul_weight_grad", np.abs(want) + 1)
    return fuzz


def fuzz_moe_unpermute(backward: bool):
    def fuzz(data, version):
        gen = _gen(data)
        tokens, experts, k, idx, width = _grouping(data, gen)
        order, _ = _permutation_numpy(idx, experts)
        ys, weights = _f32(gen, tokens * k, width), gen.random((tokens, k)).astype(np.float32)
        row_of = np.empty_like(order)
        row_of[order] = np.arange(order.size)
        if not backward:
            want = np.einsum("tk,tkh->th", weights.astype(np.float64), ys[row_of].reshape(tokens, k, width))
            check(call_ok(bs.ops.moe_unpermute, ys, order, weights, impl=version["version"]), want, "float32",
                  "moe_unpermute", np.abs(want) + 1)
            return
        dout = _f32(gen, tokens, width)
        dys, dweights = call_ok(bs.ops.moe_unpermute_backward, dout, ys, order, weights, impl=version["version"])
        check(dys, weights.reshape(-1)[order, None].astype(np.float64) * dout[order // k], "float32", "dys")
        want = np.einsum("th,tkh->tk", dout.astype(np.float64), ys[row_of].reshape(tokens, k, width))
        check(dweights, want, "float32", "dweights", np.abs(want) + 1)
    return fuzz


def fuzz_mamba_ssm(backward: bool):
    def fuzz(data, version):
        torch = _torch()
        gen = _gen(data)
        b, t, d, n = (data.draw(st.integers(1, m), label=lab) for lab, m in (("b", 2), ("t", 7), ("d", 4), ("n", 5)))
        x, dt = _f32(gen, b, t, d), _f32(gen, b, t, d, scale=2)
        a_log, bm, cm, dv = _f32(gen, d, n, scale=0.5), _f32(gen, b, t, n), _f32(gen, b, t, n), _f32(gen, d)
        args = (x, dt, a_log, bm, cm, dv)
        if data.draw(st.integers(0, 6), label="bad shape") == 0:
            call_err(bs.ops.mamba_ssm, x, dt, a_log.T.copy() if d != n else a_log[:, :0], bm, cm, dv,
                     impl=version["version"] if not backward else None, expected=bs.InvalidArgumentError)
            return
        tx, tdt, ta, tb, tc, td = leaves = _leaf(torch, *args)
        delta = torch.nn.functional.softplus(tdt)
        h = torch.zeros(b, d, n, dtype=torch.float64)
        ys = []
        for i in range(t):
            h = torch.exp(delta[:, i, :, None] * -torch.exp(ta)) * h + delta[:, i, :, None] * tb[:, i, None, :] * \
                tx[:, i, :, None]
            ys.append((h * tc[:, i, None, :]).sum(-1) + td * tx[:, i])
        want = torch.stack(ys, 1)
        if not backward:
            check(call_ok(bs.ops.mamba_ssm, *args, impl=version["version"]), want.detach().numpy(), "float32",
                  "mamba_ssm", np.abs(want.detach().numpy()) + 1)
            return
        dy = _f32(gen, b, t, d)
        got = call_ok(bs.ops.mamba_ssm_backward, dy, *args, impl=version["version"])
        for name, a, r in zip(("dx", "ddt", "dA_log", "dB", "dC", "dD"), got, _grads(torch, want, leaves, dy)):
            check(a, r, "float32", f"mamba_ssm_backward {name}", np.abs(r) + 1)
    return fuzz


LAYER_FUZZERS = {
    "dropout": fuzz_dropout, "sinusoidal_positions": fuzz_sinusoidal,
    "group_norm": fuzz_group_norm(False), "group_norm_backward": fuzz_group_norm(True),
    "batch_norm": fuzz_batch_norm(False), "batch_norm_backward": fuzz_batch_norm(True),
    "depthwise_conv1d": fuzz_depthwise(False), "depthwise_conv1d_backward": fuzz_depthwise(True),
    "unfold": fuzz_unfold_fold("unfold"), "fold": fuzz_unfold_fold("fold"),
    **{op: fuzz_pool(op) for op in ("max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward")},
    "topk_gate": fuzz_topk_gate, "topk_gate_backward": fuzz_topk_gate_backward,
    "moe_permute": fuzz_moe_permute, "moe_permute_backward": fuzz_moe_permute_backward,
    "grouped_matmul": fuzz_grouped_matmul(False), "grouped_matmul_weight_grad": fuzz_grouped_matmul(True),
    "moe_unpermute": fuzz_moe_unpermute(False), "moe_unpermute_backward": fuzz_moe_unpermute(True),
    "mamba_ssm": fuzz_mamba_ssm(False), "mamba_ssm_backward": fuzz_mamba_ssm(True),
}

CUDA_FUZZED = set(LAYER_FUZZERS) | {"attention_kv", "attention_kv_backward"}


FUZZERS = {
    "add": fuzz_add_mul("add"), "mul": fuzz_add_mul("mul"), "axpy": fuzz_axpy,
    **{op: fuzz_activation(op) for op in ("relu", "gelu", "silu", "gelu_erf", "tanh")},
    **{f"{op}_backward": fuzz_activation_backward(f"{op}_backward")
       for op in ("relu", "gelu", "silu", "gelu_erf", "tanh")},
    **{op: fuzz_reduction(op) for op in ("sum", "mean", "max")},
    "attention_kv": fuzz_attention_kv, "attention_kv_backward": fuzz_attention_kv_backward,
    "softmax": fuzz_softmax("softmax"), "log_softmax": fuzz_softmax("log_softmax"),
    "softmax_backward": fuzz_softmax_backward("softmax_backward"),
    "log_softmax_backward": fuzz_softmax_backward("log_softmax_backward"),
    "layernorm": fuzz_norm("layernorm"), "rmsnorm": fuzz_norm("rmsnorm"),
    "layernorm_backward": fuzz_norm_backward("layernorm_backward"),
    "rmsnorm_backward": fuzz_norm_backward("rmsnorm_backward"),
    "matmul": fuzz_matmul, "fill": fuzz_fill, "randn": fuzz_randn, "uniform": fuzz_uniform, "cast": fuzz_cast,
    "transpose": fuzz_transpose, "contiguous": fuzz_contiguous, "concat": fuzz_concat,
    "reshape": fuzz_reshape, "slice": fuzz_slice,
    "embedding": fuzz_embedding, "embedding_backward": fuzz_embedding_backward,
    "cross_entropy": fuzz_cross_entropy, "cross_entropy_backward": fuzz_cross_entropy_backward,
    "rope": fuzz_rope("rope"), "rope_backward": fuzz_rope("rope_backward"),
    "selective_scan": fuzz_selective_scan,
    "attention": fuzz_attention, "attention_backward": fuzz_attention_backward,
    **LAYER_FUZZERS,
}
# ops with no registered versions (views): fuzzed once, under a pseudo-version
UNVERSIONED = {"reshape", "slice"}


def _array_arguments(op: str) -> list[str] | None:
    """The required arguments of the native op before `impl` (from its pybind11 signature),
    or None when it takes anything else than arrays (then it needs a fuzzer of its own)."""
    doc = (getattr(_core, op).__doc__ or "").strip().splitlines()[0]
    inside = doc[doc.index("(") + 1:doc.rindex(") ->")]
    names = []
    for part in inside.split(", "):
        name, _, rest = part.partition(": ")
        if name == "impl":
            return names or None
        if "=" in rest or rest.strip() != "object":
            return None
        names.append(name)
    return None


def fuzz_against_reference(op: str, arguments: list[str]):
    """An op with no fuzzer of its own (a new family needs none when it is elementwise): its
    array arguments drawn with one shape, any layout and special values; each version's
    output against the family's registered reference version on the same inputs."""
    reference = next(v["version"] for v in _core.op_versions() if v["op"] == op and v["reference"])

    def fuzz(data, version):
        dtype = data.draw(st.sampled_from(_dtype_choices(version)), label="dtype")
        shape = data.draw(shapes(0, 3))
        inputs = [data.draw(layout(data.draw(values(shape, dtype)), dtype))[0] for _ in arguments]
        fn = getattr(bs.ops, op)
        out = call_ok(fn, *inputs, impl=version["version"])
        want = as_f64(call_ok(fn, *inputs, impl=reference))
        assert dtype_of(out) == dtype
        check(out, want, dtype, f"{op} {version['version']} against {reference}")
    return fuzz


def fuzzer_for(op: str):
    """The op's own fuzzer, or the reference-version one when its arguments are all arrays."""
    if op in FUZZERS:
        return FUZZERS[op]
    arguments = _array_arguments(op) if hasattr(_core, op) else None
    return None if arguments is None else fuzz_against_reference(op, arguments)


def _op_functions() -> list[str]:
    """Every op bs.ops exports (functions taking arrays), minus helpers."""
    return sorted(name for name in bs.ops.__all__
                  if name not in ("versions", "Tensor") and callable(getattr(bs.ops, name)))


def _cases() -> list:
    cases = [pytest.param(v["op"], v, id=f"{v['op']}-{v['version']}") for v in bs.ops.versions(device="cpu")]
    # CUDA versions of the ops whose fuzzers draw float32 only (the others have CUDA tests of
    # their own across dtypes and layouts), where a CUDA device or the emulator is present.
    if CUDA:
        cases += [pytest.param(v["op"], v, id=f"{v['op']}-cuda-{v['version']}")
                  for v in bs.ops.versions(device="cuda") if v["op"] in CUDA_FUZZED]
    cases += [pytest.param(op, {"op": op, "version": None, "dtypes": FLOATS + INTS}, id=op)
              for op in sorted(UNVERSIONED)]
    return cases


def test_every_op_has_a_fuzzer():
    registered = {v["op"] for v in bs.ops.versions()}
    missing = sorted(op for op in registered if fuzzer_for(op) is None)
    assert not missing, f"ops without a fuzzer: {missing}"
    exported = set(_op_functions())
    missing = sorted(op for op in exported if fuzzer_for(op) is None)
    assert not missing, f"bs.ops functions without a fuzzer: {missing}"
    assert UNVERSIONED == exported - registered


@pytest.mark.parametrize("op,version", _cases())
@FUZZ
@given(data=st.data())
def test_op_matches_numpy_or_raises_a_named_error(op, version, data):
    fuzzer = fuzzer_for(op)
    assert fuzzer is not None, f"{op} has no fuzzer"
    _DEVICE["name"] = version.get("device", "cpu")
    try:
        fuzzer(data, version)
    finally:
        _DEVICE["name"] = "cpu"


# --------------------------------------------------------------------------------------------------
# any argument values at all: never an unnamed exception


ARRAY_DTYPES = FLOATS + INTS + ["float64", "bool", "complex64", "uint16", ">f4"]


@st.composite
def junk_array(draw):
    """Any small array: every dtype (supported or not), any rank, odd layouts; or not an array."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.sampled_from([None, [1.0, 2.0], "x", 3.5, object()]))
    dtype = draw(st.sampled_from(ARRAY_DTYPES))
    shape = draw(shapes(0, 5, limit=512))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype == "bfloat16":
        return bs.ops.cast(np.require(rng.standard_normal(shape).astype(np.float32), requirements="C"), "bfloat16")
    x = np.asarray(rng.standard_normal(shape) * 3).astype(dtype)
    return draw(st.sampled_from([x, x.T, x[..., ::-1]])) if x.ndim else x


# int arguments: small, negative, and past int64 (those the wrappers refuse by name). Huge sizes
# inside int64 (which would allocate) are exercised in child processes below.
JUNK_INTS = st.one_of(st.integers(-3, 70), st.sampled_from([-2**63, 2**63, 2**64, -2**63 - 1, -2**64, 10**30]))
# ...and for the ints that are positions or counts only (no memory): huge ones too
JUNK_INDEX = st.one_of(JUNK_INTS, st.sampled_from([2**31, 2**32 + 1, 2**62, 2**63 - 1]))
JUNK_FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), JUNK_INDEX, st.just(10**400))
SIZING = {"shape", "num_embeddings"}  # int arguments that size an allocation


@st.composite
def junk_arguments(draw, op: str):
    """Arguments for `op` by its signature: any values of the annotated kind (arrays of any
    dtype and shape, or not arrays at all; NaN / inf / huge numbers)."""
    sig = inspect.signature(getattr(bs.ops, op))
    args, kwargs = [], {}
    skipped = False
    for name, p in sig.parameters.items():
        if p.default is not inspect.Parameter.empty and draw(st.booleans()):
            skipped = True  # left at its default: later arguments go by name
            continue
        ann = str(p.annotation)
        if name == "device":
            value = draw(st.sampled_from(["cpu", "cuda", "cuda:7", "tpu", ""]))
        elif name == "impl":
            value = draw(st.sampled_from([None, "v1", "v2", "v3", "v9", ""]))
        elif name == "dtype":
            value = draw(st.sampled_from(FLOATS + INTS + ["float64", "nope"]))
        elif name == "xs":
            value = draw(st.lists(junk_array(), max_size=3))
        elif name == "shape":
            dims = st.one_of(st.integers(-3, 40), st.sampled_from([-2**63, 2**63, 2**64, -2**64]))
            value = draw(st.one_of(st.lists(dims, max_size=4), dims))
        elif name == "reduction":
            value = draw(st.sampled_from(["mean", "none", "sum"]))
        elif "bool" in ann:
            value = draw(st.booleans())
        elif "float" in ann and "int" not in ann:
            value = draw(st.one_of(JUNK_FLOATS, st.none()) if "None" in ann else JUNK_FLOATS)
        elif "int" in ann and "Any" not in ann:
            ints = JUNK_INTS if name in SIZING else JUNK_INDEX
            value = draw(st.one_of(ints, st.none()) if "None" in ann else ints)
        else:
            value = draw(junk_array())
        if p.kind is inspect.Parameter.KEYWORD_ONLY or kwargs or skipped or draw(st.booleans()):
            kwargs[name] = value
        else:
            args.append(value)
    return args, kwargs


def _run_junk(op: str, args, kwargs) -> None:
    fn = getattr(bs.ops, op)
    try:
        fn(*args, **kwargs)
    except NAMED:
        pass
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"bs.ops.{op} raised {type(exc).__name__} (not a benchsuite error): {exc}")


@pytest.mark.parametrize("op", _op_functions())
@settings(FUZZ, max_examples=max(10, EXAMPLES // 2))
@given(data=st.data())
def test_any_arguments_give_a_result_or_a_named_error(op, data):
    args, kwargs = data.draw(junk_arguments(op))
    _run_junk(op, args, kwargs)


# --------------------------------------------------------------------------------------------------
# huge sizes, in subprocesses: a clean exit, a skipped (oom) Result or InvalidArgumentError naming
# the parameter - never a signal


CHILD = textwrap.dedent("""
    import json, sys, math
    import numpy as np
    import benchsuite as bs
    settings = bs.HarnessSettings.smoke_settings()
    for line in sys.stdin:
        job = json.loads(line)
        print("START " + json.dumps(job), flush=True)
        try:
            if job["kind"] == "measure":
                r = bs.measure(job["case"], device="cpu", settings=settings, **job["params"])
                out = {"status": r.status, "reason": r.reason, "error": r.error}
            else:
                r = eval(job["code"], {"bs": bs, "np": np, "math": math})
                out = {"status": "returned", "type": type(r).__name__,
                       "shape": [int(s) for s in getattr(r, "shape", ())]}
        except bs.InvalidArgumentError as exc:
            out = {"status": "raised", "type": "InvalidArgumentError", "message": str(exc)}
        except bs.UnsupportedError as exc:
            out = {"status": "raised", "type": "UnsupportedError", "reason": exc.reason, "message": str(exc)}
        except BaseException as exc:
            out = {"status": "raised", "type": type(exc).__name__, "message": str(exc)[:300]}
        print("DONE " + json.dumps(out), flush=True)
""")


JOB_TIMEOUT = 10.0  # seconds one job may take in the child before it counts as hung (a smoke case: < 1 s)


def run_jobs(jobs: list[dict], job_timeout: float = JOB_TIMEOUT) -> list[tuple[dict, dict]]:
    """Run jobs in child processes, in order, one child for as many as it survives: a job that
    kills its child (a signal, an exit) or hangs past `job_timeout` gets an outcome saying so,
    and a fresh child takes the jobs after it. Returns (job, outcome) for every job."""
    results: list[tuple[dict, dict]] = []
    pending = list(jobs)
    while pending:
        err = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a chatty child never blocks on it
        proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
        proc.stdin.write("".join(json.dumps(j) + "\n" for j in pending))
        proc.stdin.close()
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)], daemon=True).start()
        started = 0
        deadline = time.monotonic() + job_timeout + 30  # the first job also waits for the import
        while True:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                proc.kill()
                proc.wait()
                results.append((pending[started], {"status": "hung", "seconds": job_timeout}))
                pending = pending[started + 1:]
                break
            if line is None:  # the child is gone
                rc = proc.wait()
                if started < len(pending):  # ...before finishing everything
                    how = f"signal {-rc}" if rc < 0 else f"exit code {rc}"
                    err.seek(0)
                    results.append((pending[started], {"status": "died", "how": how, "stderr": err.read()[-1500:]}))
                    pending = pending[started + 1:]
                else:
                    err.seek(0)
                    assert rc == 0, f"the child exited with {rc} after its last job: {err.read()[-1500:]}"
                    pending = []
                break
            if line.startswith("START "):
                deadline = time.monotonic() + job_timeout
            elif line.startswith("DONE "):
                results.append((pending[started], json.loads(line[5:])))
                started += 1
        err.close()
    return results


def _mentions(job: dict, message: str) -> bool:
    names = job.get("names") or list(job.get("params", {}))
    values = [str(v) for v in job.get("params", {}).values()] + [str(v) for v in job.get("values", [])]
    return any(n in message for n in names) or any(v in message for v in values if len(v) > 6)


def size_problem(job: dict, out: dict) -> str | None:
    """What is wrong with one job's outcome (None: fine). A huge size: a skipped Result with
    reason oom, or InvalidArgumentError naming the parameter (or its value); an ok Result only
    where the drawn parameter sizes nothing (a count, a chunk length); an op may also raise
    UnsupportedError with reason oom (an allocation beyond memory)."""
    what = json.dumps(job)
    status = out["status"]
    if status in ("hung", "died"):
        return f"{what}: the child {'hung (> %.0f s)' % out['seconds'] if status == 'hung' else 'died: ' + out['how']}"
    if status == "raised":
        if out["type"] == "UnsupportedError" and job["kind"] == "op" and out.get("reason") == "oom":
            return None
        if out["type"] != "InvalidArgumentError":
            return f"{what}: raised {out['type']}: {out.get('message')}"
        if not _mentions(job, out["message"]):
            return f"{what}: the error names no parameter ({job.get('names')}): {out['message']}"
        return None
    if job["kind"] == "measure":
        if status == "skipped":
            return None if out["reason"] == "oom" else f"{what}: skipped for {out['reason']!r}, expected 'oom'"
        if status == "ok" and job.get("may_run"):
            return None
        return f"{what}: {status} ({out.get('reason')}: {out.get('error')}); expected oom or InvalidArgumentError"
    return None if job.get("may_run") else f"{what}: returned {out}; a size this large must raise a named error"


def assert_sizes_fail_cleanly(jobs: list[dict]) -> None:
    problems = [p for p in (size_problem(job, out) for job, out in run_jobs(jobs)) if p]
    assert not problems, f"{len(problems)} of {len(jobs)} huge-size calls misbehaved:\n" + "\n".join(problems)


NAMED_HUGE = [
    {"kind": "measure", "case": "fill", "params": {"n": 2**62}},
    {"kind": "measure", "case": "softmax", "params": {"rows": 2**31, "cols": 2**31}},
    {"kind": "measure", "case": "matmul", "params": {"m": 2**32, "n": 2**32, "k": 1}},
    {"kind": "measure", "case": "softmax", "params": {"rows": 2**64, "cols": 4}},
    {"kind": "measure", "case": "matmul", "params": {"m": 2**32, "n": 2**32, "k": 1, "batch": 2**64}},
    # counts rather than sizes: still bounded by what a machine can do (or refused by name)
    {"kind": "measure", "case": "pool_churn", "params": {"buffers": 2**40, "bytes": 64}},
    {"kind": "measure", "case": "concat", "params": {"parts": 2**31, "rows": 1, "cols": 1, "dim": 0}},
    {"kind": "measure", "case": "busy_wait", "params": {"nanoseconds": 2**62}},
    {"kind": "op", "code": "bs.ops.fill((2**31, 2**31), 1.0)", "names": ["shape"]},
    {"kind": "op", "code": "bs.ops.fill((2**32, 2**32, 4), 1.0)", "names": ["shape"]},
    {"kind": "op", "code": "bs.ops.randn((2**33, 2**33))", "names": ["shape"]},
    # NumPy refuses a view of more than 2**63 bytes: 2**60 float32 is the most a stride-0 input can claim
    {"kind": "op", "code": "bs.ops.softmax(np.broadcast_to(np.float32(1), (2**30, 2**30)))", "names": ["shape", "x"]},
    {"kind": "op", "code": "bs.ops.embedding_backward(np.ones((1, 4), np.float32), np.zeros(1, np.int64), 2**62)",
     "names": ["num_embeddings"], "values": [2**62]},
]


def test_named_huge_sizes_fail_cleanly():
    assert_sizes_fail_cleanly(NAMED_HUGE)  # one child for all (a fresh one after any that dies)


def _cpu_families() -> list[dict]:
    return [f for f in _core.case_families() if "cpu" in f["devices"]]


HUGE = st.one_of(st.integers(2**38, 2**62), st.sampled_from([2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64, -1, -2**63]),
                 st.integers(2**63, 2**70), st.integers(-2**70, -1))
# parameters that size nothing: a huge value may simply run (or be refused by name)
COUNTS = {("selective_scan", "chunk"), ("concat", "dim")}


@st.composite
def huge_jobs(draw) -> list[dict]:
    """One job per CPU case family: one or more int parameters huge, the others small."""
    jobs = []
    for family in _cpu_families():
        ints = [p["name"] for p in family["params"] if p["type"] == "int"]
        if not ints:
            continue
        chosen = draw(st.lists(st.sampled_from(ints), min_size=1, max_size=len(ints), unique=True))
        params = {name: draw(HUGE) if name in chosen else draw(st.sampled_from([1, 2, 3, 64])) for name in ints}
        # the product must be beyond any machine's memory (2**40 elements at least)
        sized = [params[n] for n in chosen if params[n] > 0]
        if sized and math.prod(sized) < 2**40 and len(chosen) == len(sized):
            params[chosen[0]] = 2**40
        # the error may name any parameter (a small one may be what is invalid: pool_churn bytes >= 4)
        jobs.append({"kind": "measure", "case": family["name"], "params": params, "huge": chosen,
                     "names": [p["name"] for p in family["params"]],
                     "may_run": all((family["name"], n) in COUNTS for n in chosen)})
    return jobs


SUBPROCESS = settings(FUZZ, max_examples=max(1, EXAMPLES // 20), phases=[Phase.explicit, Phase.generate])


@SUBPROCESS
@given(jobs=huge_jobs())
def test_huge_case_parameters_fail_cleanly(jobs):
    assert_sizes_fail_cleanly(jobs)


@st.composite
def big_shape(draw, rank_max: int = 3) -> tuple[int, ...]:
    """A shape of 2**40 .. 2**60 elements (beyond memory; a float32 stride-0 view NumPy allows)."""
    a = draw(st.integers(2**20, 2**40))
    b = draw(st.integers(max(1, 2**40 // a + 1), 2**60 // a))
    dims = [a, b] + [1] * draw(st.integers(0, rank_max - 2))
    return tuple(draw(st.permutations(dims)))


# outputs sized from a stride-0 input: no memory on the way in, an impossible amount on the way out
BROADCAST_OPS = ["relu", "gelu", "softmax", "log_softmax", "sum", "mean", "max", "transpose", "contiguous",
                 "cast_f16", "add", "layernorm", "rmsnorm"]


def _broadcast_call(op: str, shape: tuple) -> str:
    x = f"np.broadcast_to(np.float32(1), {shape!r})"
    row = f"np.broadcast_to(np.float32(1), ({shape[-1]},))"
    return {"cast_f16": f"bs.ops.cast({x}, 'float16')", "add": f"bs.ops.add({x}, {x})",
            "layernorm": f"bs.ops.layernorm({x}, {row}, {row})", "rmsnorm": f"bs.ops.rmsnorm({x}, {row})",
            }.get(op, f"bs.ops.{op}({x})")


@st.composite
def huge_op_jobs(draw) -> list[dict]:
    """Op calls whose output would be beyond any machine's memory or past int64 altogether:
    created by shape, or sized from a stride-0 (np.broadcast_to) input."""
    jobs = []
    for fn in ("fill", "randn", "uniform"):
        shape = list(draw(st.one_of(big_shape(4), st.lists(HUGE_DIM, min_size=2, max_size=4))))
        extra = ", 1.0" if fn == "fill" else ""
        jobs.append({"kind": "op", "code": f"bs.ops.{fn}({shape!r}{extra})", "names": ["shape"]})
    for op in BROADCAST_OPS:
        shape = draw(big_shape(3))
        if op == "transpose" and len(shape) < 2:
            shape = (1,) + shape
        jobs.append({"kind": "op", "code": _broadcast_call(op, shape), "names": ["shape", "x", "a", "b"],
                     "values": list(shape)})
    m, n = draw(big_shape(2))
    jobs.append({"kind": "op", "names": ["shape", "a", "b", "m", "n"], "values": [m, n],
                 "code": f"bs.ops.matmul(np.broadcast_to(np.float32(1), ({m}, 1)), "
                         f"np.broadcast_to(np.float32(1), (1, {n})))"})
    vocab = draw(HUGE_DIM)
    jobs.append({"kind": "op", "names": ["num_embeddings"], "values": [vocab],
                 "code": f"bs.ops.embedding_backward(np.ones((1, 64), np.float32), np.zeros(1, np.int64), {vocab})"})
    dims = draw(st.lists(HUGE_DIM, min_size=1, max_size=3))
    jobs.append({"kind": "op", "names": ["shape"], "may_run": True,  # 0 elements: a valid view
                 "code": f"bs.ops.reshape(np.zeros(0, np.float32), {dims + [0]!r})"})
    return jobs


HUGE_DIM = st.one_of(st.integers(2**31, 2**62), st.sampled_from([2**31, 2**32, 2**40, 2**62, 2**63 - 1]))


@SUBPROCESS
@given(jobs=huge_op_jobs())
def test_huge_op_sizes_fail_cleanly(jobs):
    assert_sizes_fail_cleanly(jobs)
