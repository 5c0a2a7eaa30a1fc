"""An interrupted `benchsuite run` keeps every case it finished: the results file is
rewritten atomically after each case, so SIGKILL leaves a valid 'running' document and
Ctrl-C (SIGINT) finishes it as 'interrupted' with exit status 130."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import benchsuite
from benchsuite.core.errors import ResultsFileError
from benchsuite.core.results import validate_run

POLL_TIMEOUT = 60.0
WANT = 2  # finished cases to wait for before interrupting


def start_run(tmp_path: Path, result: Path) -> subprocess.Popen:
    # Cases are made slower (min_time) so the run is still going when we interrupt it.
    # SIGINT is reset to its default in the child so Python installs its KeyboardInterrupt
    # handler even when this test runs in a background job that ignores SIGINT.
    return subprocess.Popen(
        [sys.executable, "-m", "benchsuite", "run", "--profile", "quick", "--device", "cpu",
         "--json", str(result), "--quiet", "--set", "harness.min_time=0.3"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_records(proc: subprocess.Popen, result: Path, want: int) -> int:
    """Poll the results file until it holds `want` records; return how many it held."""
    deadline = time.monotonic() + POLL_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"run ended (rc={proc.returncode}) before it could be interrupted:\n{out}\n{err}")
        if result.exists():
            try:
                n = len(benchsuite.load_results(result))
            except ResultsFileError as exc:  # atomic writes: the file is never half-written
                proc.kill()
                proc.wait()
                pytest.fail(f"results file invalid while the run was writing it: {exc}")
            if n >= want:
                return n
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    pytest.fail(f"results file did not reach {want} records in {POLL_TIMEOUT} s")


def stray_temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


def test_sigkill_keeps_finished_cases(tmp_path: Path) -> None:
    result = tmp_path / "out" / "run.json"
    proc = start_run(tmp_path, result)
    try:
        seen = wait_for_records(proc, result, WANT)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    run = benchsuite.load_results(result)
    validate_run(run.doc)
    assert run.status == "running"
    assert run.doc["finished_utc"] is None
    assert len(run) >= seen >= WANT
    names = [r["name"] for r in run]
    assert len(names) == len(set(names))
    for record in run:
        assert record["status"] in ("ok", "skipped", "failed", "invalid"), record
        assert record["device"] == "cpu"
    # A kill can land mid-write and leave that one temp file; never more than one.
    assert len(stray_temp_files(result.parent)) <= 1, stray_temp_files(result.parent)
    # Killed before the end: no summary was written.
    assert not result.with_suffix(".md").exists()


def test_sigint_finishes_as_interrupted(tmp_path: Path) -> None:
    result = tmp_path / "out" / "run.json"
    proc = start_run(tmp_path, result)
    try:
        seen = wait_for_records(proc, result, WANT)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (proc.returncode, out, err)
    assert "Traceback" not in err
    assert "interrupted" in err

    run = benchsuite.load_results(result)
    validate_run(run.doc)
    assert run.status == "interrupted"
    assert run.doc["finished_utc"] is not None
    assert len(run) >= seen >= WANT
    assert len(run) < run.config["cases"], "the run finished before the interrupt reached it"
    for record in list(run)[:-1]:
        assert record["status"] in ("ok", "skipped", "failed", "invalid"), record
    # the case in progress is kept with what it measured, as `interrupted` (or finished just in time)
    assert list(run)[-1]["status"] in ("ok", "skipped", "failed", "invalid", "interrupted")
    assert stray_temp_files(result.parent) == []
