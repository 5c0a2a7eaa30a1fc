"""Baselines (per machine fingerprint, never from invalid results) and what follows a run:
`benchsuite run --save-baseline/--compare/--fail-on-regression` and the pytest plugin's
--bs-save-baseline/--bs-compare/--bs-fail-on-regression, in real subprocess runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchsuite.analysis.baseline import baseline_dir, find_baseline, list_baselines, resolve_baseline, save_baseline
from benchsuite.analysis.history import History
from benchsuite.core.errors import InvalidArgumentError, ResultsFileError
from benchsuite.core.results import load_results, write_json_atomic

from run_builders import environment, record, run, samples, skipped

pytest_plugins = ["pytester"]

QUICK = ("--profile", "quick", "-k", "softmax*cpu*v3*rows=256*cols=1024*", "--set", "harness.min_time=0.02",
         "--no-peers")


def test_save_keeps_ok_cases_only_under_the_fingerprint():
    doc = run(record(times=samples(1e-3)), record("layernorm", status="invalid"), skipped())
    saved = save_baseline(doc, "main")
    assert saved.kept == 1 and saved.excluded_invalid == 1 and saved.excluded_other == 1
    assert saved.path == baseline_dir() / saved.fingerprint / "main.json"
    stored = load_results(saved.path)
    assert [r["status"] for r in stored.benchmarks] == ["ok"]
    assert stored.config["baseline"]["source_run_id"] == doc["run_id"]
    assert find_baseline("main", doc["environment"]) == saved.path
    assert find_baseline("main", environment("Intel Xeon")) is None     # another machine has none
    assert resolve_baseline("main", environment("Intel Xeon")) is None
    assert resolve_baseline("main", doc["environment"]).run_id == doc["run_id"]
    assert list_baselines() == [{"name": "main", "fingerprint": saved.fingerprint, "path": str(saved.path)}]


def test_bad_names_smoke_runs_and_broken_files_are_refused(tmp_path: Path):
    doc = run(record(times=samples(1e-3)))
    with pytest.raises(InvalidArgumentError, match="baseline name='../x'"):
        save_baseline(doc, "../x")
    with pytest.raises(InvalidArgumentError, match="smoke run"):
        save_baseline(run(record(times=samples(1e-3)), smoke=True), "main")
    saved = save_baseline(doc, "main")
    saved.path.write_text(saved.path.read_text()[:100])
    with pytest.raises(ResultsFileError, match="stored baseline 'main' is unreadable"):
        resolve_baseline("main", doc["environment"])
    with pytest.raises(ResultsFileError, match="no such results file"):
        resolve_baseline(str(tmp_path / "nothing.json"), doc["environment"])


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchsuite", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def results_path(proc: subprocess.CompletedProcess, cwd: Path) -> Path:
    line = next(line for line in proc.stdout.splitlines() if line.startswith("results:"))
    return cwd / line.split(":", 1)[1].strip()


def test_cli_first_compare_saves_then_compares_and_history_grows(tmp_path: Path):
    first = cli(tmp_path, "run", *QUICK, "--compare", "main")
    assert first.returncode == 0, first.stderr
    assert "no baseline 'main' for this machine" in first.stdout and "saved this run as it" in first.stdout
    second = cli(tmp_path, "run", *QUICK, "--compare", "main", "--fail-on-regression")
    assert second.returncode in (0, 1), second.stderr      # 1 only if the machine really slowed down
    assert "compared with baseline 'main'" in second.stdout
    compare_json = results_path(second, tmp_path).with_suffix(".compare.json")
    data = json.loads(compare_json.read_text())
    assert data["cases"] and all(c["verdict"] != "NOT_COMPARABLE" for c in data["cases"])
    assert (second.returncode == 1) == (data["regressions"] > 0)
    history = History(Path(os.environ["BENCHSUITE_DIR"]) / "history.sqlite")
    assert len(history.runs()) == 2
    third = cli(tmp_path, "run", *QUICK, "--no-history", "--save-baseline", "v2")
    assert third.returncode == 0 and "baseline 'v2' saved for this machine" in third.stdout
    assert len(history.runs()) == 2


def test_cli_fail_on_regression_against_a_faster_baseline(tmp_path: Path):
    proc = cli(tmp_path, "run", *QUICK, "--no-history")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(results_path(proc, tmp_path).read_text())
    for rec in doc["benchmarks"]:                 # pretend the baseline ran four times as fast
        rec["samples"] = [x / 4 for x in rec["samples"]]  # (4x: robust to a busy machine)
        rec["stats"] = {k: (v / 4 if isinstance(v, float) and k not in ("cv", "noise", "ci_level") else v)
                        for k, v in rec["stats"].items()}
    write_json_atomic(tmp_path / "fast.json", doc)
    slow = cli(tmp_path, "run", *QUICK, "--no-history", "--compare", "fast.json", "--fail-on-regression")
    assert slow.returncode == 1, (slow.stdout, slow.stderr)
    assert "SLOWER" in slow.stdout and "1 regression(s)" in slow.stdout
    other = dict(doc, environment=environment("Some Other CPU"))
    write_json_atomic(tmp_path / "other.json", other)
    refused = cli(tmp_path, "run", *QUICK, "--no-history", "--compare", "other.json")
    assert refused.returncode == 2 and "refusing to compare" in refused.stderr
    assert results_path(refused, tmp_path).is_file()          # the measured run is kept


PLUGIN_TEST = """
import benchsuite, pytest
SETTINGS = benchsuite.HarnessSettings(min_samples=5, max_samples=40, min_time=0.02, max_noise=None, timeout=5)

@pytest.mark.performance
def test_softmax(bench):
    bench("softmax", rows=64, cols=256, settings=SETTINGS)
"""


def test_pytest_plugin_baseline_options(pytester: pytest.Pytester):
    pytester.makepyfile(PLUGIN_TEST)
    first = pytester.runpytest_subprocess("-m", "performance", "--bs-compare", "main", "--bs-no-peers")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*no baseline 'main' for this machine*saved this run as it*"])
    second = pytester.runpytest_subprocess("-m", "performance", "--bs-compare", "main")
    second.stdout.fnmatch_lines(["*compared with baseline 'main'*"])
    # a baseline that ran ten times faster makes the same test a regression
    base = next(Path(os.environ["BENCHSUITE_DIR"], "baselines").glob("*/main.json"))
    doc = json.loads(base.read_text())
    for rec in doc["benchmarks"]:
        rec["samples"] = [x / 10 for x in rec["samples"]]
        rec["stats"] = {k: (v / 10 if isinstance(v, float) and k not in ("cv", "noise", "ci_level") else v)
                        for k, v in rec["stats"].items()}
    base.write_text(json.dumps(doc))
    third = pytester.runpytest_subprocess("-m", "performance", "--bs-compare", "main", "--bs-fail-on-regression")
    assert third.ret == 1
    third.stdout.fnmatch_lines(["*SLOWER*softmax*", "*1 regression(s)*"])
    usage = pytester.runpytest_subprocess("--bs-fail-on-regression")
    assert usage.ret == pytest.ExitCode.USAGE_ERROR
    usage.stderr.fnmatch_lines(["*--bs-fail-on-regression needs --bs-compare*"])
    smoke = pytester.runpytest_subprocess("--bs-save-baseline", "x")
    smoke.stdout.fnmatch_lines(["*nothing was measured (smoke mode*"])
