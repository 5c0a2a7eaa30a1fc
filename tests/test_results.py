"""Results schema, the incremental RunWriter, load_results errors and the Markdown summary.

Documents here are built by hand to look like real runs, so the schema is checked
against what the harness writes rather than against minimal stubs.
"""
from __future__ import annotations

import copy
import json
import math
import re
import threading
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from benchsuite.analysis.summary import render_markdown, write_markdown
from benchsuite.core.errors import ResultsFileError
from benchsuite.core.results import (
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    RunResults,
    RunWriter,
    load_results,
    load_schema,
    new_run,
    new_run_id,
    utc_now_iso,
    validate_run,
    write_json_atomic,
)

TS = "2026-11-23T05:00:00Z"


# --------------------------------------------------------------------------- builders

def environment() -> dict:
    return {
        "host": "bench-01",
        "os": {"system": "Linux", "release": "6.8.0", "version": "#1 SMP", "machine": "x86_64"},
        "cpu": {
            "model": "AMD EPYC 9654",
            "logical_cores": 16,
            "physical_cores": 8,
            "governor": None,
            "features": ["avx2", "fma"],
        },
        "memory": {"total_bytes": 135_000_000_000},
        "gpus": [],
        "cuda": {"available": False, "reason": "no CUDA device"},
        "python": {"version": "3.11.7", "implementation": "CPython", "executable": "/usr/bin/python3"},
        "packages": {"benchsuite": "0.1.0", "numpy": "2.1.0", "torch": None},
        "build": {"cuda": False, "openmp": True, "compiler": "GNU 12.2"},
        "git": {"commit": "3f9a1c0d", "dirty": False},
    }


def config() -> dict:
    return {
        "profile": "quick",
        "profile_path": "configs/quick.yaml",
        "overrides": {"harness.min_time": 0.1},
        "harness": {"min_samples": 10, "max_noise": 0.02},
        "smoke": False,
    }


def stats(median: float = 1.0e-4, noise: float = 0.01, n: int = 25) -> dict:
    return {
        "n": n, "mean": median * 1.01, "stddev": median * 0.02, "cv": 0.02,
        "min": median * 0.97, "max": median * 1.2, "median": median,
        "p5": median * 0.98, "p95": median * 1.1, "p99": median * 1.15,
        "q1": median * 0.99, "q3": median * 1.02, "iqr": median * 0.03,
        "ci_low": median * 0.995, "ci_high": median * 1.005, "ci_level": 0.95,
        "noise": noise, "outliers_low": 0, "outliers_high": 2,
    }


def measurement() -> dict:
    return {
        "mode": "cpu", "timer": "steady_clock", "timer_resolution_s": 2e-8, "warmup": 3,
        "min_samples": 10, "max_samples": 1000, "min_time": 0.5, "max_noise": 0.02,
        "timeout": 30.0, "launches_per_sample": 1, "loops_per_sample": 128,
        "stop_reason": "noise_converged", "total_time_s": 0.61, "smoke": False,
    }


def empty_metrics() -> dict:
    return {
        "latency_p50_ms": None, "latency_p95_ms": None,
        "throughput": {"flop_per_s": None, "tflop_per_s": None, "bytes_per_s": None,
                       "gb_per_s": None, "items_per_s": None, "item_unit": None},
        "fraction_of_peak": {"compute": None, "bandwidth": None, "peak_flop_per_s": None,
                             "peak_bytes_per_s": None, "peak_source": None},
        "peak_memory_bytes": None,
        "correctness": None,
    }


