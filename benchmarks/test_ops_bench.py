"""The ops benchmark suite: every case the profile sweeps (configs/*.yaml), measured
through the native harness, plus NumPy as the peer a CPU user would otherwise call.

    pytest benchmarks                 # smoke: one short sample per case
    pytest -m performance             # measure and write bench-results/<run_id>.json
"""
from __future__ import annotations

import numpy as np
import pytest

import benchsuite as bs

pytestmark = pytest.mark.performance


def test_case(bench, bs_case):
    result = bench(bs_case)
    assert result.stats is not None and result.stats.median > 0
    if result.metrics["correctness"] is not None:
        assert result.metrics["correctness"]["passed"]


@pytest.mark.parametrize("rows,cols", [(1024, 1024)])
def test_numpy_softmax_peer(bench, rows, cols):
    x = np.random.default_rng().standard_normal((rows, cols), dtype=np.float32)

    def numpy_softmax():
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    ours = np.asarray(bs.ops.softmax(x))
    np.testing.assert_allclose(ours, numpy_softmax(), rtol=1e-5, atol=1e-7)
    result = bench(numpy_softmax, params={"rows": rows, "cols": cols, "peer": "numpy"},
                   counters={"bytes_read": x.nbytes, "bytes_written": x.nbytes, "items": x.size,
                             "item_unit": "elements"})
    assert result.stats.median > 0


@pytest.mark.parametrize("size", [512])
def test_numpy_matmul_peer(bench, size):
    rng = np.random.default_rng()
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    result = bench(lambda: a @ b, params={"m": size, "n": size, "k": size, "peer": "numpy"},
                   counters={"flops": 2 * size**3, "math_dtype": "float32"})
    assert result.metrics["throughput"]["flop_per_s"] > 0
