"""What follows a finished run, for the CLI and the pytest plugin alike: store it in the
history, save it as a baseline, compare it with one (saving it as that baseline when the
machine has none yet) and say whether it regressed. `check_follow_up` finds, before anything
is measured, what would make those steps fail: an unwritable history or baseline folder, a
damaged history, a missing or broken --compare file or stored baseline."""
from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.environment import fingerprint_id
from ..core.errors import InvalidArgumentError, OutputError
from ..core.results import RunResults, check_writable_dir, write_json_atomic, write_text_atomic
from .baseline import baseline_dir, check_baseline_name, resolve_baseline, save_baseline
from .compare import Comparison, Thresholds, compare_runs

__all__ = ["FollowUp", "follow_up", "check_follow_up"]


@dataclass
class FollowUp:
    messages: list[str] = field(default_factory=list)
    comparison: Comparison | None = None
    comparison_paths: list[Path] = field(default_factory=list)

    @property
    def regressions(self) -> int:
        return len(self.comparison.regressions) if self.comparison else 0


def check_follow_up(environment: Mapping[str, Any], *, save_as: str | None = None, compare_with: str | None = None,
                    history: bool | str | os.PathLike = True, smoke: bool = False) -> RunResults | None:
    """Before the first case: prove the follow-ups can be done, so an hour of measuring is
    never lost to a bad name, a read-only folder or a damaged baseline. Opens (creating if
    needed) the history and write-tests its folder; checks the baseline name(s) and that the
    baseline folder of this machine can be written; loads and validates the --compare
    baseline. Returns that baseline, or None when there is none yet (the run will be saved as
    it). Raises OutputError (path, OS reason), HistoryError, ResultsFileError or
    InvalidArgumentError."""
    if history:
        from .history import History, default_history_path
        path = Path(history) if history is not True else default_history_path()
        check_writable_dir(path.parent, "history database")   # first: it says why (full, read-only)
        store = History(path)
        if store.path.exists() and not os.access(store.path, os.W_OK):
            raise OutputError(store.path, os.strerror(errno.EACCES), "history database", errno.EACCES)
    base: RunResults | None = None
    saves = [save_as] if save_as else []
    if compare_with:
        base = resolve_baseline(compare_with, environment)
        if base is None:
            saves.append(compare_with)
    for name in saves:
        check_baseline_name(name)
        if smoke:
            raise InvalidArgumentError(f"baseline {name!r}: a smoke run (one short sample per case) cannot be a "
                                       "baseline; measure for real first")
    if saves:
        check_writable_dir(baseline_dir() / fingerprint_id(dict(environment)), "baseline")
    return base


def follow_up(doc: Mapping[str, Any], json_path: str | os.PathLike | None, *, save_as: str | None = None,
              compare_with: str | None = None, thresholds: Thresholds | None = None,
              allow_environment_mismatch: bool = False, history: bool | str | os.PathLike = True,
              baseline: RunResults | None = None) -> FollowUp:
    """Run the follow-ups in a safe order: the history and a requested baseline first, so a
    refused comparison (different machine) loses nothing. `baseline`: the --compare baseline
    as check_follow_up loaded it (None: look it up now)."""
    out = FollowUp()
    if history:
        from .history import History
        store = History(None if history is True else history)
        if store.add(doc, source=None if json_path is None else str(json_path)):
            out.messages.append(f"history: run {doc['run_id']} added to {store.path}")
    if save_as:
        saved = save_baseline(doc, save_as)
        out.messages.append(
            f"baseline {saved.name!r} saved for this machine (fingerprint {saved.fingerprint}): {saved.kept} cases"
            + (f", {saved.excluded_invalid} invalid left out" if saved.excluded_invalid else "")
            + f" -> {saved.path}")
    if compare_with:
        base = baseline if baseline is not None else resolve_baseline(compare_with, doc["environment"])
        if base is None:
            saved = save_baseline(doc, compare_with)
            out.messages.append(
                f"no baseline {compare_with!r} for this machine (fingerprint {fingerprint_id(doc['environment'])}) "
                f"yet: saved this run as it ({saved.kept} cases); later runs are compared with it")
            return out
        comparison = compare_runs(base.doc, doc, thresholds, allow_environment_mismatch=allow_environment_mismatch,
                                  baseline_label=compare_with, candidate_label=doc["run_id"])
        out.comparison = comparison
        if json_path is not None:
            stem = Path(json_path).with_suffix("")
            jp, mp = Path(f"{stem}.compare.json"), Path(f"{stem}.compare.md")
            write_json_atomic(jp, comparison.to_dict(), what="comparison")
            write_text_atomic(mp, comparison.to_markdown(), what="comparison")
            out.comparison_paths = [jp, mp]
        counts = ", ".join(f"{k} {v}" for k, v in comparison.counts().items() if v)
        out.messages.append(f"compared with baseline {compare_with!r} (run {base.run_id}): {counts}; "
                            f"{len(comparison.regressions)} regression(s)"
                            + (f" -> {out.comparison_paths[0]}" if out.comparison_paths else ""))
    return out