def ok_record() -> dict:
    rows, cols = 1024, 1024
    s = stats(median=2.5e-4)
    bytes_moved = 2 * rows * cols * 4
    return {
        "name": "softmax[cpu,v2,rows=1024,cols=1024,dtype=float32]",
        "group": "ops", "case": "softmax",
        "params": {"rows": rows, "cols": cols, "dtype": "float32"},
        "backend": "cpu", "device": "cpu",
        "implementation": "v2", "implementation_description": "blocked rows, OpenMP",
        "status": "ok", "reason": None, "reasons": [], "error": None,
        "measurement": measurement(),
        "stats": s,
        "samples": [2.5e-4, 2.49e-4, 2.52e-4],
        "counters": {"flops": 5.0 * rows * cols, "bytes_read": rows * cols * 4,
                     "bytes_written": rows * cols * 4, "items": rows * cols, "item_unit": "elements"},
        "metrics": {
            "latency_p50_ms": s["median"] * 1e3, "latency_p95_ms": s["p95"] * 1e3,
            "throughput": {"flop_per_s": 5.0 * rows * cols / s["median"],
                           "tflop_per_s": 5.0 * rows * cols / s["median"] / 1e12,
                           "bytes_per_s": bytes_moved / s["median"],
                           "gb_per_s": bytes_moved / s["median"] / 1e9,
                           "items_per_s": rows * cols / s["median"], "item_unit": "elements"},
            "fraction_of_peak": {"compute": 0.05, "bandwidth": 0.4, "peak_flop_per_s": 4e11,
                                 "peak_bytes_per_s": 8.4e10, "peak_source": "measured"},
            "peak_memory_bytes": 8_388_608,
            "correctness": {"max_abs_error": 1.2e-7, "max_rel_error": 3e-6,
                            "tolerance": 1e-5, "passed": True},
        },
        "timestamp_utc": TS,
    }


def skipped_record() -> dict:
    return {
        "name": "softmax[cuda,v3,rows=1024,cols=1024,dtype=float16]",
        "group": "ops", "case": "softmax",
        "params": {"rows": 1024, "cols": 1024, "dtype": "float16"},
        "backend": "cuda", "device": "cuda:0",
        "implementation": "v3", "implementation_description": "warp-per-row online softmax",
        "status": "skipped", "reason": "no_cuda", "reasons": ["no CUDA device"], "error": None,
        "measurement": None, "stats": None,
        "counters": {"flops": None, "bytes_read": None, "bytes_written": None,
                     "items": None, "item_unit": None},
        "metrics": empty_metrics(),
        "timestamp_utc": "2026-11-23T05:00:01Z",
    }


def invalid_record() -> dict:
    rec = ok_record()
    rec.update(
        name="matmul[cpu,v1,m=256,n=256,k=256,dtype=float32]", case="matmul",
        params={"m": 256, "n": 256, "k": 256, "dtype": "float32"},
        implementation="v1", implementation_description="naive triple loop",
        status="invalid", reason="noise",
        reasons=["noise_above_limit: 0.12 > 0.05", "too_few_samples: 4 < 10"],
        stats=stats(median=0.0123, noise=0.12, n=4),
        timestamp_utc="2026-11-23T05:00:02.250Z",
    )
    flops = 2.0 * 256**3
    rec["counters"] = {"flops": flops, "bytes_read": 2 * 256 * 256 * 4,
                       "bytes_written": 256 * 256 * 4, "items": None, "item_unit": None}
    rec["metrics"] = empty_metrics()
    rec["metrics"].update(latency_p50_ms=12.3, latency_p95_ms=12.3 * 1.1)
    rec["metrics"]["throughput"].update(flop_per_s=flops / 0.0123, tflop_per_s=flops / 0.0123 / 1e12)
    rec.pop("samples")
    return rec


def run_doc(*records: dict) -> dict:
    doc = new_run("cli", environment(), config(), run_id="20261123T050000Z-3f9a1c")
    doc["timestamp_utc"] = TS
    doc["benchmarks"] = [copy.deepcopy(r) for r in records]
    return doc


def field_of(excinfo: pytest.ExceptionInfo) -> str | None:
    return excinfo.value.field


# --------------------------------------------------------------------------- schema

def test_schema_is_valid_draft_2020_12_and_versioned():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"] == {"enum": list(SUPPORTED_SCHEMA_VERSIONS)}
    assert SCHEMA_VERSION == "1.3" and SUPPORTED_SCHEMA_VERSIONS == ("1.0", "1.1", "1.2", "1.3")
    # load_schema hands out copies: mutating one must not affect validation.
    schema["properties"]["status"]["enum"].append("bogus")
    assert "bogus" not in load_schema()["properties"]["status"]["enum"]


def test_realistic_run_validates():
    doc = run_doc(ok_record(), skipped_record(), invalid_record())
    doc["status"], doc["finished_utc"] = "complete", "2026-11-23T05:01:00Z"
    validate_run(doc)


