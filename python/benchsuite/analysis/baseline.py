"""Named baselines, stored under .benchsuite/baselines/<fingerprint>/<name>.json in the working
directory (or $BENCHSUITE_DIR), keyed by the machine fingerprint so a baseline saved on one
machine or build is never silently used on another.

A baseline is a valid run document holding the run's `ok` cases only: `invalid` results
(noise, throttling, too few samples) are never used as a reference, and skipped or failed
cases have nothing to compare. Its config says where it came from."""
from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.environment import fingerprint_id
from ..core.errors import InvalidArgumentError, ResultsFileError
from ..core.results import RunResults, load_results, utc_now_iso, validate_run, write_json_atomic

__all__ = ["state_dir", "baseline_dir", "check_baseline_name", "SavedBaseline", "save_baseline", "find_baseline",
           "resolve_baseline", "list_baselines"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def state_dir() -> Path:
    """Where benchsuite keeps baselines and history: $BENCHSUITE_DIR, else ./.benchsuite."""
    return Path(os.environ.get("BENCHSUITE_DIR") or Path.cwd() / ".benchsuite")


def baseline_dir() -> Path:
    return state_dir() / "baselines"


def check_baseline_name(name: str) -> str:
    """`name` when it is a usable baseline name (it becomes a file name), else InvalidArgumentError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgumentError(
            f"baseline name={name!r}: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name


@dataclass
class SavedBaseline:
    name: str
    path: Path
    fingerprint: str
    kept: int                      # ok cases saved
    excluded_invalid: int
    excluded_other: int            # skipped or failed


def save_baseline(doc: Mapping[str, Any], name: str) -> SavedBaseline:
    """Save the ok cases of a run as baseline `name` for the run's machine fingerprint."""
    check_baseline_name(name)
    if (doc.get("config") or {}).get("smoke"):
        raise InvalidArgumentError(f"baseline {name!r}: run {doc['run_id']} is a smoke run (one short sample per "
                                   "case) and cannot be a baseline; measure for real first")
    base = copy.deepcopy(dict(doc))
    records = base["benchmarks"]
    kept = [r for r in records if r.get("status") == "ok"]
    invalid = sum(1 for r in records if r.get("status") == "invalid")
    base["benchmarks"] = kept
    fp = fingerprint_id(base["environment"])
    base["config"] = dict(base["config"], baseline={
        "name": name, "saved_utc": utc_now_iso(), "source_run_id": doc["run_id"], "fingerprint": fp,
        "excluded_invalid": invalid, "excluded_other": len(records) - len(kept) - invalid})
    validate_run(base, source=f"baseline {name}")
    path = baseline_dir() / fp / f"{name}.json"
    write_json_atomic(path, base, what="baseline")
    return SavedBaseline(name, path, fp, len(kept), invalid, len(records) - len(kept) - invalid)


def find_baseline(name: str, environment: Mapping[str, Any]) -> Path | None:
    """The file of baseline `name` for this environment's fingerprint, or None."""
    path = baseline_dir() / fingerprint_id(dict(environment)) / f"{check_baseline_name(name)}.json"
    return path if path.is_file() else None


def list_baselines() -> list[dict[str, Any]]:
    """Every stored baseline: name, fingerprint, path."""
    out = []
    root = baseline_dir()
    if root.is_dir():
        for path in sorted(root.glob("*/*.json")):
            out.append({"name": path.stem, "fingerprint": path.parent.name, "path": str(path)})
    return out


def resolve_baseline(name_or_file: str, environment: Mapping[str, Any]) -> RunResults | None:
    """A baseline given by file path or by name (looked up for this machine's fingerprint).

    Returns None when `name_or_file` is a name with no baseline for this machine yet; raises
    ResultsFileError for a file that does not exist or is not a valid results file."""
    as_path = Path(name_or_file)
    looks_like_file = name_or_file.endswith(".json") or os.sep in name_or_file or as_path.is_file()
    if looks_like_file:
        return load_results(as_path)
    path = find_baseline(name_or_file, environment)
    if path is None:
        return None
    try:
        return load_results(path)
    except ResultsFileError as exc:
        raise ResultsFileError(str(path), exc.field, f"stored baseline {name_or_file!r} is unreadable ({exc}); "
                               "save it again to replace it") from exc
