"""Energy, clocks and throttling: the energy window against injected fake runners, monitors
and clocks (counter windows, sampled-power fallback, unavailable paths), RAPL through a fake
powercap tree (wraparound, sub-zones, unreadable / missing), the throttle policy on synthetic
samples, energy records in results, and the GPU check (counter vs. sampled power) where a
GPU is present."""
from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pytest

import benchsuite as bs
from benchsuite import _core
from benchsuite.core.errors import ConfigError
from benchsuite.core.results import validate_record
from benchsuite.harness.energy import derived_metrics, estimate_energy, load_energy_model

from conftest import fast_settings, requires_cuda


# ------------------------------------------------------------------------------ fakes

class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class FakeRunner(_core.WorkRunner):
    """A device that runs iterations of `iter_s` back to back; a batch counts as complete
    when its last iteration ends (as a CUDA event would); wait() advances the fake clock."""

    def __init__(self, clock: FakeClock, iter_s: float) -> None:
        super().__init__()
        self.clock, self.iter_s = clock, iter_s
        self.batches: list[tuple[float, int]] = []  # (finish time, iterations)
        self.device_free_at = 0.0

    def launch(self, n: int) -> None:
        start = max(self.clock.t, self.device_free_at)
        self.device_free_at = start + n * self.iter_s
        self.batches.append((self.device_free_at, n))

    def completed(self) -> int:
        return sum(n for end, n in self.batches if end <= self.clock.t)

    def wait(self, seconds: float) -> None:
        self.clock.t += seconds


class FakeMonitor(_core.DeviceMonitor):
    """Constant power `watts`; a total-energy counter that only moves every `period` seconds
    (like NVML's), or none; optional power readings and clock samples."""

    def __init__(self, clock: FakeClock, watts: float, period: float | None = 0.1,
                 power: bool = True, clocks: bool = False, reason: str = "") -> None:
        super().__init__()
        self.clock, self.watts, self.period, self.power, self.clocks = clock, watts, period, power, clocks
        self.reason = reason

    def kind(self) -> str:
        return "nvml"

    def energy_joules(self):
        if self.period is None:
            return None
        updated_at = math.floor(self.clock.t / self.period) * self.period
        return 1000.0 + self.watts * updated_at  # an offset: the counter counts since boot

    def power_watts(self):
        return self.watts if self.power else None

    def sample_clocks(self):
        if not self.clocks:
            return _core.ClockSample()
        return _core.ClockSample(sm_mhz=1980.0, mem_mhz=2619.0, temperature_c=55.0, power_w=self.watts,
                                 reasons=0)

    def counter_reason(self) -> str:
        return self.reason if self.period is None else ""


def window(monitor_kw=None, iter_s=0.002, watts=300.0, **settings):
    clock = FakeClock()
    runner = FakeRunner(clock, iter_s)
    monitor = FakeMonitor(clock, watts, **(monitor_kw or {}))
    base = {"min_counter_updates": 10, "min_window_s": 0.2, "max_window_s": 10.0, "warmup_s": 0.1,
            "poll_s": 0.0005}
    base.update(settings)
    return _core.measure_energy_window(runner, monitor, clock, base, iter_s), runner


# ------------------------------------------------------------------------------ the window

def test_counter_window_spans_ten_updates_and_reports_repetitions():
    r, runner = window()
    assert r["source"] == "nvml_counter" and r["reason"] is None
    # 100 ms counter updates: ten of them need about a second, far beyond min_window_s
    assert r["counter_updates"] >= 10
    assert r["window_s"] >= 0.9
    assert r["repetitions"] == pytest.approx(r["window_s"] / 0.002, rel=0.02)
    assert r["joules_per_iter"] == pytest.approx(300.0 * 0.002, rel=0.01)
    assert r["mean_power_w"] == pytest.approx(300.0, rel=0.01)
    # the drain ran every launched iteration outside the window
    assert runner.completed() == sum(n for _, n in runner.batches)


def test_counter_window_follows_min_updates_and_min_window():
    r, _ = window(min_counter_updates=3)
    assert 3 <= r["counter_updates"] <= 5 and r["window_s"] < 0.6
    r, _ = window(min_counter_updates=3, min_window_s=2.0)
    assert r["window_s"] >= 2.0 and r["counter_updates"] >= 19


