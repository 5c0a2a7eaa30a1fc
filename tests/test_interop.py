"""pytest-benchmark interoperability: our runs exported so pytest-benchmark's own tools read
them, and real pytest-benchmark files imported into valid runs that compare and report."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchsuite.analysis.compare import compare_runs
from benchsuite.cli import main
from benchsuite.core.errors import ResultsFileError
from benchsuite.core.interop import from_pytest_benchmark, load_pytest_benchmark, to_pytest_benchmark
from benchsuite.core.results import load_results, write_json_atomic

from run_builders import record, run, samples, skipped

pytest_plugins = ["pytester"]


def our_run() -> dict:
    return run(record(times=samples(1e-3, seed=1), peers={"numpy": 3.0}),
               record("matmul", {"m": 64, "n": 64, "k": 64}, times=samples(2e-4, seed=2), flops=2 * 64**3),
               skipped())


def test_export_maps_stats_and_leaves_out_untimed_records():
    doc = our_run()
    out = to_pytest_benchmark(doc)
    assert set(out) == {"machine_info", "commit_info", "benchmarks", "datetime", "version"}
    assert len(out["benchmarks"]) == 2                       # the skipped record has no timing
    bench = out["benchmarks"][0]
    src = doc["benchmarks"][0]
    assert bench["name"] == src["name"] and bench["group"] == "softmax"
    assert bench["stats"]["median"] == src["stats"]["median"] and bench["stats"]["rounds"] == src["stats"]["n"]
    assert bench["stats"]["data"] == src["samples"]
    assert bench["stats"]["total"] == pytest.approx(sum(src["samples"]))
    assert bench["stats"]["ops"] == pytest.approx(1 / src["stats"]["mean"])
    assert bench["extra_info"]["peers"]["numpy"]["speedup"] == 3.0
    assert out["commit_info"]["id"] == "3f9a1c0d"


def test_pytest_benchmark_compare_reads_our_export(tmp_path: Path):
    path = tmp_path / "0001_ours.json"
    (tmp_path / "pb").mkdir()
    write_json_atomic(path, to_pytest_benchmark(our_run()))
    proc = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare", str(path), "--group-by", "name",
                           "--columns", "min,median,max,rounds"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "softmax[cpu,v2,rows=1024,cols=1024,dtype=float32]" in proc.stdout
    assert "matmul[cpu,v2,m=64,n=64,k=64]" in proc.stdout


def test_import_a_real_pytest_benchmark_file(pytester: pytest.Pytester, tmp_path: Path):
    pytester.makepyfile("""
        import time
        def test_sleepy(benchmark):
            benchmark.pedantic(time.sleep, args=(0.0005,), rounds=12, iterations=1)
        def test_sum(benchmark):
            benchmark(sum, range(1000))
    """)
    json_path = tmp_path / "pb.json"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--benchmark-json={json_path}",
                                           "--benchmark-save-data")
    result.assert_outcomes(passed=2)
    doc = load_pytest_benchmark(json_path)
    names = [b["name"] for b in doc["benchmarks"]]
    assert any("test_sleepy" in n for n in names) and any("test_sum" in n for n in names)
    sleepy = next(b for b in doc["benchmarks"] if "test_sleepy" in b["name"])
    assert sleepy["stats"]["n"] == 12 and len(sleepy["samples"]) == 12
    assert 0.0004 < sleepy["stats"]["median"] < 0.05
    assert sleepy["metrics"]["latency_p50_ms"] == pytest.approx(sleepy["stats"]["median"] * 1e3, rel=0.05)
    # the imported run compares with itself as SAME and goes through the CLI round trip
    cmp_ = compare_runs(doc, doc)
    assert {c.verdict for c in cmp_.cases} <= {"SAME", "AMBIGUOUS"}      # sleep() is noisy; never a change
    assert all(c.ratio == 1.0 and not c.regression for c in cmp_.cases)
    out = tmp_path / "imported.json"
    assert main(["import", str(json_path), "-o", str(out), "--history"]) == 0
    assert load_results(out).suite == "pytest-benchmark"
    assert main(["export", str(out), "-o", str(tmp_path / "back.json")]) == 0
    back = json.loads((tmp_path / "back.json").read_text())
    assert len(back["benchmarks"]) == 2 and back["benchmarks"][0]["stats"]["rounds"] >= 1


def test_import_without_data_keeps_the_summary(tmp_path: Path):
    exported = to_pytest_benchmark(our_run())
    for b in exported["benchmarks"]:
        b["stats"].pop("data")
    doc = from_pytest_benchmark(exported)
    rec = doc["benchmarks"][0]
    assert "samples" not in rec and rec["extra"]["estimated_stats"] == ["p5", "p95", "p99", "ci_low", "ci_high",
                                                                          "noise"]
    src = exported["benchmarks"][0]["stats"]
    assert rec["stats"]["median"] == src["median"] and rec["stats"]["n"] == src["rounds"]
    assert src["min"] <= rec["stats"]["ci_low"] < src["median"] < rec["stats"]["ci_high"] <= src["max"]
    assert rec["metrics"]["latency_p50_ms"] == pytest.approx(exported["benchmarks"][0]["stats"]["median"] * 1e3)
    assert rec["extra"]["pytest_benchmark"]["rounds"] == exported["benchmarks"][0]["stats"]["rounds"]


def test_bad_pytest_benchmark_files_name_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"machine_info": {}, "benchmarks": [{"name": "x", "stats": {"min": 1.0}}]}))
    with pytest.raises(ResultsFileError) as exc:
        load_pytest_benchmark(bad)
    assert exc.value.field == "benchmarks[0].stats.max" and "bad.json" in str(exc.value)
    (tmp_path / "ours.json").write_text(json.dumps(our_run()))
    assert main(["import", str(tmp_path / "ours.json"), "-o", str(tmp_path / "x.json")]) == 2
    assert "not a pytest-benchmark file" in capsys.readouterr().err
