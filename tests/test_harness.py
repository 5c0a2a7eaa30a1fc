"""The measurement loop: settings validation, stop rule, validity, CPU timing accuracy,
callables, and records that validate against the results schema."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

import benchsuite as bs
from benchsuite import _core
from benchsuite.core.results import validate_record

from conftest import fast_settings


@pytest.mark.parametrize("key,value,message", [
    ("min_samples", 0, "settings.min_samples=0"),
    ("min_samples", -3, "settings.min_samples=-3"),
    ("max_noise", float("nan"), "settings.max_noise=nan"),
    ("max_noise", 1.5, "settings.max_noise=1.5"),
    ("timeout", -1.0, "settings.timeout=-1"),
    ("timeout", float("inf"), "settings.timeout=inf"),
    ("min_time", float("nan"), "settings.min_time=nan"),
    ("mode", "warm", "settings.mode='warm'"),
    ("warmup", 1.5, "settings.warmup=1.5"),
    ("keep_samples", 1, "settings.keep_samples=1"),
    ("bogus", 1, "settings.bogus"),
])
def test_native_settings_errors_name_key_and_value(key, value, message):
    with pytest.raises(bs.InvalidArgumentError) as info:
        _core.measure_callable(lambda: None, "cpu", {key: value})
    assert message in str(info.value)


def test_python_settings_errors_name_key_and_value():
    with pytest.raises(bs.ConfigError, match="harness.max_noise"):
        bs.HarnessSettings(max_noise=float("nan"))
    with pytest.raises(bs.ConfigError, match="harness.min_samples"):
        bs.HarnessSettings(min_samples=-1)


def test_stop_rule_min_samples_and_time():
    s = fast_settings(min_samples=7, max_samples=100, min_time=0.02, max_noise=None)
    raw = _core.measure_callable(lambda: time.sleep(0.001), "cpu", s.to_dict())
    assert raw["stop_reason"] == "min_samples_and_time"
    assert len(raw["samples"]) >= 7
    assert raw["sampled_time_s"] >= 0.02


def test_stop_rule_max_samples():
    s = fast_settings(min_samples=3, max_samples=4, min_time=10.0, max_noise=None, timeout=30)
    raw = _core.measure_callable(lambda: None, "cpu", s.to_dict())
    assert raw["stop_reason"] == "max_samples" and len(raw["samples"]) == 4
    assert raw["invalid_reasons"] == []


def test_stop_rule_noise_converges_on_a_steady_function():
    s = fast_settings(min_samples=10, max_samples=10000, min_time=0.01, max_noise=0.2, timeout=10)
    raw = _core.measure_callable(lambda: sum(range(200)), "cpu", s.to_dict())
    assert raw["stop_reason"] == "noise_converged"
    assert raw["stats"]["noise"] <= 0.2


def test_timeout_before_min_samples_is_invalid():
    s = fast_settings(min_samples=1000, max_samples=2000, min_time=0, timeout=0.2, warmup=0,
                      min_sample_time=0.01)
    r = bs.measure(lambda: time.sleep(0.02), settings=s)
    assert r.status == "invalid"
    assert r.measurement["stop_reason"] == "timeout"
    assert any(x.startswith("too_few_samples") for x in r.reasons)
    assert any(x.startswith("timeout_before_min_samples") for x in r.reasons)
    assert r.reason == "too_few_samples"
    validate_record(r.to_dict())


def test_noise_above_limit_is_invalid():
    # Alternate 1 ms and 3 ms calls: the median's CI cannot get under 1%.
    state = {"i": 0}

    def jumpy():
        state["i"] += 1
        time.sleep(0.001 if state["i"] % 2 else 0.003)

    s = fast_settings(min_samples=10, max_samples=30, min_time=0, max_noise=0.01, warmup=0,
                      min_sample_time=1e-6)
    r = bs.measure(jumpy, settings=s)
    assert r.status == "invalid"
    assert any(x.startswith("noise_above_limit") for x in r.reasons)


def test_cpu_timer_accuracy_on_a_busy_wait_of_known_length():
    s = fast_settings(min_samples=20, max_samples=200, min_time=0.05, max_noise=None,
                      min_sample_time=0.002)
    r = bs.measure("busy_wait", nanoseconds=200_000, settings=s)
    assert r.status == "ok", r.reasons
    assert r.extra["expected_seconds"] == pytest.approx(2e-4)
    # the minimum is the least disturbed sample; it cannot be below the wait itself
    assert 2e-4 <= r.stats.min < 2e-4 * 1.05
    # the median can only be inflated by other load on the machine, never deflated
    assert 2e-4 <= r.stats.median < 2e-4 * 1.5
    # calibrated so one sample lasts about min_sample_time (the calibration run may itself
    # be slowed by the machine, which lowers the count a little)
    assert r.measurement["loops_per_sample"] * 2e-4 >= 0.5 * 0.002


def test_loops_are_calibrated_above_timer_resolution():
    res = _core.timer_resolution()
    assert 0 < res < 1e-5
    raw = _core.measure_callable(lambda: None, "cpu", fast_settings(min_sample_time=1e-3).to_dict())
    per_sample = raw["loops_per_sample"] * raw["stats"]["median"]
    assert per_sample >= 1000 * res


def test_smoke_mode_takes_one_sample():
    s = bs.HarnessSettings.smoke_settings()
    r = bs.measure("softmax", rows=8, cols=8, settings=s)
    assert r.status == "ok"
    assert r.stats.n == 1 and r.measurement["smoke"] is True
    assert r.measurement["stop_reason"] == "smoke"


def test_case_result_record_is_complete_and_valid():
    r = bs.measure("matmul", m=33, n=65, k=17, settings=fast_settings())
    assert r.status == "ok" and r.implementation in ("v1", "v2")
    assert r.name == f"matmul[cpu,{r.implementation},m=33,n=65,k=17,batch=1,dtype=float32]"
    assert r.counters["flops"] == 2 * 33 * 65 * 17
    tp = r.metrics["throughput"]
    assert tp["flop_per_s"] == pytest.approx(r.counters["flops"] / r.stats.median)
    assert r.metrics["latency_p50_ms"] == pytest.approx(r.stats.median * 1e3)
    assert r.metrics["correctness"]["passed"] is True
    assert r.metrics["peak_memory_bytes"] >= 4 * (33 * 17 + 17 * 65 + 33 * 65)
    d = r.to_dict()
    validate_record(d)
    assert len(d["samples"]) == r.stats.n


def test_keep_samples_false_drops_samples():
    r = bs.measure("add", n=1000, settings=fast_settings(keep_samples=False))
    assert r.samples is None and "samples" not in r.to_dict()


def test_callable_with_counters_and_peer_ratio_inputs(rng):
    a = rng.standard_normal((64, 64), dtype=np.float32)
    r = bs.measure(lambda: a @ a, name="numpy_matmul", counters={"flops": 2 * 64**3},
                   settings=fast_settings())
    assert r.status == "ok" and r.backend == "python" and r.case == "callable"
    assert r.metrics["throughput"]["flop_per_s"] > 0
    validate_record(r.to_dict())


def test_callable_errors_become_failed_records():
    def broken():
        raise RuntimeError("boom")

    r = bs.measure(broken, settings=fast_settings())
    assert r.status == "failed" and "boom" in r.error
    validate_record(r.to_dict())


def test_bad_measure_arguments_raise():
    with pytest.raises(bs.InvalidArgumentError, match="nope"):
        bs.measure("nope")
    with pytest.raises(bs.InvalidArgumentError, match="rowz"):
        bs.measure("softmax", rowz=3, settings=fast_settings())
    with pytest.raises(bs.InvalidArgumentError, match="rows=-4"):
        bs.measure("softmax", rows=-4, settings=fast_settings())
    with pytest.raises(bs.InvalidArgumentError, match="not callable"):
        bs.measure(42)
    with pytest.raises(bs.InvalidArgumentError, match=r"counters\['flops'\]"):
        bs.measure(lambda: None, counters={"flops": float("nan")})


def test_unsupported_dtype_is_a_skip_with_reason():
    r = bs.measure("softmax", rows=4, cols=4, dtype="int32", settings=fast_settings())
    assert r.status == "skipped" and r.reason in ("unsupported_dtype",)
    validate_record(r.to_dict())


def test_reference_too_large_is_skipped_not_run():
    r = bs.measure("matmul", m=4096, n=4096, k=4096, impl="v1", settings=fast_settings())
    assert r.status == "skipped" and r.reason == "too_large_for_version"


def test_cuda_case_without_gpu_is_skipped_with_reason():
    if bs.cuda_available()[0]:
        pytest.skip("a CUDA device is present")
    r = bs.measure("softmax", rows=64, cols=64, device="cuda", settings=fast_settings())
    assert r.status == "skipped" and r.reason == "no_cuda"
    assert r.device == "cuda:0"
    validate_record(r.to_dict())
    r = bs.measure(lambda: None, device="cuda", settings=fast_settings())
    assert r.status == "skipped" and r.reason == "no_cuda"


def test_cpu_peak_is_measured_and_records_report_their_fraction_of_it():
    """The CPU's fp32 ceiling is measured (FMA chains on every thread), not taken from a spec
    (lanes x clock overstates cores that split wide vectors); a CPU record's fraction of peak
    is its FLOP/s over that figure."""
    from benchsuite.harness.measure import peaks
    peak = peaks("cpu")
    assert peak["source"] == "measured"
    flops = peak["flop_per_s"]["float32"]
    assert math.isfinite(flops) and flops > 1e8
    r = bs.measure("matmul", m=64, n=64, k=64, dtype="float32", device="cpu", impl="v2",
                   settings=bs.HarnessSettings.smoke_settings())
    frac = r.metrics["fraction_of_peak"]
    assert frac["peak_source"] == "measured" and frac["peak_flop_per_s"] == flops
    assert frac["compute"] == pytest.approx(r.metrics["throughput"]["flop_per_s"] / flops)


def test_cpu_dot_peaks_are_measured_where_the_isa_is():
    """bf16 (vdpbf16ps) and int8 (vpdpbusd) ceilings beside fp32's, None without the
    instructions; float16 has no arithmetic of its own on the CPU and takes fp32's."""
    from benchsuite.harness.measure import peaks
    flops = peaks("cpu")["flop_per_s"]
    isa = bs._core.cpu_info()["isa_paths"]
    assert flops["float16"] == flops["float32"]
    for dtype, flag in (("bfloat16", "avx512bf16"), ("int8", "avx512vnni")):
        if isa[flag]:
            assert math.isfinite(flops[dtype]) and flops[dtype] > 1e8
        else:
            assert flops[dtype] is None
    if isa["avx512bf16"]:  # two products per lane per instruction at the FMA's rate (Zen 4, SPR)
        assert flops["bfloat16"] > flops["float32"]
