"""Memory and the Profiler: the caching pool (reuse, size classes, stats, switching off),
the pool_churn case with the pool on and off, host peak RSS, and bs.Profiler's fields and
its results-schema record."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

import benchsuite as bs
from benchsuite import _core
from benchsuite.core.results import validate_record

from conftest import fast_settings


@pytest.fixture(autouse=True)
def pool_off():
    """Every test starts and ends with the pool off and empty."""
    bs.memory.set_caching_pool(False)
    bs.memory.empty_pool()
    yield
    bs.memory.set_caching_pool(False)
    bs.memory.empty_pool()


# ------------------------------------------------------------------------------ the pool

def test_pool_reuses_blocks_of_the_same_size_class(rng):
    with bs.memory.caching_pool():
        a = _core.empty([1000], "float32")
        ptr = a.data_ptr
        del a
        stats = bs.memory.pool_stats()
        assert stats["enabled"] and stats["returned"] == 1 and stats["cached_blocks"] == 1
        assert stats["cached_bytes"] == _core.pool_block_size(4000) == 4096
        b = _core.empty([990], "float32")  # 3960 bytes: the same 4096-byte block
        assert b.data_ptr == ptr
        assert bs.memory.pool_stats()["hits"] == 1 and bs.memory.pool_stats()["cached_blocks"] == 0
        # the reused block is ordinary memory: write and read it back
        x = rng.standard_normal(990).astype(np.float32)
        np.asarray(b)[:] = x
        np.testing.assert_array_equal(np.asarray(b), x)
        c = _core.empty([100_000], "float32")  # another size class: a fresh block
        assert c.data_ptr != ptr and bs.memory.pool_stats()["misses"] >= 2
        del b, c
    assert not bs.memory.caching_pool_enabled()
    assert bs.memory.pool_stats()["cached_blocks"] == 0  # switching off released them


def test_pool_off_does_not_cache():
    a = _core.empty([1000], "float32")
    del a
    stats = bs.memory.pool_stats()
    assert not stats["enabled"] and stats["cached_blocks"] == 0 and stats["hits"] == 0


def test_pool_keeps_tracking_stats_in_requested_bytes():
    bs.reset_memory_stats("cpu")
    with bs.memory.caching_pool():
        for _ in range(3):
            t = _core.empty([250], "float32")
            del t
    s = bs.memory_stats("cpu")
    assert s["allocation_count"] == 3 and s["allocated_bytes"] == 3000 and s["peak_bytes"] - s["bytes_in_use"] == 1000


def test_pool_block_sizes():
    assert _core.pool_block_size(0) == 512 and _core.pool_block_size(1) == 512
    assert _core.pool_block_size(1 << 20) == 1 << 20
    assert _core.pool_block_size((1 << 20) + 1) == (1 << 20) + (64 << 10)


def test_empty_pool_releases_and_zeroes():
    bs.memory.set_caching_pool(True)
    t = _core.empty([4096], "float32")
    del t
    assert bs.memory.pool_stats()["cached_blocks"] == 1
    bs.memory.empty_pool()
    s = bs.memory.pool_stats()
    assert s["enabled"] and s["cached_blocks"] == 0 and s["returned"] == 0


def test_pool_churn_case_with_and_without_pool():
    s = fast_settings(min_time=0.02)
    off = bs.measure("pool_churn", buffers=16, bytes=1 << 16, pool=False, settings=s)
    on = bs.measure("pool_churn", buffers=16, bytes=1 << 16, pool=True, settings=s)
    assert off.status == "ok" and on.status == "ok", (off.reasons, on.reasons)
    assert off.extra["pool_enabled"] == 0 and off.extra["pool_hits"] == 0
    assert on.extra["pool_enabled"] == 1 and on.extra["pool_hit_rate"] > 0.9
    assert on.counters["item_unit"] == "allocations" and on.counters["items"] == 16
    assert not bs.memory.caching_pool_enabled()  # the case restored the switch
    validate_record(on.to_dict())


def test_pool_efficiency_reports_the_speedup():
    out = bs.memory.pool_efficiency("cpu", buffers=32, nbytes=1 << 20, settings=fast_settings(min_time=0.02))
    assert out["without_pool_s"] > 0 and out["with_pool_s"] > 0
    assert out["speedup"] == pytest.approx(out["without_pool_s"] / out["with_pool_s"])
    assert out["speedup"] > 1  # 1 MiB blocks: the system allocator maps and unmaps them
    assert out["hit_rate"] > 0.9


# ------------------------------------------------------------------------------ host memory

def test_host_peak_rss_follows_a_reset():
    if not _core.reset_host_peak_rss():
        pytest.skip("this kernel does not let /proc/self/clear_refs reset the peak RSS")
    before = _core.host_peak_rss_bytes()
    big = np.ones(64 << 20, dtype=np.uint8)  # 64 MiB touched
    assert _core.host_peak_rss_bytes() >= before + (60 << 20)
    del big


# ------------------------------------------------------------------------------ Profiler

def test_profiler_fields_on_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BENCHSUITE_POWERCAP_ROOT", str(tmp_path / "absent"))
    with bs.Profiler(name="sleep and allocate") as p:
        time.sleep(0.05)
        block = np.ones(32 << 20, dtype=np.uint8)
        t = _core.empty([1 << 18], "float32")
    r = p.results
    assert r["wall_time_s"] >= 0.05 and 0 <= r["cpu_time_s"] < r["wall_time_s"]
    assert r["peak_host_memory_bytes"] >= (32 << 20)
    assert r["allocated_bytes"] == 1 << 20 and r["allocation_count"] == 1
    assert r["peak_device_memory_bytes"] is None  # a CPU block
    assert r["energy_j"] is None and r["energy"]["source"] == "unavailable"
    assert r["energy"]["reason"].startswith("RAPL not present")
    assert p.to_dict() == r and "sleep and allocate" in repr(p)
    record = p.result().to_dict()
    validate_record(record)
    assert record["stats"]["median"] == r["wall_time_s"] and record["metrics"]["energy"]["source"] == "unavailable"
    del block, t


def test_profiler_energy_from_fake_rapl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from test_energy import PowercapWriter
    monkeypatch.setenv("BENCHSUITE_POWERCAP_ROOT", str(tmp_path))
    with PowercapWriter(tmp_path, watts=80.0):
        time.sleep(0.02)
        with bs.Profiler() as p:
            time.sleep(0.3)
    e = p.results["energy"]
    assert e["source"] == "rapl" and e["repetitions"] == 1 and e["counter_updates"] >= 10
    assert p.results["energy_j"] == pytest.approx(80.0 * p.results["wall_time_s"], rel=0.25)
    assert p.results["mean_power_w"] == pytest.approx(80.0, rel=0.25)
    validate_record(p.result().to_dict())


def test_profiler_without_energy_and_errors():
    with bs.Profiler(energy=False) as p:
        pass
    assert p.results["energy"]["source"] == "unavailable" and "not requested" in p.results["energy"]["reason"]
    with pytest.raises(bs.InvalidArgumentError):
        bs.Profiler(device="tpu")
    with pytest.raises(bs.InvalidArgumentError):
        bs.Profiler().to_dict()
    with pytest.raises(ZeroDivisionError):  # the block's exception passes through
        with bs.Profiler() as q:
            1 / 0
    assert q.results is not None


def test_profiler_cuda_without_a_gpu():
    if bs.cuda_available()[0]:
        pytest.skip("a GPU is present")
    with bs.Profiler(device="cuda") as p:
        pass
    assert p.results["energy"]["source"] == "unavailable" and p.results["energy"]["reason"]


def test_profiler_threads_are_joined():
    before = threading.active_count()
    with bs.Profiler():
        pass
    assert threading.active_count() == before
