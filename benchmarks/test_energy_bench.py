"""The energy suite: energy per iteration of a large GEMM (NVML counter on a GPU, RAPL on
the CPU, `unavailable` with the reason elsewhere) and the caching pool's efficiency.

    pytest benchmarks/test_energy_bench.py            # smoke: one short sample, no energy window
    pytest -m energy benchmarks/test_energy_bench.py  # measure, with the energy window
"""
from __future__ import annotations

import pytest

from benchsuite.pytest_plugin import bench_session

pytestmark = pytest.mark.energy

GEMMS = {"cuda": dict(m=8192, n=8192, k=8192, dtype="float16"),
         "cpu": dict(m=512, n=512, k=512, dtype="float32")}


@pytest.fixture
def energy_settings(request):
    # the session's settings (smoke or the profile's) with the energy window switched on;
    # a smoke run skips the window anyway
    return bench_session(request.config).settings.replace(energy=True)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_gemm_energy(bench, energy_settings, device):
    result = bench("matmul", device=device, settings=energy_settings, **GEMMS[device])
    assert result.metrics["energy_estimate"]["source"] == "estimated"
    energy = result.metrics.get("energy")
    if energy is None:  # smoke: no window
        return
    if energy["source"] == "unavailable":
        assert energy["reason"]
        return
    assert energy["joules_per_iter"] > 0 and energy["repetitions"] > 0
    assert energy["derived"]["flop_per_joule"] > 0
    if device == "cuda":
        clocks = result.metrics["clocks"]
        assert clocks["samples"] > 0 and clocks["mean_sm_clock_mhz"] > 0


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_pool_efficiency(bench, device):
    off = bench("pool_churn", device=device, buffers=64, bytes=1 << 20, pool=False)
    on = bench("pool_churn", device=device, buffers=64, bytes=1 << 20, pool=True)
    assert on.extra["pool_enabled"] == 1 and off.extra["pool_enabled"] == 0
    assert off.stats.median > 0 and on.stats.median > 0
