"""The SQLite run history: storing runs, reading a case's trend, change points, concurrent
writers, bad databases, and the `benchsuite history` commands."""
from __future__ import annotations

import errno
import multiprocessing
import os
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from benchsuite.analysis.history import History, change_points
from benchsuite.cli import main
from benchsuite.core.errors import HistoryError, InvalidArgumentError, OutputError
from benchsuite.core.results import write_json_atomic

from run_builders import record, run, samples


def run_at(i: int, median: float, seed: int | None = None) -> dict:
    return run(record(times=samples(median, seed=seed)), record("layernorm", times=samples(2e-3, seed=seed)),
               run_id=f"20261123T{i:06d}Z-{i:06x}", timestamp=f"2026-11-23T{i // 3600:02d}:{i // 60 % 60:02d}:"
               f"{i % 60:02d}Z")


def test_add_list_series_and_idempotence(tmp_path: Path):
    h = History(tmp_path / "h.sqlite")
    for i, m in enumerate([1e-3, 1.01e-3, 0.99e-3]):
        assert h.add(run_at(i, m, seed=i), source=f"run{i}.json")
    assert not h.add(run_at(0, 1e-3, seed=0))            # same run id: stored once
    runs = h.runs()
    assert [r["run_id"] for r in runs] == [run_at(i, 1e-3)["run_id"] for i in (2, 1, 0)]
    assert runs[0]["cases"] == 2 and runs[0]["source"] == "run2.json" and runs[0]["git_commit"] == "3f9a1c0d"
    name = record()["name"]
    points = h.series(name, "latency_p50_ms")
    assert [p.run_id for p in points] == [r["run_id"] for r in reversed(runs)]
    assert all(0.9 < p.value < 1.1 for p in points)
    assert h.case_names("softmax") == [name] and h.case_names("*norm*") == [record("layernorm")["name"]]
    assert h.run(runs[0]["run_id"])["benchmarks"][0]["name"] == name
    with pytest.raises(InvalidArgumentError, match="metric='speed'"):
        h.series(name, "speed")


def test_change_points_on_a_step_and_on_noise():
    rng = np.random.default_rng(1)
    flat = list(1.0 + 0.01 * rng.standard_normal(12))
    assert change_points(flat) == []
    step = flat[:6] + [v * 1.2 for v in flat[6:]]
    assert change_points(step) == [6]
    two = [1.0] * 5 + [1.3] * 5 + [1.0] * 5
    assert change_points([v * (1 + 0.005 * rng.standard_normal()) for v in two]) == [5, 10]
    small = flat[:6] + [v * 1.02 for v in flat[6:]]       # below the 5% minimum change
    assert change_points(small) == []
    assert change_points([1.0, 2.0]) == []                 # too short to say


def _writer(path: str, start: int, count: int) -> None:
    h = History(path)
    for i in range(start, start + count):
        h.add(run_at(i, 1e-3, seed=i))


