"""Helpers shared by the op test files: registered versions as test parameters, moving
NumPy inputs to a device, reading results back, and the normwise error policy."""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs

from conftest import CUDA


def versions(op: str, device: str) -> list[str]:
    """Names of the registered versions of `op` on "cpu" or "cuda"."""
    return [v["version"] for v in bs.ops.versions(op, device)]


def all_versions(op: str, dtype: str | None = None) -> list:
    """(device, version) parameters for every registered version, CPU and CUDA; with dtype,
    only the versions that support it."""
    return [pytest.param(v["device"], v["version"], id=f"{v['device']}-{v['version']}")
            for d in ("cpu", "cuda") for v in bs.ops.versions(op, d) if dtype is None or dtype in v["dtypes"]]


def versions_on(op: str, device: str) -> list[str]:
    """The versions on `device`, skipping the test when that device is CUDA and absent."""
    if device == "cuda" and not CUDA:
        pytest.skip("no_cuda")
    return versions(op, device)


def on_device(x, device: str):
    """A NumPy input as the op should receive it: itself on "cpu", a CUDA bs.Tensor (a
    C-contiguous copy; 0-d stays 0-d) on "cuda". None passes through (optional inputs)."""
    if x is None or device == "cpu":
        return x
    if not CUDA:
        pytest.skip("no_cuda")
    return bs.Tensor.from_numpy(np.require(x, requirements="C")).to(device)


def to_host(y) -> np.ndarray:
    """An op's result as a host NumPy array."""
    if isinstance(y, bs.Tensor):
        return y.to("cpu").numpy()
    return np.asarray(y)


def relative_error(out, ref) -> float:
    """||out - ref|| / ||ref|| in float64 (absolute when ref is all zeros); NaN never passes."""
    out = np.asarray(out, dtype=np.float64)
    assert np.all(np.isfinite(out)), "non-finite output"
    denom = np.linalg.norm(ref)
    return float(np.linalg.norm(out - ref) / denom) if denom else float(np.linalg.norm(out - ref))


# ---- float16 / bfloat16 ------------------------------------------------------------------------
# Storage in the 16-bit type, math in fp32: a version's output is compared with the exact
# result (float64 from the up-converted 16-bit inputs). It must be within the dtype's
# tolerance (the C++ policy, ops/check.h) and no worse than twice the error of the exact
# result rounded once to the dtype (the best any 16-bit output can do), so an fp16/bf16
# path that loses precision on the way (a 16-bit accumulator, a double rounding through
# the other 16-bit type) fails even where the loose tolerance would let it pass.

FLOAT_DTYPES = ["float32", "float16", "bfloat16"]
LOW_DTYPES = ["float16", "bfloat16"]
TOLERANCE = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 1e-2, "float64": 1e-12}
# Cancellation noise per unit of ||terms|| (see assert_close_to_exact): fp32 arithmetic, or double.
TERM_NOISE = {"float64": 1e-14}


def bf16_round(x) -> np.ndarray:
    """float32 values rounded to the nearest bfloat16 (ties to even), as float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).view(np.float32)


def round_to(x, dtype: str) -> np.ndarray:
    """x rounded once to `dtype` (through float32 for bfloat16), as float64."""
    x = np.asarray(x, dtype=np.float64)
    if dtype == "bfloat16":
        return bf16_round(x.astype(np.float32)).astype(np.float64)
    return x.astype(dtype).astype(np.float64)


def make_input(x, dtype: str, device: str):
    """float data as the op receives it in `dtype` on `device`: a NumPy array (float32,
    float16) or a bs.Tensor (bfloat16, which NumPy lacks; everything on CUDA)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if dtype == "bfloat16":
        t = bs.ops.cast(x, "bfloat16")
        return t if device == "cpu" else on_device_tensor(t, device)
    return on_device(x.astype(dtype), device)


def on_device_tensor(t, device: str):
    if not CUDA:
        pytest.skip("no_cuda")
    return t.to(device)


def as_f64(y) -> np.ndarray:
    """Any op result (NumPy, bs.Tensor of any float dtype, any device) as float64 host values."""
    if isinstance(y, bs.Tensor):
        if y.dtype == "bfloat16":
            y = bs.ops.cast(y, "float32")
        y = y.to("cpu").numpy()
    return np.asarray(y, dtype=np.float64)


def dtype_of(y) -> str:
    return y.dtype if isinstance(y, bs.Tensor) else str(np.asarray(y).dtype)


def assert_close_to_exact(out, exact, dtype: str, what: str = "", terms=None) -> float:
    """The low-precision policy above (float32: the plain 1e-5 normwise bound); returns the
    normwise error. `terms`: the magnitudes of what the exact result is summed from where it
    can cancel (a + b, x - shift, a zero dx): fp32 arithmetic may then be off by ~1e-6 of
    ||terms|| however small the result, which no output dtype can fix."""
    exact = np.asarray(exact, dtype=np.float64)
    got = as_f64(out)
    assert got.shape == exact.shape, (what, got.shape, exact.shape)
    if exact.size == 0:
        return 0.0
    assert np.all(np.isfinite(got)), f"{what}: {np.sum(~np.isfinite(got))} non-finite outputs"
    diff, size = float(np.linalg.norm(got - exact)), float(np.linalg.norm(exact))
    noise = TERM_NOISE.get(dtype, 1e-6) * float(np.linalg.norm(np.asarray(terms, dtype=np.float64))) \
        if terms is not None else 0.0
    rel = diff / size if size else diff
    assert diff <= max(TOLERANCE[dtype] * size, noise), \
        f"{what}: normwise error {rel:.3g} > {dtype} tolerance {TOLERANCE[dtype]}"
    if dtype not in ("float32", "float64"):
        best = float(np.linalg.norm(round_to(exact, dtype) - exact))
        assert diff <= max(2 * best + 1e-7 * size, noise), \
            f"{what}: error {diff:.3g} > 2x the {dtype}-rounded exact result's {best:.3g}"
    return rel
