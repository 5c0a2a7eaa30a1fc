"""The Mamba SSM core's reference in float64: mamba_ssm v1 on float64 inputs agrees with its
float32 v1 on the same values to ~1e-6 and with the NumPy recurrence to 1e-12; its backward
with central differences of that recurrence; mixed dtypes are one clear error. (Every
version in float32: tests/test_fuzz_ops.py; the block against transformers:
tests/test_layers.py.)"""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs

from test_ops_moe import F64_TOL, both, close, f32


def _mamba_numpy(x, dt, a_log, bm, cm, dv):
    """The recurrence of ops/ssm/ssm.h in float64."""
    b, t, d = x.shape
    delta = np.where(dt > 20, dt, np.log1p(np.exp(np.minimum(dt, 20))))
    a = -np.exp(a_log)
    h = np.zeros((b, d, a_log.shape[1]))
    y = np.zeros_like(x)
    for i in range(t):
        h = np.exp(delta[:, i, :, None] * a) * h + delta[:, i, :, None] * bm[:, i, None, :] * x[:, i, :, None]
        y[:, i] = (h * cm[:, i, None, :]).sum(-1) + dv * x[:, i]
    return y


def test_mamba_ssm_reference_in_float64(rng):
    b, t, d, n = 2, 5, 3, 4
    args = [f32(rng, b, t, d), f32(rng, b, t, d, scale=2), f32(rng, d, n, scale=0.5), f32(rng, b, t, n),
            f32(rng, b, t, n), f32(rng, d)]
    y = both(bs.ops.mamba_ssm, *args)
    close(y, _mamba_numpy(*(a.astype(np.float64) for a in args)), F64_TOL, "mamba_ssm")

    # The backward: float64 against float32 to ~1e-6, and against central differences of the
    # NumPy recurrence (h = 1e-6: errors ~1e-9) for every input.
    dy = f32(rng, b, t, d)
    grads = both(bs.ops.mamba_ssm_backward, dy, *args)
    a64 = [a.astype(np.float64) for a in args]
    for which, got in enumerate(grads):
        num = np.zeros_like(a64[which])
        for idx in np.ndindex(num.shape):
            up = [a.copy() for a in a64]
            down = [a.copy() for a in a64]
            up[which][idx] += 1e-6
            down[which][idx] -= 1e-6
            num[idx] = ((_mamba_numpy(*up) - _mamba_numpy(*down)) * dy).sum() / 2e-6
        close(got, num, 1e-7, f"mamba_ssm_backward grad {which}")


def test_mamba_ssm_mixed_dtypes_are_one_error(rng):
    b, t, d, n = 1, 2, 2, 2
    args = [rng.standard_normal(s) for s in ((b, t, d), (b, t, d), (d, n), (b, t, n), (b, t, n), (d,))]
    args[3] = args[3].astype(np.float32)
    with pytest.raises(bs.InvalidArgumentError, match=r"mamba_ssm: B is .*must be float64"):
        bs.ops.mamba_ssm(*args)
    args[3] = args[3].astype(np.float64)
    with pytest.raises(bs.InvalidArgumentError, match=r"mamba_ssm_backward: dy is .*must be x's float64"):
        bs.ops.mamba_ssm_backward(np.zeros((b, t, d), np.float32), *args)