def test_counter_quantisation_cancels_at_both_ends():
    # a window of a few coarse updates still gives the true power (fit between changes)
    for iter_s in (0.0013, 0.0071, 0.021):
        r, _ = window(iter_s=iter_s, min_counter_updates=10, min_window_s=0.0)
        assert r["joules_per_iter"] == pytest.approx(300.0 * iter_s, rel=0.02), iter_s


def test_window_stops_at_max_window_with_too_few_updates():
    r, _ = window(monitor_kw={"period": 1.0}, max_window_s=3.0, min_window_s=0.0)
    assert r["source"] == "nvml_counter"
    assert r["counter_updates"] < 10 and r["window_s"] == pytest.approx(3.0, abs=0.05)
    assert "only" in r["reason"] and "counter updates" in r["reason"]


def test_sampled_power_fallback_without_counter():
    r, _ = window(monitor_kw={"period": None, "reason": "the GPU has no total-energy counter"})
    assert r["source"] == "sampled_power"
    assert "no total-energy counter" in r["reason"] and "sampled power" in r["reason"]
    assert r["joules_per_iter"] == pytest.approx(300.0 * 0.002, rel=0.01)
    assert r["counter_updates"] is None and r["power_samples"] > 10


def test_counter_and_sampled_power_agree_and_clock_samples_are_collected():
    r, _ = window(monitor_kw={"clocks": True})
    assert r["sampled_power_joules_per_iter"] == pytest.approx(r["joules_per_iter"], rel=0.01)
    assert r["clock_samples"] and r["clock_samples"][0]["sm_mhz"] == 1980.0


def test_unavailable_when_neither_counter_nor_power():
    r, runner = window(monitor_kw={"period": None, "power": False, "reason": "NVML library not found"})
    assert r["source"] == "unavailable" and r["reason"] == "NVML library not found"
    assert r["joules_per_iter"] is None and runner.batches == []  # nothing was run


def test_window_settings_are_validated():
    with pytest.raises(bs.InvalidArgumentError, match="unknown key"):
        window(bogus=1)
    with pytest.raises(bs.InvalidArgumentError, match="max_window_s"):
        window(min_window_s=5.0, max_window_s=1.0)


def test_integrate_power_trapezoid():
    samples = [(0.0, 100.0), (1.0, 200.0), (2.0, 200.0)]
    assert _core.integrate_power(samples, 0.0, 2.0) == pytest.approx(150 + 200)
    assert _core.integrate_power(samples, 0.5, 1.5) == pytest.approx(0.5 * (150 + 200) / 2 + 0.5 * 200)
    # flat beyond the ends
    assert _core.integrate_power(samples, -1.0, 0.0) == pytest.approx(100.0)
    assert _core.integrate_power([], 0.0, 1.0) == 0.0


# ------------------------------------------------------------------------------ RAPL

