"""Faults a new user hits (issue 10): Ctrl-C during a long case, sizes that overflow or do
not fit in memory, and profile values that are wrong before anything is measured. Each
fault runs in a subprocess, so a regression shows as a failed test, not a dead session."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import benchsuite as bs
from benchsuite.core.config import load_profile
from benchsuite.core.errors import ConfigError

# A profile whose one case would sample for a minute: only Ctrl-C ends it early.
LONG_PROFILE = """\
name: long
harness: {warmup: 1, min_samples: 5, max_samples: 100000000, min_time: 60, max_noise: null,
          timeout: 120, min_sample_time: 0.001}
devices: [cpu]
sweeps:
  busy_wait: {nanoseconds: [200000]}
"""


def _wait_for(path: Path, text: str, proc: subprocess.Popen, limit: float = 60.0) -> None:
    """Until `text` appears in the file `path` (a child's progress), or fail."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            pytest.fail(f"child exited early ({proc.returncode}): {path.read_text(errors='replace')}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{text!r} never appeared in {path}")


def _sigint_default() -> None:
    """In the child before exec: SIGINT at its default, as in a terminal. A suite started in the
    background by a non-interactive shell (`cmd &`) ignores SIGINT, children inherit that, and
    Python then installs no KeyboardInterrupt handler: Ctrl-C is what is under test here."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(proc: subprocess.Popen) -> float:
    """Send SIGINT; seconds until the child exited."""
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the child did not stop within 20 s of Ctrl-C")
    return time.monotonic() - sent


def test_ctrl_c_in_measure_raises_keyboard_interrupt_within_a_second(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys, benchsuite as bs
        settings = bs.HarnessSettings(warmup=1, min_samples=5, max_samples=10**8, min_time=60,
                                      max_noise=None, timeout=120, min_sample_time=0.001)
        print("measuring", flush=True)
        try:
            bs.measure("busy_wait", nanoseconds=200000, settings=settings)
        except KeyboardInterrupt as exc:
            r = exc.result
            print("KeyboardInterrupt", type(exc).__name__, r.status, r.reason, len(r.samples or []),
                  r.stats is not None, flush=True)
            sys.exit(0)
        print("not interrupted", flush=True)
    """)
    log = tmp_path / "out.txt"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=_sigint_default)
        _wait_for(log, "measuring", proc)
        time.sleep(1.5)  # well inside the sampling phase
        took = _interrupt(proc)
    text = log.read_text()
    assert proc.returncode == 0, text
    assert took < 1.5, f"Ctrl-C took {took:.2f} s to act"
    words = text.split("KeyboardInterrupt", 1)[1].split()
    assert words[:3] == ["MeasurementInterrupted", "interrupted", "interrupted"], text
    assert int(words[3]) > 0 and words[4] == "True", "the samples taken before Ctrl-C are kept"


def test_ctrl_c_in_cli_run_keeps_the_case_and_finishes_the_file(tmp_path: Path) -> None:
    profile = tmp_path / "long.yaml"
    profile.write_text(LONG_PROFILE)
    results = tmp_path / "run.json"
    log = tmp_path / "out.txt"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "benchsuite", "run", "--profile", str(profile),
                                 "--json", str(results), "--no-peers", "--no-history"],
                                cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_sigint_default)
        _wait_for(results, '"status": "running"', proc)
        time.sleep(2.0)
        took = _interrupt(proc)
    text = log.read_text()
    assert proc.returncode == 130, text
    assert took < 1.5, f"Ctrl-C took {took:.2f} s to act"
    assert "Traceback" not in text
    doc = bs.load_results(results).doc
    assert doc["status"] == "interrupted"
    [record] = doc["benchmarks"]
    assert record["status"] == "interrupted" and record["reason"] == "interrupted"
    assert record["stats"]["n"] > 0 and len(record["samples"]) == record["stats"]["n"]
    assert record["measurement"]["stop_reason"] == "interrupted"


def test_interrupted_flag_does_not_outlive_the_measurement() -> None:
    """A Ctrl-C that stopped one measurement never stops the next one."""
    r = bs.measure("busy_wait", nanoseconds=1000, settings=bs.HarnessSettings(
        warmup=0, min_samples=3, max_samples=3, min_time=0, max_noise=None, timeout=5))
    assert r.status == "ok" and r.measurement["stop_reason"] == "max_samples"


# ----------------------------------------------------------------------------- sizes

SIZE_SCRIPT = """
import json, sys, benchsuite as bs
out = []
for case, params in json.loads(sys.argv[1]):
    try:
        r = bs.measure(case, device="cpu", settings=bs.HarnessSettings.smoke_settings(), **params)
        out.append(["result", r.status, r.reason, " ".join(r.reasons)])
    except bs.InvalidArgumentError as exc:
        out.append(["InvalidArgumentError", str(exc)])
print(json.dumps(out))
"""


