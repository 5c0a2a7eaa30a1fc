"""Export to and import from pytest-benchmark's JSON format, so tools that read pytest-benchmark
files (`pytest-benchmark compare`, dashboards) work on benchsuite results, and pytest-benchmark
files can be reported, compared and stored in the history like our own runs.

Both formats time one iteration in seconds. Records without timing statistics (skipped,
failed) have no pytest-benchmark equivalent and are left out of an export. An imported file
without raw data (`--benchmark-save-data` not used) keeps its summary in `extra` and has no
samples: its percentiles and median interval are normal approximations, named in
`extra.estimated_stats`, and comparisons judge it on those intervals."""
from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import _core
from .errors import ResultsFileError
from .fields import number as _number
from .results import SCHEMA_VERSION, new_run_id, utc_now_iso, validate_run, write_json_atomic

__all__ = ["to_pytest_benchmark", "from_pytest_benchmark", "load_pytest_benchmark", "is_pytest_benchmark"]


def _pytest_benchmark_version() -> str:
    try:
        return metadata.version("pytest-benchmark")
    except metadata.PackageNotFoundError:
        return "5.0.0"


def _stddev_outliers(samples: list[float], mean: float, stddev: float) -> int:
    return sum(1 for x in samples if x < mean - stddev or x > mean + stddev)


def _fences(samples: list[float], q1: float, q3: float) -> tuple[float, float]:
    """pytest-benchmark's ld15iqr / hd15iqr: the extreme data still within 1.5 IQR of the quartiles."""
    iqr = q3 - q1
    inside = [x for x in samples if q1 - 1.5 * iqr <= x <= q3 + 1.5 * iqr]
    return (min(inside), max(inside)) if inside else (q1, q3)


def _export_record(record: Mapping[str, Any], run_id: str) -> dict[str, Any] | None:
    s = record.get("stats")
    if not s:
        return None
    samples = [float(x) for x in record.get("samples") or []]
    m = record.get("measurement") or {}
    if samples:
        low, high = _fences(samples, s["q1"], s["q3"])
        stddev_out = _stddev_outliers(samples, s["mean"], s["stddev"])
        total = sum(samples)
    else:
        low, high, stddev_out, total = s["min"], s["max"], 0, s["mean"] * s["n"]
    iqr_out = int(s["outliers_low"]) + int(s["outliers_high"])
    params = dict(record.get("params") or {})
    stats = {
        "min": s["min"], "max": s["max"], "mean": s["mean"], "stddev": s["stddev"], "rounds": s["n"],
        "median": s["median"], "iqr": s["iqr"], "q1": s["q1"], "q3": s["q3"], "iqr_outliers": iqr_out,
        "stddev_outliers": stddev_out, "outliers": f"{stddev_out};{iqr_out}", "ld15iqr": low, "hd15iqr": high,
        "ops": 1.0 / s["mean"] if s["mean"] > 0 else 0.0, "total": total,
        "iterations": int(m.get("loops_per_sample") or m.get("launches_per_sample") or 1),
    }
    if samples:
        stats["data"] = samples
    return {
        "group": record.get("case"),
        "name": record["name"],
        "fullname": f"benchsuite::{record.get('group')}::{record['name']}",
        "params": params or None,
        "param": ",".join(f"{k}={v}" for k, v in params.items()) or None,
        "extra_info": {
            "benchsuite_run_id": run_id, "status": record["status"], "reasons": record.get("reasons") or [],
            "backend": record.get("backend"), "device": record.get("device"),
            "implementation": record.get("implementation"), "counters": record.get("counters"),
            "throughput": (record.get("metrics") or {}).get("throughput"),
            "peers": (record.get("metrics") or {}).get("peers"),
        },
        "options": {"timer": m.get("timer"), "min_rounds": m.get("min_samples"), "max_time": m.get("timeout"),
                    "min_time": m.get("min_time"), "warmup": bool(m.get("warmup")), "mode": m.get("mode")},
        "stats": stats,
    }


