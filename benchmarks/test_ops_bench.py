"""The ops benchmark suite: every case the profile sweeps (configs/*.yaml), measured
through the native harness, with its peers (NumPy on CPU, PyTorch eager on CUDA)
measured in the same run so each record carries its speedup over them.

    pytest benchmarks                 # smoke: one short sample per case
    pytest -m performance             # measure and write bench-results/<run_id>.json
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.performance


def test_case(bench, bs_case):
    result = bench(bs_case)
    assert result.stats is not None and result.stats.median > 0
    if result.metrics["correctness"] is not None:
        assert result.metrics["correctness"]["passed"]
    for name, peer in result.metrics.get("peers", {}).items():
        assert peer["status"] in ("ok", "invalid", "skipped"), name
        assert peer["status"] == "skipped" or peer["speedup"] > 0, name