def _measure_in_child(calls: list) -> list:
    proc = subprocess.run([sys.executable, "-c", SIZE_SCRIPT, json.dumps(calls)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode} (a negative code is a signal): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def test_impossible_sizes_are_argument_errors_naming_the_parameters() -> None:
    calls = [
        ["fill", {"n": 2 ** 62}],                                   # 2^64 bytes of float32
        ["softmax", {"rows": 2 ** 31, "cols": 2 ** 31}],            # 2^62 elements, 2^64 bytes
        ["matmul", {"m": 2 ** 32, "n": 2 ** 32, "k": 1}],           # C has 2^64 elements
        ["softmax", {"rows": 2 ** 64, "cols": 4}],                  # not an int64 at all
        ["softmax", {"rows": -3, "cols": 4}],
    ]
    out = _measure_in_child(calls)
    assert [o[0] for o in out] == ["InvalidArgumentError"] * len(calls), out
    assert "fill" in out[0][1] and "n=4611686018427387904" in out[0][1]
    assert "rows=2147483648" in out[1][1] and "cols=2147483648" in out[1][1]
    assert "m=4294967296" in out[2][1] and "n=4294967296" in out[2][1]
    assert "rows=18446744073709551616" in out[3][1] and "int64" in out[3][1]
    assert "rows=-3" in out[4][1]


def test_sizes_beyond_memory_are_skipped_oom_before_any_work() -> None:
    calls = [["fill", {"n": 2 ** 40}],                          # 4 TiB: representable, not here
             ["softmax", {"rows": 2 ** 20, "cols": 2 ** 20}]]   # 4 TiB too
    out = _measure_in_child(calls)
    for entry in out:
        assert entry[:3] == ["result", "skipped", "oom"], out
        assert "MiB available" in entry[3]


def test_cli_sweep_with_an_impossible_size_records_it_and_goes_on(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchsuite", "run", "--profile", "quick", "-k", "fill*cpu*",
                           "--device", "cpu", "--smoke", "--no-peers", "--no-history", "--json", "r.json",
                           "--set", "sweeps.fill.n=[1024,4611686018427387904]"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    records = {r["params"]["n"]: r for r in bs.load_results(tmp_path / "r.json").benchmarks}
    assert records[1024]["status"] == "ok"
    bad = records[4611686018427387904]
    assert bad["status"] == "failed" and bad["reason"] == "invalid_argument"
    assert "n=4611686018427387904" in bad["error"]


# ----------------------------------------------------------------------------- profiles

def _write_profile(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(body)
    return path


@pytest.mark.parametrize("sweep, key, words", [
    ("fill: {n: [abc]}", "sweeps.fill.n='abc'", "expected an integer"),
    ("fill: {n: [-5]}", "sweeps.fill.n=-5", ">= 0"),
    ("matmul: {batch: [0]}", "sweeps.matmul.batch=0", ">= 1"),
    ("fill: {n: [18446744073709551616]}", "sweeps.fill.n=18446744073709551616", "int64"),
    ("fill: {dtype: [3]}", "sweeps.fill.dtype=3", "expected a string"),
    ("fill: {nn: [4]}", "sweeps.fill.nn=", "did you mean 'n'"),
    ("fil: {n: [4]}", "sweeps.fil=", "did you mean 'fill'"),
])
def test_profile_sweep_values_checked_when_the_profile_loads(tmp_path: Path, sweep: str, key: str,
                                                           words: str) -> None:
    path = _write_profile(tmp_path, f"name: t\nsweeps:\n  {sweep}\n")
    with pytest.raises(ConfigError) as info:
        load_profile(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path}: ") and key in message and words in message, message


def test_override_values_checked_before_measuring(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchsuite", "run", "--profile", "quick", "--device", "cpu",
                           "--no-history", "--set", "sweeps.fill.n=abc"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "sweeps.fill.n='abc'" in lines[0] and "expected an integer" in lines[0]
    assert not (tmp_path / "bench-results").exists() or not list((tmp_path / "bench-results").iterdir())


def test_top_level_typo_names_the_key_not_the_whole_mapping(tmp_path: Path) -> None:
    body = "name: t\nsweep:\n" + "".join(f"  fam{i}: {{n: [{i}, {i + 1}, {i + 2}]}}\n" for i in range(40))
    with pytest.raises(ConfigError) as info:
        load_profile(_write_profile(tmp_path, body), env={})
    message = str(info.value)
    assert "sweep=" in message and "did you mean 'sweeps'?" in message
    assert "known: name, description, harness, devices, sweeps" in message and "axes" not in message
    assert len(message) < 300, message
