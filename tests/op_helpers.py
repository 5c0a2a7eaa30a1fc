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
