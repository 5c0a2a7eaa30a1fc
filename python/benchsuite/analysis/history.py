"""The run history: every run in one SQLite file (.benchsuite/history.sqlite, or
$BENCHSUITE_DIR), so a case's metric can be followed across runs and its change points found.

SQLite in WAL mode lets readers work while a run is written. Writers take an exclusive file
lock beside the database and then `BEGIN IMMEDIATE`, so two processes adding runs at once
queue instead of failing or losing one; adding a run that is already stored is a no-op.

Change points: the optimal segmentation of a case's log values (optimal partitioning, the
exact form of PELT) under a squared-error cost in units of the run-to-run noise (estimated
from first differences, so level shifts do not inflate it) plus a penalty of
`penalty * ln(n)` per change, BIC-like; then shifts whose segment medians differ by less
than `min_change` are merged away, so only changes that matter are flagged."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.environment import fingerprint_id
from ..core.errors import BenchsuiteError, HistoryError, InvalidArgumentError, OutputError, ResultsFileError
from ..core.fields import metric, number
from ..core.results import utc_now_iso, validate_run
from .baseline import state_dir

__all__ = ["History", "HistoryPoint", "change_points", "level_changes", "default_history_path", "HistoryError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, suite TEXT, timestamp_utc TEXT, status TEXT, fingerprint TEXT,
    git_commit TEXT, git_dirty INTEGER, host TEXT, profile TEXT, cases INTEGER, source TEXT,
    added_utc TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    run_id TEXT NOT NULL REFERENCES runs(run_id), idx INTEGER NOT NULL, name TEXT NOT NULL,
    case_name TEXT, grp TEXT, backend TEXT, device TEXT, implementation TEXT, status TEXT,
    median_s REAL, record TEXT NOT NULL, PRIMARY KEY (run_id, idx));
CREATE INDEX IF NOT EXISTS records_by_name ON records(name);
"""
_VERSION = 1


def default_history_path() -> Path:
    return state_dir() / "history.sqlite"


@dataclass
class HistoryPoint:
    run_id: str
    timestamp_utc: str
    git_commit: str | None
    status: str
    value: float | None


class History:
    """A handle on the history database; cheap to open, safe to share between processes."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_history_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OutputError(self.path.parent, os.strerror(errno.ENOTDIR), "history database",
                              errno.ENOTDIR) from None
        except OSError as exc:
            raise OutputError.from_os(exc, None, "history database") from None
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        with self._write_lock(), self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, _VERSION):
                raise HistoryError(f"{self.path}: history schema version {version} is not supported "
                                   f"(this benchsuite writes {_VERSION})")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {_VERSION}")

    def _error(self, exc: sqlite3.Error) -> BenchsuiteError:
        """What an SQLite error means for the user: a full disk, a read-only or unopenable file,
        an I/O error (OutputError, naming the database and the reason), or a file that is not
        a history database at all (HistoryError)."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        code = name.split("_")[1] if name.count("_") >= 1 else ""
        if code == "FULL" or "disk is full" in text or (code in ("IOERR", "CANTOPEN") and self._disk_full()):
            return OutputError(self.path, os.strerror(errno.ENOSPC), "history database", errno.ENOSPC)
        if code in ("READONLY", "PERM") or "readonly" in text:
            return OutputError(self.path, f"{os.strerror(errno.EACCES)} ({text})", "history database", errno.EACCES)
        if code == "CANTOPEN" or "unable to open" in text:
            return OutputError(self.path, f"cannot open the database file ({text})", "history database")
        if code == "IOERR" or "disk I/O error" in text:
            return OutputError(self.path, f"{os.strerror(errno.EIO)} ({text})", "history database", errno.EIO)
        if code in ("NOTADB", "CORRUPT") or isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
            return HistoryError(f"{self.path}: not a benchsuite history database ({text})")
        return HistoryError(f"{self.path}: history database error ({text})")

    def _disk_full(self) -> bool:
        """SQLite reports a full disk while it creates its journal as a plain I/O error: ask the
        file system whether space ran out."""
        try:
            st = os.statvfs(self.path.parent)
        except OSError:
            return False
        return st.f_bavail * st.f_frsize < 64 * 1024

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA busy_timeout=60000")
                yield db
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        try:
            handle = open(self._lock_path, "a+")
        except OSError as exc:
            raise OutputError.from_os(exc, None, "history database") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ writing
    def add(self, doc: Mapping[str, Any], source: str | None = None) -> bool:
        """Store a run. The document is validated first: a bad one raises ResultsFileError naming
        the field and stores nothing. False when a run with that id is already stored."""
        validate_run(doc, source or "<memory>")
        env = doc["environment"]
        git = env.get("git") or {}
        records = doc["benchmarks"]
        try:
            fingerprint = fingerprint_id(env)
        except (AttributeError, TypeError) as exc:  # the schema leaves environment.build free-form
            raise ResultsFileError(source or "<memory>", "environment",
                                   f"cannot take the machine fingerprint: {exc}") from None
        with self._write_lock(), self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT 1 FROM runs WHERE run_id = ?", (doc["run_id"],)).fetchone():
                    db.execute("ROLLBACK")
                    return False
                db.execute(
                    "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc["run_id"], doc["suite"], doc["timestamp_utc"], doc["status"], fingerprint,
                     git.get("commit"), None if git.get("dirty") is None else int(bool(git.get("dirty"))),
                     env.get("host"), (doc.get("config") or {}).get("profile"), len(records), source,
                     utc_now_iso(), json.dumps(doc, separators=(",", ":"))))
                db.executemany(
                    "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(doc["run_id"], i, r["name"], r.get("case"), r.get("group"), r.get("backend"), r.get("device"),
                      r.get("implementation"), r.get("status"), number((r.get("stats") or {}).get("median")),
                      json.dumps(r, separators=(",", ":"))) for i, r in enumerate(records)])
                db.execute("COMMIT")
            except BaseException:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass   # SQLite already rolled back (a full disk does): report the first error
                raise
        return True

    # ------------------------------------------------------------------ reading
    def runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Stored runs, newest first: id, time, suite, status, cases, fingerprint, commit."""
        query = ("SELECT run_id, timestamp_utc, suite, status, cases, fingerprint, git_commit, git_dirty, host, "
                 "profile, source FROM runs ORDER BY timestamp_utc DESC, run_id DESC")
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        keys = ("run_id", "timestamp_utc", "suite", "status", "cases", "fingerprint", "git_commit", "git_dirty",
                "host", "profile", "source")
        with self._connect() as db:
            return [dict(zip(keys, row)) for row in db.execute(query)]

    def run(self, run_id: str) -> dict[str, Any]:
        with self._connect() as db:
            row = db.execute("SELECT doc FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise InvalidArgumentError(f"run_id={run_id!r}: not in the history {self.path}")
        return json.loads(row[0])

    def case_names(self, pattern: str) -> list[str]:
        """The stored case named `pattern`, else those it selects as `-k` does (a glob or a part)."""
        from ..harness.runner import matches
        with self._connect() as db:
            names = [row[0] for row in db.execute("SELECT DISTINCT name FROM records ORDER BY name")]
        return [pattern] if pattern in names else [n for n in names if matches(n, pattern)]

    def series(self, name: str, metric_name: str = "latency_p50_ms",
               fingerprint: str | None = None) -> list[HistoryPoint]:
        """One case's metric across the stored runs, oldest first (optionally one machine only)."""
        m = metric(metric_name)
        query = ("SELECT r.run_id, runs.timestamp_utc, runs.git_commit, r.status, r.record FROM records r "
                 "JOIN runs ON runs.run_id = r.run_id WHERE r.name = ?")
        args: list[Any] = [name]
        if fingerprint:
            query += " AND runs.fingerprint = ?"
            args.append(fingerprint)
        query += " ORDER BY runs.timestamp_utc, r.run_id"
        with self._connect() as db:
            rows = db.execute(query, args).fetchall()
        return [HistoryPoint(run_id, ts, commit, status, m.value(json.loads(rec)) if status == "ok" else None)
                for run_id, ts, commit, status, rec in rows]


    def trend(self, name: str, metric_name: str = "latency_p50_ms") -> tuple[list[HistoryPoint], list[int]]:
        """The runs where the case has a positive value of the metric, oldest first, and the
        indices (into that list) where a new level starts."""
        return level_changes(self.series(name, metric_name))