def to_pytest_benchmark(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A benchsuite run document as a pytest-benchmark JSON document."""
    env = doc["environment"]
    cpu, osinfo, py = env.get("cpu") or {}, env.get("os") or {}, env.get("python") or {}
    git = env.get("git") or {}
    benchmarks = [b for b in (_export_record(r, doc["run_id"]) for r in doc["benchmarks"]) if b is not None]
    return {
        "machine_info": {
            "node": env.get("host"), "processor": cpu.get("model"), "machine": osinfo.get("machine"),
            "python_compiler": platform.python_compiler(), "python_implementation": py.get("implementation"),
            "python_implementation_version": py.get("version"), "python_version": py.get("version"),
            "python_build": list(platform.python_build()), "release": osinfo.get("release"),
            "system": osinfo.get("system"),
            "cpu": {"brand_raw": cpu.get("model"), "count": cpu.get("logical_cores"), "arch": osinfo.get("machine"),
                    "flags": list(cpu.get("features") or [])},
            "benchsuite": {"run_id": doc["run_id"], "gpus": [g.get("name") for g in env.get("gpus") or []]},
        },
        "commit_info": {"id": git.get("commit") or "unversioned", "dirty": bool(git.get("dirty")),
                        "project": "benchsuite", "branch": None, "time": None, "author_time": None},
        "benchmarks": benchmarks,
        "datetime": doc["timestamp_utc"],
        "version": _pytest_benchmark_version(),
    }


def is_pytest_benchmark(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "machine_info" in doc and isinstance(doc.get("benchmarks"), list)


def number(value: Any) -> float | None:
    """fields.number, where an integer too large for a float (10**400 in a file) is None too."""
    try:
        return _number(value)
    except OverflowError:
        return None


def _count(value: Any, default: int) -> int:
    """A count from the file: an integral number as int, anything else (a string, NaN) the default."""
    v = number(value)
    return int(v) if v is not None else default


def _import_record(bench: Any, index: int, source: str, timestamp: str) -> dict[str, Any]:
    where = f"benchmarks[{index}]"
    if not isinstance(bench, Mapping):
        raise ResultsFileError(source, where, f"expected an object, got {type(bench).__name__}")
    stats_in = bench.get("stats")
    if not isinstance(stats_in, Mapping):
        raise ResultsFileError(source, f"{where}.stats", "missing: not a pytest-benchmark result")
    for key in ("min", "max", "mean", "median", "rounds"):
        if number(stats_in.get(key)) is None:
            raise ResultsFileError(source, f"{where}.stats.{key}",
                                   f"missing or not a number ({stats_in.get(key)!r})")
    data = stats_in.get("data")
    samples = [float(x) for x in data if number(x) is not None and x >= 0] if isinstance(data, list) else []
    stats = dict(_core.compute_stats(samples, 0.95)) if len(samples) >= 2 else _summary_stats(stats_in)
    estimated = [] if len(samples) >= 2 else list(_ESTIMATED)
    name = str(bench.get("fullname") or bench.get("name") or f"benchmark{index}")
    case = str(bench.get("name") or name).split("[", 1)[0]
    params = bench.get("params") if isinstance(bench.get("params"), Mapping) else {}
    options = bench.get("options") if isinstance(bench.get("options"), Mapping) else {}
    median = float(stats_in["median"])
    p95 = stats["p95"]
    return {
        "name": name, "group": str(bench.get("group") or "pytest-benchmark"), "case": case,
        "params": {str(k): v for k, v in params.items()}, "backend": "python", "device": "cpu",
        "implementation": None, "implementation_description": "imported from pytest-benchmark",
        "status": "ok", "reason": None, "reasons": [], "error": None,
        "measurement": {
            "mode": "cpu", "timer": str(options.get("timer") or "perf_counter"), "timer_resolution_s": None,
            "warmup": 1 if options.get("warmup") else 0, "min_samples": _count(options.get("min_rounds"), 1),
            "max_samples": int(stats_in["rounds"]), "min_time": number(options.get("min_time")), "max_noise": None,
            "timeout": number(options.get("max_time")), "launches_per_sample": 1,
            "loops_per_sample": _count(stats_in.get("iterations"), 1), "stop_reason": "imported",
            "total_time_s": number(stats_in.get("total")), "smoke": False,
        },
        "stats": stats,
        "counters": {"flops": None, "bytes_read": None, "bytes_written": None, "items": None, "item_unit": None},
        "metrics": {
            "latency_p50_ms": median * 1e3, "latency_p95_ms": None if p95 is None else p95 * 1e3,
            "throughput": {"flop_per_s": None, "tflop_per_s": None, "bytes_per_s": None, "gb_per_s": None,
                           "items_per_s": number(stats_in.get("ops")), "item_unit": "calls"},
            "fraction_of_peak": {"compute": None, "bandwidth": None, "peak_flop_per_s": None,
                                 "peak_bytes_per_s": None, "peak_source": None},
            "peak_memory_bytes": None, "correctness": None,
        },
        "timestamp_utc": timestamp,
        **({} if estimated else {"samples": samples}),
        "extra": {"pytest_benchmark": {k: v for k, v in stats_in.items() if k != "data"},
                  "extra_info": bench.get("extra_info") or {}, "estimated_stats": estimated},
    }


_ESTIMATED = ("p5", "p95", "p99", "ci_low", "ci_high", "noise")


def _summary_stats(s: Mapping[str, Any]) -> dict[str, Any]:
    """Statistics from pytest-benchmark's summary when it kept no raw data: the fields it has
    are copied; percentiles and the median's interval are normal approximations (listed in
    the record's extra.estimated_stats), clipped to the observed range."""
    n = max(int(s["rounds"]), 1)
    mean, median, lo, hi = float(s["mean"]), float(s["median"]), float(s["min"]), float(s["max"])
    sd = number(s.get("stddev")) or 0.0
    q1, q3 = number(s.get("q1")) or median, number(s.get("q3")) or median

    def clip(x: float) -> float:
        return min(max(x, lo), hi)

    half = 1.96 * 1.2533 * sd / math.sqrt(n)  # standard error of a median under normality
    outliers = str(s.get("outliers") or "0;0").split(";")
    return {"n": n, "mean": mean, "stddev": sd, "cv": sd / mean if mean > 0 else 0.0, "min": lo, "max": hi,
            "median": median, "p5": clip(mean - 1.645 * sd), "p95": clip(mean + 1.645 * sd),
            "p99": clip(mean + 2.326 * sd), "q1": q1, "q3": q3, "iqr": q3 - q1,
            "ci_low": clip(median - half), "ci_high": clip(median + half), "ci_level": 0.95,
            "noise": half / median if median > 0 else 0.0,
            "outliers_low": 0, "outliers_high": int(outliers[-1]) if outliers[-1].isdecimal() else 0}


def _timestamp(text: Any) -> str:
    from datetime import datetime, timezone
    try:
        when = datetime.fromisoformat(str(text))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError):  # not a date, or one that leaves the calendar in UTC
        return utc_now_iso()