def test_run_with_gpu_environment_validates():
    doc = run_doc(ok_record())
    doc["environment"]["cuda"] = {"available": True, "reason": None}
    doc["environment"]["gpus"] = [{
        "index": 0, "name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "sm_count": 132,
        "memory_total_bytes": 85_000_000_000, "l2_cache_bytes": 52_428_800, "sm_clock_mhz": 1980,
        "memory_clock_mhz": 2619, "memory_bus_width_bits": 5120, "driver_version": "13.0",
        "cuda_runtime_version": "13.0", "power_limit_w": 700.0,
    }]
    doc["environment"]["git"] = None
    validate_run(doc)


def test_additional_properties_are_allowed_for_later_versions():
    rec = ok_record()
    rec["energy"] = {"joules_per_iter": 0.01, "source": "nvml_counter"}
    rec["stats"]["sm_clock_mean_mhz"] = 1950.0
    doc = run_doc(rec)
    doc["environment"]["extra_probe"] = {"numa_nodes": 2}
    validate_run(doc)


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["benchmarks"][0].update(status="done"), "benchmarks[0].status"),
        (lambda d: d.update(status="paused"), "status"),
        (lambda d: d["benchmarks"][0]["stats"].update(median=-1.0), "benchmarks[0].stats.median"),
        (lambda d: d["benchmarks"][0]["counters"].update(flops=-5), "benchmarks[0].counters.flops"),
        (lambda d: d["benchmarks"][0].update(timestamp_utc="2026-11-23 05:00:00"),
         "benchmarks[0].timestamp_utc"),
        (lambda d: d.update(timestamp_utc="2026-11-23T05:00:00+02:00"), "timestamp_utc"),
        (lambda d: d["benchmarks"][0]["params"].update(shape=[1, 2]), "benchmarks[0].params.shape"),
        (lambda d: d["benchmarks"][0]["metrics"]["fraction_of_peak"].update(peak_source="guess"),
         "benchmarks[0].metrics.fraction_of_peak.peak_source"),
        (lambda d: d["environment"].pop("cpu"), "environment.cpu"),
        (lambda d: d["config"].update(smoke="no"), "config.smoke"),
        (lambda d: d["benchmarks"][0].pop("metrics"), "benchmarks[0].metrics"),
    ],
)
def test_schema_rejects_bad_fields_with_a_readable_path(mutate, field):
    doc = run_doc(ok_record())
    mutate(doc)
    with pytest.raises(ResultsFileError) as ei:
        validate_run(doc, source="run.json")
    assert field_of(ei) == field
    assert str(ei.value).startswith(f"run.json: field {field}: ")


def test_stats_required_when_ok_or_invalid():
    for make in (ok_record, invalid_record):
        rec = make()
        rec["stats"] = None
        with pytest.raises(ResultsFileError) as ei:
            validate_run(run_doc(rec))
        assert field_of(ei) == "benchmarks[0].stats"
        assert f"status is {rec['status']!r}" in str(ei.value)
    # ...but null stats are fine for skipped and failed records.
    failed = skipped_record()
    failed.update(status="failed", reason="error", error="RuntimeError: kernel launch failed")
    validate_run(run_doc(skipped_record(), failed))


@pytest.mark.parametrize("status", ["skipped", "failed", "invalid"])
def test_reason_required_when_not_ok(status):
    rec = invalid_record() if status == "invalid" else skipped_record()
    rec["status"], rec["reason"] = status, None
    with pytest.raises(ResultsFileError) as ei:
        validate_run(run_doc(ok_record(), rec))
    assert field_of(ei) == "benchmarks[1].reason"
    assert status in str(ei.value)


def test_finished_run_needs_finished_utc():
    doc = run_doc(ok_record())
    doc["status"] = "complete"
    with pytest.raises(ResultsFileError) as ei:
        validate_run(doc)
    assert field_of(ei) == "finished_utc"


def test_non_finite_numbers_are_rejected_with_their_field():
    doc = run_doc(ok_record())
    doc["benchmarks"][0]["stats"]["cv"] = math.nan
    with pytest.raises(ResultsFileError) as ei:
        validate_run(doc)
    assert field_of(ei) == "benchmarks[0].stats.cv"
    assert "non-finite" in str(ei.value)