def level_changes(points: Sequence[HistoryPoint]) -> tuple[list[HistoryPoint], list[int]]:
    """The points that have a positive value and the indices among them where a new level starts."""
    valued = [p for p in points if p.value is not None and p.value > 0]
    return valued, change_points([p.value for p in valued])


def change_points(values: Sequence[float], *, min_change: float = 0.05, min_size: int = 2,
                  penalty: float = 3.0) -> list[int]:
    """Indices where a new level starts (the first value of the new segment), ascending."""
    x = np.asarray(values, dtype=np.float64)
    if x.size and (not np.all(np.isfinite(x)) or np.any(x <= 0)):
        raise InvalidArgumentError("values: change points need finite positive values")
    n = x.size
    if n < 2 * min_size:
        return []
    y = np.log(x)
    # run-to-run noise from first differences (robust to the level shifts themselves)
    sigma = max(1.4826 * float(np.median(np.abs(np.diff(y)))) / math.sqrt(2.0), 1e-3)
    s1 = np.concatenate([[0.0], np.cumsum(y)])
    s2 = np.concatenate([[0.0], np.cumsum(y * y)])

    def cost(a: int, b: int) -> float:   # squared deviations from the mean of y[a:b], in noise units
        m = b - a
        return (s2[b] - s2[a] - (s1[b] - s1[a]) ** 2 / m) / (sigma * sigma)

    beta = penalty * math.log(n)
    best = np.full(n + 1, np.inf)
    best[0] = -beta
    last = np.zeros(n + 1, dtype=int)
    for b in range(min_size, n + 1):
        for a in range(0, b - min_size + 1):
            if a != 0 and a < min_size:
                continue
            if not np.isfinite(best[a]):
                continue
            c = best[a] + cost(a, b) + beta
            if c < best[b]:
                best[b], last[b] = c, a
    cps: list[int] = []
    b = n
    while b > 0:
        a = int(last[b])
        if a > 0:
            cps.append(a)
        b = a
    cps.sort()
    # keep only shifts that matter: merge neighbours whose medians differ by less than min_change
    changed = True
    while changed and cps:
        changed = False
        bounds = [0, *cps, n]
        shifts = [abs(math.exp(np.median(y[bounds[i + 1]:bounds[i + 2]]) - np.median(y[bounds[i]:bounds[i + 1]]))
                      - 1.0) for i in range(len(cps))]
        smallest = int(np.argmin(shifts))
        if shifts[smallest] < min_change:
            del cps[smallest]
            changed = True
    return cps