def from_pytest_benchmark(doc: Mapping[str, Any], source: str = "<memory>") -> dict[str, Any]:
    """A pytest-benchmark JSON document as a (validated) benchsuite run document."""
    if not is_pytest_benchmark(doc):
        raise ResultsFileError(source, None, "not a pytest-benchmark file (no machine_info / benchmarks list)")
    # machine and commit information are descriptive: a part of the wrong type is left out
    mi = doc.get("machine_info") if isinstance(doc.get("machine_info"), Mapping) else {}
    cpu = mi.get("cpu") if isinstance(mi.get("cpu"), Mapping) else {}
    flags = cpu.get("flags") if isinstance(cpu.get("flags"), list) else []
    ci = doc.get("commit_info") if isinstance(doc.get("commit_info"), Mapping) else {}
    timestamp = _timestamp(doc.get("datetime"))
    commit = ci.get("id")
    env = {
        "host": str(mi.get("node") or "unknown"),
        "os": {"system": str(mi.get("system") or ""), "release": str(mi.get("release") or ""), "version": "",
               "machine": str(mi.get("machine") or "")},
        "cpu": {"model": cpu.get("brand_raw") or mi.get("processor") or None, "logical_cores": cpu.get("count"),
                "physical_cores": None, "governor": None, "features": [str(f) for f in flags]},
        "memory": {"total_bytes": None}, "gpus": [],
        "cuda": {"compiled": False, "available": False, "device_count": 0,
                 "reason": "imported from pytest-benchmark (no GPU information)"},
        "python": {"version": str(mi.get("python_version") or ""),
                   "implementation": str(mi.get("python_implementation") or ""), "executable": None},
        "packages": {"pytest-benchmark": doc.get("version")},
        "build": {"imported_from": "pytest-benchmark"},
        "git": ({"commit": commit, "dirty": bool(ci.get("dirty"))} if commit and commit != "unversioned" else None),
    }
    records = [_import_record(b, i, source, timestamp) for i, b in enumerate(doc["benchmarks"])]
    run = {
        "schema_version": SCHEMA_VERSION, "run_id": new_run_id(), "suite": "pytest-benchmark",
        "timestamp_utc": timestamp, "finished_utc": timestamp, "status": "complete", "environment": env,
        "config": {"profile": None, "profile_path": None, "overrides": {}, "harness": {}, "smoke": False,
                   "imported_from": source},
        "benchmarks": records,
    }
    validate_run(run, source=source)
    return run


def load_pytest_benchmark(path: str | os.PathLike) -> dict[str, Any]:
    source = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsFileError(source, None, f"cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ResultsFileError(source, None, f"invalid JSON: {exc} (truncated or not JSON)") from None
    except RecursionError:
        raise ResultsFileError(source, None, "JSON nested too deeply: not a pytest-benchmark file") from None
    return from_pytest_benchmark(doc, source)


def export_file(doc: Mapping[str, Any], path: str | os.PathLike) -> None:
    write_json_atomic(path, to_pytest_benchmark(doc))