def test_schema_version_missing_unknown_and_wrong_type():
    doc = run_doc(ok_record())
    doc["schema_version"] = "9.0"
    with pytest.raises(ResultsFileError) as ei:
        validate_run(doc, source="new.json")
    assert field_of(ei) == "schema_version"
    assert "schema_version '9.0' is not supported by this benchsuite (supports 1.0, 1.1, 1.2, 1.3)" in str(ei.value)

    del doc["schema_version"]
    with pytest.raises(ResultsFileError) as ei:
        validate_run(doc)
    assert field_of(ei) == "schema_version" and "missing schema_version" in str(ei.value)

    doc["schema_version"] = 1.0
    with pytest.raises(ResultsFileError, match="must be a string"):
        validate_run(doc)

    with pytest.raises(ResultsFileError, match="expected an object"):
        validate_run([doc])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- ids and documents

def test_run_id_and_timestamps_have_the_documented_shape():
    rid = new_run_id(datetime(2026, 11, 23, 5, 0, 0, tzinfo=timezone.utc))
    assert re.fullmatch(r"20261123T050000Z-[0-9a-f]{6}", rid)
    assert new_run_id() != new_run_id()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", utc_now_iso())
    doc = new_run("pytest", environment(), config())
    assert doc["status"] == "running" and doc["benchmarks"] == [] and doc["finished_utc"] is None
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", doc["run_id"])
    validate_run(doc)


# --------------------------------------------------------------------------- RunWriter

def test_run_writer_rewrites_a_valid_file_after_every_step(tmp_path: Path):
    path = tmp_path / "nested" / "dir" / "run.json"
    writer = RunWriter(path, new_run("cli", environment(), config()))
    assert writer.path == path and path.exists()  # parents created, written at once
    first = load_results(path)
    assert first.status == "running" and first.benchmarks == []

    records = [ok_record(), skipped_record(), invalid_record()]
    for i, rec in enumerate(records, start=1):
        writer.add(rec)
        on_disk = load_results(path)  # validates the file as it is right now
        assert [b["name"] for b in on_disk.benchmarks] == [r["name"] for r in records[:i]]
        assert on_disk.status == "running"

    # Simulated interruption: finish() never called, the process just stops here.
    interrupted = load_results(path)
    assert isinstance(interrupted, RunResults)
    assert interrupted.status == "running" and interrupted.doc["finished_utc"] is None
    assert interrupted.by_status() == {"ok": 1, "skipped": 1, "failed": 0, "invalid": 1, "interrupted": 0}
    assert interrupted.run_id == writer.run["run_id"] and interrupted.suite == "cli"

    writer.finish()
    done = load_results(path)
    assert done.status == "complete"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", done.doc["finished_utc"])
    assert len(done) == 3


def test_bad_record_is_rejected_with_field_path_and_not_written(tmp_path: Path):
    path = tmp_path / "run.json"
    writer = RunWriter(path, new_run("cli", environment(), config()))
    writer.add(ok_record())
    before = path.read_bytes()

    bad = ok_record()
    del bad["stats"]
    with pytest.raises(ResultsFileError) as ei:
        writer.add(bad)
    assert field_of(ei) == "benchmarks[1].stats"
    assert "benchmarks[1].stats" in str(ei.value) and str(path) in str(ei.value)
    assert path.read_bytes() == before
    assert len(writer.run["benchmarks"]) == 1

    bad2 = ok_record()
    bad2["stats"]["median"] = "fast"
    with pytest.raises(ResultsFileError) as ei:
        writer.add(bad2)
    assert field_of(ei) == "benchmarks[1].stats.median"
    assert path.read_bytes() == before

    writer.add(skipped_record())  # the writer still works after a rejection
    assert [b["status"] for b in load_results(path).benchmarks] == ["ok", "skipped"]


def test_writer_keeps_its_own_copy_of_records(tmp_path: Path):
    writer = RunWriter(tmp_path / "run.json", new_run("cli", environment(), config()))
    rec = ok_record()
    writer.add(rec)
    rec["stats"]["median"] = "mutated later"
    writer.add(skipped_record())  # rewrite must not pick up the caller's mutation
    assert load_results(tmp_path / "run.json").benchmarks[0]["stats"]["median"] == 2.5e-4


