"""Synthetic but schema-valid run documents for the report, comparison, baseline and history
tests: records carry real statistics computed by the harness's own statistics code from
the samples given, so comparisons see what a real run would give them."""
from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np

from benchsuite import _core
from benchsuite.core.results import new_run, validate_run

TS = "2026-11-23T05:00:00Z"


def environment(cpu_model: str = "AMD EPYC 9654", driver: str | None = None) -> dict:
    env = {
        "host": "bench-01",
        "os": {"system": "Linux", "release": "6.8.0", "version": "#1 SMP", "machine": "x86_64"},
        "cpu": {"model": cpu_model, "logical_cores": 16, "physical_cores": 8, "governor": None,
                "features": ["avx2", "fma"]},
        "memory": {"total_bytes": 135_000_000_000},
        "gpus": [],
        "cuda": {"available": False, "reason": "no CUDA device"},
        "python": {"version": "3.11.7", "implementation": "CPython", "executable": "/usr/bin/python3"},
        "packages": {"benchsuite": "0.1.0", "numpy": "2.1.0"},
        "build": {"version": "0.1.0", "cxx_compiler": "GNU 12.2.0", "cxx_flags": "-O3", "native_arch": True,
                  "openmp": {"enabled": True, "max_threads": 16}, "cuda": {"enabled": False}},
        "git": {"commit": "3f9a1c0d", "dirty": False},
    }
    if driver is not None:
        env["gpus"] = [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0",
                        "sm_count": 132, "memory_total_bytes": 85_000_000_000, "l2_cache_bytes": 52_428_800,
                        "sm_clock_mhz": 1980, "memory_clock_mhz": 2619, "memory_bus_width_bits": 5120,
                        "driver_version": driver, "cuda_runtime_version": "13.0", "power_limit_w": 700.0}]
    return env


def samples(median: float, n: int = 30, cv: float = 0.03, seed: int | None = None) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(median * rng.lognormal(0.0, cv, n))


def record(case: str = "softmax", params: dict | None = None, *, device: str = "cpu", impl: str = "v2",
           times: Sequence[float] | None = None, status: str = "ok", bytes_moved: float | None = 8e6,
           flops: float | None = None, peers: dict[str, float] | None = None, energy_j: float | None = None,
           peak_memory: int | None = 8_388_608, accuracy: float | None = None, keep_samples: bool = True,
           fraction: float | None = None) -> dict[str, Any]:
    """One record; `times` are per-iteration seconds (drawn around 1 ms when not given)."""
    params = dict(params if params is not None else {"rows": 1024, "cols": 1024, "dtype": "float32"})
    name = f"{case}[{device},{impl}," + ",".join(f"{k}={v}" for k, v in params.items()) + "]"
    times = list(times if times is not None else samples(1e-3))
    stats = dict(_core.compute_stats(times, 0.95))
    t = stats["median"]
    tp = {"flop_per_s": flops / t if flops else None, "tflop_per_s": flops / t / 1e12 if flops else None,
          "bytes_per_s": bytes_moved / t if bytes_moved else None,
          "gb_per_s": bytes_moved / t / 1e9 if bytes_moved else None, "items_per_s": None, "item_unit": None}
    metrics: dict[str, Any] = {
        "latency_p50_ms": t * 1e3, "latency_p95_ms": stats["p95"] * 1e3, "throughput": tp,
        "fraction_of_peak": {"compute": fraction if flops else None, "bandwidth": None if flops else fraction,
                             "peak_flop_per_s": None, "peak_bytes_per_s": None,
                             "peak_source": "spec" if fraction is not None else None},
        "peak_memory_bytes": peak_memory,
        "correctness": {"max_abs_error": 1e-7, "max_rel_error": 2e-7, "tolerance": 1e-5, "passed": True},
    }
    if peers:
        metrics["peers"] = {p: {"status": "ok", "reason": None, "median_s": t * s, "speedup": s}
                            for p, s in peers.items()}
    if energy_j is not None:
        metrics["energy"] = {"source": "nvml_counter", "reason": None, "joules_per_iter": energy_j,
                             "mean_power_w": energy_j / t, "repetitions": 1000, "window_s": 1.0,
                             "counter_updates": 20}
    if accuracy is not None:
        metrics["accuracy"] = accuracy
    rec = {
        "name": name, "group": "ops", "case": case, "params": params, "backend": device.split(":")[0],
        "device": device, "implementation": impl, "implementation_description": f"{impl} of {case}",
        "status": status, "reason": None if status == "ok" else "noise",
        "reasons": [] if status == "ok" else ["noise_above_limit: 0.12 > 0.05"], "error": None,
        "measurement": {"mode": "cpu", "timer": "steady_clock", "timer_resolution_s": 2e-8, "warmup": 2,
                        "min_samples": 5, "max_samples": 500, "min_time": 0.1, "max_noise": 0.05, "timeout": 10.0,
                        "launches_per_sample": 1, "loops_per_sample": 4, "stop_reason": "noise_converged",
                        "total_time_s": float(sum(times)), "smoke": False},
        "stats": stats, "counters": {"flops": flops, "bytes_read": bytes_moved and bytes_moved / 2,
                                     "bytes_written": bytes_moved and bytes_moved / 2, "items": None,
                                     "item_unit": None},
        "metrics": metrics, "timestamp_utc": TS,
    }
    if keep_samples:
        rec["samples"] = [float(x) for x in times]
    return rec


def skipped(case: str = "softmax", device: str = "cuda:0") -> dict[str, Any]:
    rec = record(case, device=device, impl="v1")
    rec.update(status="skipped", reason="no_cuda", reasons=["no CUDA device"], measurement=None, stats=None)
    rec.pop("samples")
    rec["metrics"].update(latency_p50_ms=None, latency_p95_ms=None)
    rec["metrics"].pop("peers", None)
    return rec


def run(*records: dict, run_id: str = "20261123T050000Z-aaaaaa", timestamp: str = TS,
        env: dict | None = None, smoke: bool = False) -> dict[str, Any]:
    doc = new_run("cli", env or environment(), {"profile": "quick", "profile_path": None, "overrides": {},
                                                 "harness": {}, "smoke": smoke}, run_id=run_id)
    doc["timestamp_utc"] = timestamp
    doc["status"] = "complete"
    doc["finished_utc"] = timestamp
    doc["benchmarks"] = [copy.deepcopy(r) for r in records]
    validate_run(doc)
    return doc