def test_two_processes_writing_at_once_lose_no_run(tmp_path: Path):
    path = str(tmp_path / "shared.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, start, 25)) for start in (0, 1000)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    stored = {r["run_id"] for r in History(path).runs()}
    expected = {run_at(i, 1e-3)["run_id"] for i in [*range(25), *range(1000, 1025)]}
    assert stored == expected
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 100


def test_not_a_history_database_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "h.sqlite"
    bad.write_text("this is not sqlite at all" * 100)
    with pytest.raises(HistoryError, match="h.sqlite: not a benchsuite history database"):
        History(bad)


def test_cli_history_list_show_add(tmp_path: Path, capsys: pytest.CaptureFixture):
    db = str(tmp_path / "h.sqlite")
    assert main(["history", "list", "--db", db]) == 0          # no history yet: no runs, not an error
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"0 runs in {db}")
    assert main(["history", "list", "--db", db, "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert not Path(db).exists()                               # listing created nothing
    assert main(["history", "show", "--db", db, "softmax"]) == 2
    assert "does not exist yet" in capsys.readouterr().err
    files = []
    for i, m in enumerate([1e-3] * 4 + [1.3e-3] * 4):
        path = tmp_path / "runs" / f"r{i}.json"
        write_json_atomic(path, run_at(i, m, seed=i))
        files.append(str(path))
    assert main(["history", "add", "--db", db, str(tmp_path / "runs")]) == 0
    assert capsys.readouterr().out.count("added") == 8
    assert main(["history", "add", "--db", db, files[0]]) == 0
    assert "already stored" in capsys.readouterr().out
    assert main(["history", "list", "--db", db, "--limit", "3"]) == 0
    assert capsys.readouterr().out.count("\n") == 3
    assert main(["history", "show", "--db", db, "softmax"]) == 0
    out = capsys.readouterr().out
    assert out.count("ok") == 8 and out.count("change point") == 1
    change_line = next(line for line in out.splitlines() if "change point" in line)
    assert run_at(4, 1e-3)["run_id"] in change_line
    assert 20 < float(re.search(r"\(\+([0-9.]+)%\)", change_line).group(1)) < 40  # +30%, give or take the noise
    assert main(["history", "show", "--db", db, "softmax", "--metric", "gb_per_s", "--json"]) == 0
    assert '"change_points": [\n      4\n    ]' in capsys.readouterr().out
    assert main(["history", "show", "--db", db, "nothing-like-this"]) == 2


class _FullDiskConnection:
    """An SQLite connection on a disk that is full: reads work, every insert fails."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    def execute(self, sql: str, *args):
        if sql.lstrip().upper().startswith("INSERT"):
            exc = sqlite3.OperationalError("database or disk is full")
            exc.sqlite_errorname = "SQLITE_FULL"
            raise exc
        return self.real.execute(sql, *args)

    def executemany(self, sql: str, *args):
        return self.execute(sql, *args)

    def close(self) -> None:
        self.real.close()


def test_full_disk_is_said_as_such_not_as_a_bad_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    h = History(tmp_path / "h.sqlite")
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: _FullDiskConnection(connect(*a, **k)))
    with pytest.raises(OutputError) as ei:
        h.add(run_at(1, 1e-3, seed=1))
    message = str(ei.value)
    assert message == f"{h.path}: cannot write history database: {os.strerror(errno.ENOSPC)}"
    assert "not a benchsuite history database" not in message
    monkeypatch.setattr(sqlite3, "connect", connect)
    assert h.runs() == []                                  # nothing half-stored


def test_journal_io_error_on_a_full_disk_says_no_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """SQLite reports a full disk while it creates its WAL as a plain I/O error."""
    def failing_connect(*args, **kwargs):
        exc = sqlite3.OperationalError("disk I/O error")
        exc.sqlite_errorname = "SQLITE_IOERR"
        raise exc

    monkeypatch.setattr(sqlite3, "connect", failing_connect)

    class Stat:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(os, "statvfs", lambda path: Stat())
    with pytest.raises(OutputError, match="No space left on device"):
        History(tmp_path / "h.sqlite")
    Stat.f_bavail = 10**6                                  # space enough: then it is an I/O error
    with pytest.raises(OutputError, match="Input/output error"):
        History(tmp_path / "h.sqlite")


def test_history_in_a_folder_that_cannot_be_made(tmp_path: Path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match=f"{tmp_path / 'afile'}: cannot write history database: Not a directory"):
        History(tmp_path / "afile" / "h.sqlite")


def test_history_failing_after_the_run_exits_1_and_keeps_the_results(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def full(self, doc, source=None):
        raise OutputError(self.path, os.strerror(errno.ENOSPC), "history database", errno.ENOSPC)

    monkeypatch.setattr(History, "add", full)
    status = main(["run", "--profile", "quick", "-k", "gelu", "--device", "cpu", "--smoke", "--no-peers",
                   "--json", "r.json"])
    out, err = capsys.readouterr()
    assert status == 1, err
    assert "results: r.json" in out
    assert "history.sqlite: cannot write history database: No space left on device" in err
    from benchsuite.core.results import load_results
    assert load_results(tmp_path / "r.json").status == "complete"