def test_context_manager_sets_final_status(tmp_path: Path):
    with RunWriter(tmp_path / "a.json", new_run("cli", environment(), config())) as w:
        w.add(ok_record())
    assert load_results(tmp_path / "a.json").status == "complete"

    with pytest.raises(KeyboardInterrupt):
        with RunWriter(tmp_path / "b.json", new_run("cli", environment(), config())) as w:
            w.add(ok_record())
            raise KeyboardInterrupt
    b = load_results(tmp_path / "b.json")
    assert b.status == "interrupted" and len(b) == 1 and b.doc["finished_utc"]

    with pytest.raises(ZeroDivisionError):
        with RunWriter(tmp_path / "c.json", new_run("cli", environment(), config())):
            1 / 0  # noqa: B018
    assert load_results(tmp_path / "c.json").status == "failed"


def test_concurrent_adds_lose_nothing(tmp_path: Path):
    path = tmp_path / "run.json"
    writer = RunWriter(path, new_run("cli", environment(), config()))

    def worker(t: int) -> None:
        for i in range(5):
            rec = skipped_record()
            rec["name"] = f"case[t={t},i={i}]"
            writer.add(rec)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = {b["name"] for b in load_results(path).benchmarks}
    assert len(names) == 20
    assert list(tmp_path.iterdir()) == [path]


def test_atomic_write_leaves_no_temp_files(tmp_path: Path):
    target = tmp_path / "out" / "data.json"
    for i in range(3):
        write_json_atomic(target, {"i": i, "text": "µs"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"i": 2, "text": "µs"}
    assert [p.name for p in target.parent.iterdir()] == ["data.json"]

    # A value JSON cannot hold fails before the old file is touched, and leaves no temp.
    with pytest.raises(ValueError):
        write_json_atomic(target, {"bad": math.inf})
    assert json.loads(target.read_text(encoding="utf-8"))["i"] == 2
    assert [p.name for p in target.parent.iterdir()] == ["data.json"]

    writer = RunWriter(tmp_path / "runs" / "r.json", new_run("cli", environment(), config()))
    writer.add(ok_record())
    writer.finish()
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["r.json"]


# --------------------------------------------------------------------------- load_results errors

def write_valid(path: Path) -> Path:
    doc = run_doc(ok_record(), skipped_record())
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_load_results_missing_file(tmp_path: Path):
    path = tmp_path / "nope.json"
    with pytest.raises(ResultsFileError) as ei:
        load_results(path)
    assert str(path) in str(ei.value) and "no such" in str(ei.value)
    assert ei.value.path == str(path)


def test_load_results_empty_file(tmp_path: Path):
    path = tmp_path / "empty.json"
    path.write_text("")
    with pytest.raises(ResultsFileError) as ei:
        load_results(path)
    assert str(path) in str(ei.value) and "empty" in str(ei.value)


def test_load_results_truncated_file(tmp_path: Path):
    path = write_valid(tmp_path / "cut.json")
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ResultsFileError) as ei:
        load_results(path)
    msg = str(ei.value)
    assert str(path) in msg and "truncated or not JSON" in msg
    assert re.search(r"line \d+ column \d+", msg)


def test_load_results_not_json_and_not_an_object(tmp_path: Path):
    path = tmp_path / "notes.json"
    path.write_text("results: fast\n")
    with pytest.raises(ResultsFileError, match=r"notes\.json: invalid JSON at line 1"):
        load_results(path)
    path.write_text("[1, 2, 3]")
    with pytest.raises(ResultsFileError, match="expected an object"):
        load_results(path)


def test_load_results_hand_broken_field(tmp_path: Path):
    path = write_valid(tmp_path / "broken.json")
    doc = json.loads(path.read_text())
    doc["benchmarks"][0]["stats"]["median"] = "fast"
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsFileError) as ei:
        load_results(path)
    assert field_of(ei) == "benchmarks[0].stats.median"
    assert str(ei.value).startswith(f"{path}: field benchmarks[0].stats.median: ")
    assert "'fast'" in str(ei.value)


