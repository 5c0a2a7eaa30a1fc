"""The `benchsuite` command as a user runs it: a subprocess, its exit code, stdout and
stderr (info, list, run; usage errors exit 2 with one line naming what is wrong)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import benchsuite
from benchsuite.core.results import validate_run

TIMEOUT = 60  # seconds per command; each one here takes about a second


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchsuite", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=TIMEOUT)


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


def assert_usage_error(proc: subprocess.CompletedProcess, *parts: str) -> str:
    """Exit 2, exactly one line on stderr (no argparse usage block, no traceback)."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


def path_after(stdout: str, label: str, cwd: Path) -> Path:
    lines = [line for line in stdout.splitlines() if line.startswith(label)]
    assert len(lines) == 1, stdout
    path = Path(lines[0][len(label):].strip())
    return path if path.is_absolute() else cwd / path


# ------------------------------------------------------------------------------ info

def test_info(tmp_path: Path) -> None:
    proc = cli(tmp_path, "info")
    assert proc.returncode == 0, proc.stderr
    assert "CUDA build" in proc.stdout
    assert "CPU" in proc.stdout
    assert benchsuite.__version__ in proc.stdout


def test_info_json(tmp_path: Path) -> None:
    proc = cli(tmp_path, "info", "--json")
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert isinstance(env, dict)
    for key in ("build", "cpu", "gpus", "cuda"):
        assert key in env, sorted(env)
    assert isinstance(env["gpus"], list)
    available, _ = benchsuite.cuda_available()
    if not available:
        assert env["gpus"] == []


# ------------------------------------------------------------------------------ list

def test_list_filter(tmp_path: Path) -> None:
    proc = cli(tmp_path, "list", "-k", "softmax")
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, "no cases listed"
    for line in lines:
        assert "softmax" in line, line


def test_list_json(tmp_path: Path) -> None:
    proc = cli(tmp_path, "list", "--json", "--profile", "quick")
    assert proc.returncode == 0, proc.stderr
    cases = json.loads(proc.stdout)
    assert isinstance(cases, list) and cases
    for case in cases:
        assert {"name", "case", "device", "version", "params"} <= set(case)
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"


def test_list_json_matches_filter(tmp_path: Path) -> None:
    proc = cli(tmp_path, "list", "--json", "--profile", "quick", "-k", "softmax", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    cases = json.loads(proc.stdout)
    assert cases
    assert all("softmax" in c["name"] and c["device"] == "cpu" for c in cases)
    assert {"softmax", "log_softmax"} <= {c["case"] for c in cases}


def test_list_unknown_profile(tmp_path: Path) -> None:
    proc = cli(tmp_path, "list", "--profile", "nope")
    assert_usage_error(proc, "nope")
    assert proc.stdout == ""


# ------------------------------------------------------------------------------ usage errors

def test_run_bad_device(tmp_path: Path) -> None:
    assert_usage_error(cli(tmp_path, "run", "--device", "gpu"), "gpu")


def test_no_subcommand(tmp_path: Path) -> None:
    proc = cli(tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr


def test_run_no_match(tmp_path: Path) -> None:
    assert_usage_error(cli(tmp_path, "run", "-k", "zzz_nomatch"), "zzz_nomatch")
    assert not (tmp_path / "bench-results").exists(), "a run with no cases wrote results"


def test_run_bad_override(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "--set", "harness.min_samples=-1")
    assert_usage_error(proc, "harness.min_samples", "-1")
    assert not (tmp_path / "bench-results").exists()


# ------------------------------------------------------------------------------ real runs

def test_run_small(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "--profile", "quick", "-k", "softmax*cpu*v2*rows=256*",
               "--out", "OUT")
    assert proc.returncode == 0, proc.stderr
    json_path = path_after(proc.stdout, "results:", tmp_path)
    md_path = path_after(proc.stdout, "summary:", tmp_path)
    assert json_path.is_file() and json_path.parent == tmp_path / "OUT"
    assert md_path.is_file() and md_path.parent == tmp_path / "OUT"

    run = benchsuite.load_results(json_path)
    validate_run(run.doc)
    assert run.status == "complete"
    assert run.suite == "cli"
    assert run.config["profile"] == "quick"
    assert len(run) >= 1
    for record in run:
        assert record["status"] == "ok", record
        assert record["case"] == "softmax"
        assert record["device"] == "cpu"
        assert record["implementation"] == "v2"
        assert record["params"]["rows"] == 256
        assert record["stats"]["n"] >= run.config["harness"]["min_samples"]
    names = [r["name"] for r in run]
    assert len(names) == len(set(names))

    summary = md_path.read_text(encoding="utf-8")
    for name in names:
        assert name in summary, name
        assert name in proc.stdout, name
    # No temp files left behind by the atomic writer.
    assert not list((tmp_path / "OUT").glob(".*.tmp"))


def test_run_json_path(tmp_path: Path) -> None:
    proc = cli(tmp_path, "run", "--profile", "quick", "-k", "softmax*cpu*v2*rows=256*cols=1024*",
               "--json", "here.json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "[1/" not in proc.stdout  # --quiet: no per-case progress lines
    run = benchsuite.load_results(tmp_path / "here.json")
    assert len(run) == 1 and run.benchmarks[0]["status"] == "ok"
    assert (tmp_path / "here.md").is_file()
    assert not (tmp_path / "bench-results").exists()


# Regression: max_noise=None (noise rule off; smoke settings use it) must be a valid record.
@pytest.mark.parametrize("extra", [["--smoke"], ["--set", "harness.max_noise=null"]],
                         ids=["smoke", "max_noise_null"])
def test_run_without_noise_rule(tmp_path: Path, extra: list[str]) -> None:
    proc = cli(tmp_path, "run", "--profile", "quick", "-k", "softmax*cpu*v2*rows=256*cols=1024*",
               "--json", "here.json", "--quiet", *extra)
    assert proc.returncode == 0, proc.stderr
    run = benchsuite.load_results(tmp_path / "here.json")
    assert run.status == "complete"
    assert len(run) == 1 and run.benchmarks[0]["status"] == "ok"
    assert run.benchmarks[0]["measurement"]["max_noise"] is None
    if "--smoke" in extra:
        assert run.config["smoke"] is True
        assert run.benchmarks[0]["stats"]["n"] == 1


def test_run_cuda_skipped_without_gpu(tmp_path: Path) -> None:
    available, _ = benchsuite.cuda_available()
    if available:
        pytest.skip("a CUDA device is usable here; this checks the no-GPU path")
    proc = cli(tmp_path, "run", "--profile", "quick", "-k", "cuda", "--out", "OUT")
    assert proc.returncode == 0, proc.stderr
    run = benchsuite.load_results(path_after(proc.stdout, "results:", tmp_path))
    assert run.status == "complete"
    assert len(run) >= 1
    for record in run:
        assert record["status"] == "skipped", record
        assert record["reason"] == "no_cuda", record
        assert record["stats"] is None
    assert run.by_status()["skipped"] == len(run)
