"""The environment record: its new fields, the fingerprint baselines key on (stable for the
same machine, changed by a GPU driver, blind to the host name), the noisy-machine warnings,
and fingerprint_id / warnings in run files."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

import benchsuite as bs
from benchsuite.core import environment
from benchsuite.core.environment import (capture_environment, environment_warnings, fingerprint,
                                         fingerprint_id)
from benchsuite.core.results import SCHEMA_VERSION, load_results, validate_run

from conftest import fast_settings

H100 = {
    "index": 0, "name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "sm_count": 132,
    "memory_total_bytes": 85_000_000_000, "l2_cache_bytes": 52_428_800, "sm_clock_mhz": 1980.0,
    "memory_clock_mhz": 2619.0, "memory_bus_width_bits": 5120, "driver_version": "13.0",
    "cuda_runtime_version": "13.0", "power_limit_w": 700.0, "driver": "580.65.06", "ecc_enabled": True,
    "mig_enabled": False, "persistence_mode": True, "energy_counter": True, "max_sm_clock_mhz": 1980.0,
    "default_sm_clock_mhz": 1755.0, "sm_clock_mhz_at_start": 345.0, "clock_event_reasons_at_start": 0x1,
    "other_compute_processes": 0,
}


@pytest.fixture(scope="module")
def env() -> dict:
    return capture_environment(print_warnings=False)


def with_gpu(env: dict, **changes) -> dict:
    """The captured record with one H100 (`changes` applied) and a real (not emulated) CUDA build."""
    e = copy.deepcopy(env)
    e["gpus"] = [dict(H100, **changes)]
    e["build"]["cuda"] = dict(e["build"]["cuda"], emulator=False)
    return e


def test_record_has_the_new_fields(env):
    assert isinstance(env["fingerprint_id"], str) and len(env["fingerprint_id"]) == 16
    assert isinstance(env["warnings"], list)
    assert set(env["cpu"]["smt"]) == {"active", "control"}
    assert "governor" in env["cpu"] and env["build"]["cxx_flags"]
    assert env["nvml"]["available"] in (True, False)
    if not env["nvml"]["available"]:
        assert env["nvml"]["reason"]
    assert env["fingerprint_id"] == fingerprint_id(env)


def test_fingerprint_is_stable(env):
    again = capture_environment(print_warnings=False)
    assert fingerprint_id(again) == fingerprint_id(env)
    assert fingerprint_id(copy.deepcopy(env)) == fingerprint_id(env)


def test_host_name_git_and_packages_do_not_change_the_fingerprint(env):
    e = copy.deepcopy(env)
    e["host"] = "another-host"
    e["git"] = {"commit": "0" * 40, "dirty": True}
    e["packages"]["numpy"] = "0.0.1"
    e["warnings"] = ["noisy"]
    assert fingerprint_id(e) == fingerprint_id(env)


@pytest.mark.parametrize("field, value", [
    ("driver", "590.10.01"), ("driver_version", "13.1"), ("cuda_runtime_version", "12.8"),
    ("power_limit_w", 500.0), ("ecc_enabled", False), ("mig_enabled", True),
    ("name", "NVIDIA H200")])
def test_gpu_fields_that_change_performance_change_the_fingerprint(env, field, value):
    assert fingerprint_id(with_gpu(env, **{field: value})) != fingerprint_id(with_gpu(env))


@pytest.mark.parametrize("field", ["persistence_mode", "sm_clock_mhz_at_start", "other_compute_processes",
                                   "energy_counter"])
def test_gpu_state_at_start_does_not_change_the_fingerprint(env, field):
    assert fingerprint_id(with_gpu(env, **{field: None})) == fingerprint_id(with_gpu(env))


def test_cpu_governor_and_smt_change_the_fingerprint(env):
    e = copy.deepcopy(env)
    e["cpu"]["governor"] = "powersave" if env["cpu"]["governor"] != "powersave" else "performance"
    assert fingerprint_id(e) != fingerprint_id(env)
    e = copy.deepcopy(env)
    e["cpu"]["smt"] = {"active": not env["cpu"]["smt"]["active"], "control": "on"}
    assert fingerprint_id(e) != fingerprint_id(env)
    assert fingerprint(env)["cpu_governor"] == env["cpu"]["governor"]


def test_governor_warning(env):
    e = copy.deepcopy(env)
    e["cpu"]["governor"] = "powersave"
    warnings = environment_warnings(e)
    assert any("'powersave'" in w and "'performance'" in w for w in warnings)
    e["cpu"]["governor"] = "performance"
    assert not any("governor" in w for w in environment_warnings(e))
    e["cpu"]["governor"] = None  # no cpufreq (VMs): nothing to say
    assert not any("governor" in w for w in environment_warnings(e))


def test_load_warning(env):
    e = copy.deepcopy(env)
    e["cpu"].update(logical_cores=2, load_average_1m=4.5)
    assert any("load average 4.50 on 2 logical cores" in w for w in environment_warnings(e))
    e["cpu"]["load_average_1m"] = 1.2           # this process plus a little: quiet enough
    assert not any("load average" in w for w in environment_warnings(e))
    assert env["cpu"]["load_average_1m"] is None or env["cpu"]["load_average_1m"] >= 0


def test_gpu_warnings(env):
    quiet = dict(governor=None, load_average_1m=None)   # only the GPU's warnings are looked at here
    e = with_gpu(env)
    e["cpu"].update(quiet)
    assert environment_warnings(e) == []  # idle at 345 MHz is not a warning
    busy_low = with_gpu(env, sm_clock_mhz_at_start=1200.0, clock_event_reasons_at_start=0x0)
    busy_low["cpu"].update(quiet)
    assert any("below its default" in w for w in environment_warnings(busy_low))
    hot = with_gpu(env, clock_event_reasons_at_start=0x1 | 0x20)
    assert any("sw_thermal_slowdown" in w for w in environment_warnings(hot))
    shared = with_gpu(env, other_compute_processes=2)
    assert any("2 other compute process" in w for w in environment_warnings(shared))


def test_emulator_build_is_a_warning(env):
    e = with_gpu(env)
    e["cpu"].update(governor=None, load_average_1m=None)
    e["build"]["cuda"]["emulator"] = True
    assert [w for w in environment_warnings(e) if "CPU emulator" in w]
    e["build"]["cuda"]["emulator"] = False
    assert environment_warnings(e) == []


def test_warnings_are_printed_and_recorded(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.setattr(environment, "cpu_governor", lambda: "ondemand")
    env = capture_environment()
    assert any("'ondemand'" in w for w in env["warnings"])
    assert "benchsuite: warning: cpu governor is 'ondemand'" in capsys.readouterr().err
    capture_environment(print_warnings=False)
    assert capsys.readouterr().err == ""


def test_run_files_carry_fingerprint_and_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from benchsuite.core.config import load_profile
    from benchsuite.harness.runner import CaseSpec, run_suite
    monkeypatch.setattr(environment, "cpu_governor", lambda: "powersave")
    spec = CaseSpec(case="add", device="cpu", version="v1", params={"n": 1024, "dtype": "float32"})
    run = run_suite([spec], load_profile("quick", env={}), tmp_path, settings=fast_settings(), peers=False)
    doc = load_results(run.json_path).doc
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["environment"]["fingerprint_id"] == fingerprint_id(doc["environment"])
    assert any("powersave" in w for w in doc["environment"]["warnings"])
    record = doc["benchmarks"][0]
    assert record["metrics"]["memory"]["allocation_count"] >= 3
    assert record["metrics"]["clocks"]["source"] == "unavailable"
    validate_run(doc)
    assert bs.fingerprint_id(doc["environment"]) == doc["environment"]["fingerprint_id"]