def test_load_results_schema_version_errors(tmp_path: Path):
    path = write_valid(tmp_path / "future.json")
    doc = json.loads(path.read_text())
    doc["schema_version"] = "9.0"
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsFileError) as ei:
        load_results(path)
    assert str(ei.value) == (
        f"{path}: field schema_version: "
        "schema_version '9.0' is not supported by this benchsuite (supports 1.0, 1.1, 1.2, 1.3)"
    )

    del doc["schema_version"]
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsFileError) as ei:
        load_results(path)
    assert field_of(ei) == "schema_version" and str(path) in str(ei.value)
    assert "missing schema_version" in str(ei.value)


def test_load_results_round_trip(tmp_path: Path):
    path = write_valid(tmp_path / "ok.json")
    run = load_results(str(path))
    assert run.path == str(path)
    assert run.environment["host"] == "bench-01" and run.config["profile"] == "quick"
    assert run.by_status()["ok"] == 1 and run.by_status()["skipped"] == 1
    assert [b["case"] for b in run] == ["softmax", "softmax"]


# --------------------------------------------------------------------------- summary

def test_markdown_summary_lists_cases_statuses_and_reasons(tmp_path: Path):
    doc = run_doc(ok_record(), skipped_record(), invalid_record())
    doc["status"], doc["finished_utc"] = "complete", "2026-11-23T05:01:30Z"
    md = render_markdown(doc)

    assert md.startswith("# benchsuite run `20261123T050000Z-3f9a1c`")
    assert "**complete**" in md and "cli" in md and "(90 s)" in md
    for rec in doc["benchmarks"]:
        assert rec["name"] in md
    assert "skipped (no_cuda)" in md and "invalid (noise)" in md
    assert "no CUDA: no CUDA device" in md and "build CUDA: off" in md
    assert "AMD EPYC 9654" in md
    assert "1 ok, 1 skipped, 0 failed, 1 invalid" in md
    # Table row for the ok case: median 0.25 ms to 4 significant digits, p95, noise, n.
    ok_row = next(line for line in md.splitlines() if line.startswith("| `softmax[cpu"))
    cells = [c.strip() for c in ok_row.strip("|").split("|")]
    assert cells[1] == "ok"
    assert cells[2] == "0.2500" and cells[3] == "0.2750"
    assert cells[4].endswith("GB/s")  # bandwidth is closer to its peak than compute
    assert cells[5] == "1.00%" and cells[6] == "25"
    inv_row = next(line for line in md.splitlines() if line.startswith("| `matmul[cpu"))
    cells = [c.strip() for c in inv_row.strip("|").split("|")]
    assert cells[1] == "invalid (noise)" and cells[2] == "12.30" and cells[3] == "13.53"
    assert cells[4] == "2.728 GFLOP/s" and cells[5] == "12.00%" and cells[6] == "4"
    # The reasons of not-ok cases are listed below the table.
    assert "noise_above_limit: 0.12 > 0.05" in md
    assert "## Not ok" in md and md.index("## Not ok") > md.index("## Benchmarks")

    out = write_markdown(load_results(write_valid(tmp_path / "r.json")), tmp_path / "rep" / "s.md")
    assert out.read_text(encoding="utf-8").startswith("# benchsuite run")
    assert "no_cuda" in out.read_text(encoding="utf-8")


def test_markdown_summary_of_an_unfinished_gpu_run():
    doc = run_doc(ok_record())
    doc["environment"]["cuda"] = {"available": True, "reason": None}
    doc["environment"]["gpus"] = [{"index": i, "name": "NVIDIA H100", "compute_capability": "9.0"}
                                  for i in range(2)]
    doc["environment"]["build"] = {"cuda": {"enabled": True, "version": "13.0"}}
    md = render_markdown(doc)
    assert "not finished" in md and "**running**" in md
    assert "2× NVIDIA H100 (sm 9.0)" in md and "build CUDA: on" in md
    assert "no CUDA" not in md and "## Not ok" not in md


def test_schema_1_0_files_still_load(tmp_path: Path):
    """1.1 only added optional fields: a document written as 1.0 stays valid."""
    doc = run_doc(ok_record())
    doc["schema_version"] = "1.0"
    validate_run(doc)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    assert load_results(path).doc["schema_version"] == "1.0"
