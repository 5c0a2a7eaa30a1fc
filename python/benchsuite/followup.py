"""What follows a finished run, for the CLI and the pytest plugin alike: store it in the
history, save it as a baseline, compare it with one (saving it as that baseline when the
machine has none yet) and say whether it regressed."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .baseline import resolve_baseline, save_baseline
from .compare import Comparison, Thresholds, compare_runs
from .environment import fingerprint_id
from .results import write_json_atomic, write_text_atomic

__all__ = ["FollowUp", "follow_up"]


@dataclass
class FollowUp:
    messages: list[str] = field(default_factory=list)
    comparison: Comparison | None = None
    comparison_paths: list[Path] = field(default_factory=list)

    @property
    def regressions(self) -> int:
        return len(self.comparison.regressions) if self.comparison else 0


def follow_up(doc: Mapping[str, Any], json_path: str | os.PathLike | None, *, save_as: str | None = None,
              compare_with: str | None = None, thresholds: Thresholds | None = None,
              allow_environment_mismatch: bool = False, history: bool | str | os.PathLike = True) -> FollowUp:
    """Run the follow-ups in a safe order: the history and a requested baseline first, so a
    refused comparison (different machine) loses nothing."""
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
        base = resolve_baseline(compare_with, doc["environment"])
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
            write_json_atomic(jp, comparison.to_dict())
            write_text_atomic(mp, comparison.to_markdown())
            out.comparison_paths = [jp, mp]
        counts = ", ".join(f"{k} {v}" for k, v in comparison.counts().items() if v)
        out.messages.append(f"compared with baseline {compare_with!r} (run {base.run_id}): {counts}; "
                            f"{len(comparison.regressions)} regression(s)"
                            + (f" -> {out.comparison_paths[0]}" if out.comparison_paths else ""))
    return out