def make_zone(root: Path, name: str, label: str, uj: int, max_uj: int = 2**32) -> Path:
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "name").write_text(label + "\n")
    (zone / "energy_uj").write_text(f"{uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return zone


def test_rapl_sums_packages_skips_subzones_and_handles_wraparound(tmp_path: Path):
    p0 = make_zone(tmp_path, "intel-rapl:0", "package-0", 1_000_000, max_uj=10_000_000)
    make_zone(tmp_path, "intel-rapl:0:0", "core", 5)  # inside package-0: not counted twice
    p1 = make_zone(tmp_path, "intel-rapl:1", "package-1", 0)
    rapl = _core.RaplMonitor(str(tmp_path))
    assert rapl.ok and rapl.reason == "" and rapl.zones == ["package-0", "package-1"]
    assert rapl.energy_joules() == 0.0
    (p0 / "energy_uj").write_text("3000000\n")
    (p1 / "energy_uj").write_text("500000\n")
    assert rapl.energy_joules() == pytest.approx(2.5)
    (p0 / "energy_uj").write_text("9999000\n")
    assert rapl.energy_joules() == pytest.approx(2.5 + 6.999)
    (p0 / "energy_uj").write_text("1000\n")  # wrapped at max_energy_range_uj
    assert rapl.energy_joules() == pytest.approx(2.5 + 6.999 + 0.001 + 0.001)


def test_rapl_root_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    make_zone(tmp_path, "intel-rapl:0", "package-0", 42)
    monkeypatch.setenv("BENCHSUITE_POWERCAP_ROOT", str(tmp_path))
    assert _core.RaplMonitor().ok
    assert bs.energy_status("cpu") == {"available": True, "source": "rapl", "reason": None}


def test_rapl_not_present_and_not_readable(tmp_path: Path):
    missing = _core.RaplMonitor(str(tmp_path / "nope"))
    assert not missing.ok and missing.reason.startswith("RAPL not present")
    assert missing.energy_joules() is None
    empty = _core.RaplMonitor(str(tmp_path))
    assert not empty.ok and "no intel-rapl:N zone" in empty.reason
    zone = tmp_path / "intel-rapl:0"
    (zone / "energy_uj").mkdir(parents=True)  # unreadable as a number (root ignores chmod)
    broken = _core.RaplMonitor(str(tmp_path))
    assert not broken.ok and broken.reason.startswith("RAPL not readable")
    assert "energy_uj" in broken.reason


class PowercapWriter:
    """Writes a fake package counter growing at `watts` (as the kernel would) on a thread."""

    def __init__(self, root: Path, watts: float) -> None:
        self.zone = make_zone(root, "intel-rapl:0", "package-0", 0, max_uj=2**40)
        self.watts, self.stop = watts, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stop.is_set():
            uj = int(self.watts * (time.monotonic() - t0) * 1e6)
            tmp = self.zone / "energy_uj.tmp"
            tmp.write_text(f"{uj}\n")
            tmp.replace(self.zone / "energy_uj")
            time.sleep(0.002)

    def __enter__(self) -> "PowercapWriter":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


# ------------------------------------------------------------------------------ records

def energy_settings(**changes):
    base = dict(energy=True, energy_min_window=0.2, energy_max_window=3.0, energy_warmup=0.05)
    base.update(changes)
    return fast_settings(**base)


def test_cpu_case_energy_unavailable_with_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BENCHSUITE_POWERCAP_ROOT", str(tmp_path / "absent"))
    r = bs.measure("busy_wait", nanoseconds=50_000, settings=energy_settings())
    assert r.status == "ok", r.reasons
    e = r.metrics["energy"]
    assert e["source"] == "unavailable" and e["reason"].startswith("RAPL not present")
    assert e["joules_per_iter"] is None and e["derived"]["mj_per_item"] is None
    validate_record(r.to_dict())


@pytest.mark.energy
def test_cpu_case_energy_from_fake_rapl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BENCHSUITE_POWERCAP_ROOT", str(tmp_path))
    with PowercapWriter(tmp_path, watts=50.0):
        r = bs.measure("busy_wait", nanoseconds=200_000, settings=energy_settings())
    e = r.metrics["energy"]
    assert e["source"] == "rapl", e
    assert e["counter_updates"] >= 10 and e["repetitions"] > 0 and e["window_s"] >= 0.2
    assert e["mean_power_w"] == pytest.approx(50.0, rel=0.25)
    assert e["joules_per_iter"] == pytest.approx(e["mean_power_w"] * e["window_s"] / e["repetitions"])
    assert e["derived"]["mj_per_iter"] == pytest.approx(e["joules_per_iter"] * 1e3)
    validate_record(r.to_dict())


def test_energy_only_when_asked_and_estimate_is_separate():
    r = bs.measure("matmul", m=64, n=64, k=64, settings=fast_settings())
    assert "energy" not in r.metrics
    est = r.metrics["energy_estimate"]
    assert est["source"] == "estimated" and est["model"] == "energy_model.yaml"
    flops = 2 * 64 ** 3
    model = load_energy_model()
    assert est["compute_joules"] == pytest.approx(flops * model["devices"]["cpu"]["pj_per_flop"]["float32"] * 1e-12)
    assert est["joules_per_iter"] > est["compute_joules"]  # plus memory traffic
    validate_record(r.to_dict())


def test_schema_keeps_estimates_out_of_measured_energy():
    r = bs.measure("matmul", m=32, n=32, k=32, settings=fast_settings())
    record = r.to_dict()
    record["metrics"]["energy"] = {"source": "estimated", "reason": None, "joules_per_iter": 1.0,
                                   "mean_power_w": None, "repetitions": None, "window_s": None,
                                   "counter_updates": None}
    with pytest.raises(bs.ResultsFileError, match="metrics.energy.source"):
        validate_record(record)
    record["metrics"]["energy"]["source"] = "unavailable"
    with pytest.raises(bs.ResultsFileError, match="reason"):
        validate_record(record)


def test_derived_metrics():
    d = derived_metrics(0.5, {"items": 100.0, "item_unit": "tokens", "flops": 1e12}, 0.01)
    assert d == {"mj_per_iter": 500.0, "mj_per_item": 5.0, "item_unit": "tokens",
                 "flop_per_joule": 2e12, "energy_delay_product": 0.005}
    assert derived_metrics(None, {"items": 1.0}, 0.01)["mj_per_item"] is None


def test_estimate_needs_counters_and_a_valid_model(tmp_path: Path):
    assert estimate_energy({"flops": None, "bytes_read": None}, "cpu") is None
    est = estimate_energy({"flops": 1e9, "math_dtype": "float16"}, "cuda")
    assert est["source"] == "estimated" and est["pj_per_flop"] == load_energy_model()["devices"]["cuda"]["pj_per_flop"]["float16"]
    bad = tmp_path / "model.yaml"
    bad.write_text("devices: {cpu: {pj_per_flop: {float32: -1}, pj_per_byte: 1}}\n")
    with pytest.raises(ConfigError, match="pj_per_flop"):
        load_energy_model(bad)


def test_cpu_records_have_memory_and_unavailable_clocks():
    r = bs.measure("add", n=1 << 16, settings=fast_settings())
    mem, clocks = r.metrics["memory"], r.metrics["clocks"]
    assert mem["allocation_count"] >= 3 and mem["allocated_bytes"] >= 3 * 4 * (1 << 16)
    assert mem["peak_bytes"] >= 3 * 4 * (1 << 16)
    assert mem["device_delta_bytes"] is None and mem["host_peak_rss_bytes"] > 0
    assert clocks["source"] == "unavailable" and "NVML" in clocks["reason"]
    assert clocks["samples"] == 0 and clocks["throttled_samples"] == 0
    validate_record(r.to_dict())


def test_energy_settings_and_env_var(monkeypatch: pytest.MonkeyPatch):
    from benchsuite.core.config import load_profile
    assert load_profile("quick", env={"BENCH_ENERGY": "1"}).harness.energy is True
    assert load_profile("quick", env={"BENCH_ENERGY": "no"}).harness.energy is False
    with pytest.raises(ConfigError, match="BENCH_ENERGY"):
        load_profile("quick", env={"BENCH_ENERGY": "maybe"})
    with pytest.raises(ConfigError, match="throttle_policy"):
        bs.HarnessSettings(throttle_policy="ignore")
    with pytest.raises(ConfigError, match="energy_max_window"):
        bs.HarnessSettings(energy_min_window=5.0, energy_max_window=1.0)
    _core.validate_settings(bs.HarnessSettings(energy=True).to_dict())


# ------------------------------------------------------------------------------ throttling

def spans(n):
    return [float(i) for i in range(n)], [i + 1.0 for i in range(n)]


def test_throttle_policy_discards_counts_and_invalidates():
    start, end = spans(10)
    timing = [1e-3 + (5e-3 if i in (3, 7) else 0) for i in range(10)]
    clocks = [_core.ClockSample(t=i + 0.5, sm_mhz=1000.0 if i in (3, 7) else 1980.0, mem_mhz=2619.0,
                                temperature_c=60.0, power_w=500.0, reasons=0x4 if i in (3, 7) else 0)
              for i in range(10)]
    out = _core.apply_throttle_policy(timing, start, end, clocks, 1980.0, 0.8, 0.1, True)
    c = out["clocks"]
    assert c["samples"] == 10 and c["throttled_samples"] == 2 and c["discarded_timing_samples"] == 2
    assert c["mean_sm_clock_mhz"] == pytest.approx(1980.0) and c["throttle_reasons"] == ["sw_power_cap"]
    assert out["samples"] == [1e-3] * 8
    assert len(out["invalid_reasons"]) == 1 and out["invalid_reasons"][0].startswith("throttled: 2 of 10")
    # a looser limit keeps the result valid; policy keep leaves the timing samples alone
    assert _core.apply_throttle_policy(timing, start, end, clocks, 1980.0, 0.8, 0.25, True)["invalid_reasons"] == []
    kept = _core.apply_throttle_policy(timing, start, end, clocks, 1980.0, 0.8, 0.25, False)
    assert kept["samples"] == timing and kept["clocks"]["discarded_timing_samples"] == 0
    assert kept["clocks"]["mean_sm_clock_mhz"] == pytest.approx((8 * 1980 + 2 * 1000) / 10)


def test_throttle_policy_fraction_and_idle_samples():
    start, end = spans(4)
    clocks = [_core.ClockSample(t=0.5, sm_mhz=1700.0, reasons=0), _core.ClockSample(t=1.5, sm_mhz=345.0, reasons=0x1),
              _core.ClockSample(t=2.5, sm_mhz=1980.0, reasons=0), _core.ClockSample(t=3.5, sm_mhz=1980.0)]
    out = _core.apply_throttle_policy([1.0] * 4, start, end, clocks, 1980.0, 0.9, 0.0, True)
    c = out["clocks"]
    assert c["idle_samples"] == 1 and c["throttled_samples"] == 1  # 1700 < 0.9 * 1980; idle is not throttling
    assert out["invalid_reasons"]
    out = _core.apply_throttle_policy([1.0] * 4, start, end, clocks, 1980.0, 0.8, 0.0, True)
    assert out["clocks"]["throttled_samples"] == 0 and out["invalid_reasons"] == []
    # without a known maximum the highest sample stands in
    assert _core.apply_throttle_policy([1.0] * 4, start, end, clocks, None)["clocks"]["max_sm_clock_mhz"] == 1980.0


# ------------------------------------------------------------------------------ GPU

def test_nvml_unavailable_is_a_reason_not_an_error():
    status = _core.nvml_status()
    if status["available"]:
        pytest.skip("NVML is present here")
    assert status["reason"] and status["driver_version"] is None
    state = _core.nvml_device_state(0)
    assert state["available"] is False and state["reason"] and state["power_limit_w"] is None
    assert bs.energy_status("cuda")["source"] == "unavailable"


@requires_cuda
@pytest.mark.energy
def test_gpu_gemm_energy_from_counter_matches_sampled_power():
    status = bs.energy_status("cuda")
    if status["source"] == "unavailable":  # before a 30-second GEMM that could only say so
        pytest.skip(f"no energy on this GPU: {status['reason']}")
    settings = fast_settings(energy=True, energy_min_window=3.0, energy_warmup=1.5, min_time=0.5,
                             timeout=30.0)
    r = bs.measure("matmul", device="cuda", m=8192, n=8192, k=8192, dtype="float16", settings=settings)
    assert r.stats is not None, r.reasons
    e, c = r.metrics["energy"], r.metrics["clocks"]
    if e["source"] == "unavailable":
        pytest.skip(f"no energy on this GPU: {e['reason']}")
    assert e["joules_per_iter"] > 0 and e["repetitions"] > 0 and e["mean_power_w"] > 0
    if e["source"] == "nvml_counter":
        assert e["counter_updates"] >= 10
        assert abs(e["counter_vs_sampled_power"]) < 0.10, e
    assert e["derived"]["flop_per_joule"] > 0
    assert c["source"] == "nvml" and c["samples"] > 0 and c["mean_sm_clock_mhz"] > 0
    assert isinstance(c["throttled_samples"], int) and isinstance(c["throttle_reasons"], list)
    validate_record(r.to_dict())
