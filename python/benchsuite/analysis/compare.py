"""Regression verdicts: compare a candidate run with a baseline, case by case.

Time is judged on the raw samples: a Mann-Whitney U test says whether the two sample sets
differ at all, a bootstrap confidence interval of the ratio of medians says by how much,
and a minimum practical effect (the threshold) says whether that matters:

    SLOWER / FASTER   significant (p < alpha) and the median ratio is beyond the threshold
    SAME              the whole confidence interval of the ratio lies within the threshold
    AMBIGUOUS         neither: too noisy to tell, or a change near the threshold
    NOT_COMPARABLE    a side is missing, skipped, failed or invalid, or has no timing

Records without samples fall back on their confidence intervals of the median (disjoint
intervals count as significant). Energy, memory and accuracy are judged against their own
thresholds as SAME / BETTER / WORSE. A case is a regression when it is SLOWER or any
other metric is WORSE. Runs from different machines (environment fingerprints) are refused
unless asked, and then every verdict is flagged.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..core.environment import fingerprint, fingerprint_id
from ..core.errors import EnvironmentMismatchError, InvalidArgumentError
from ..core.fields import metric_value, number, record_key

__all__ = ["Thresholds", "compare_samples", "SampleComparison", "MetricChange", "CaseComparison",
           "Comparison", "compare_runs", "environment_differences", "EnvironmentMismatchError",
           "VERDICTS"]

VERDICTS = ("SAME", "FASTER", "SLOWER", "AMBIGUOUS", "NOT_COMPARABLE")
MIN_SAMPLES = 5          # fewer than this per side: judge on the confidence intervals instead
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Thresholds:
    """Minimum practical effects: relative for time, energy and memory; absolute (a fraction)
    for accuracy."""

    time: float = 0.10
    energy: float = 0.05
    accuracy: float = 0.01
    memory: float = 0.10

    @classmethod
    def parse(cls, text: str | None) -> "Thresholds":
        """`time=10%,energy=5%,accuracy=1%,memory=10%` (any subset; `0.1` means 10%)."""
        if not text:
            return cls()
        values: dict[str, float] = {}
        for part in text.split(","):
            key, sep, value = part.strip().partition("=")
            key = key.strip()
            if not sep or key not in cls.__dataclass_fields__:
                raise InvalidArgumentError(
                    f"threshold={part.strip()!r}: expected KEY=VALUE with KEY one of "
                    f"{', '.join(cls.__dataclass_fields__)}")
            value = value.strip()
            match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(%?)", value)
            if not match:
                raise InvalidArgumentError(f"threshold {key}={value!r}: expected a number such as 10% or 0.1")
            number_ = float(match.group(1)) / (100.0 if match.group(2) else 1.0)
            if not 0 <= number_ < 10:
                raise InvalidArgumentError(f"threshold {key}={value!r}: must be between 0 and 1000%")
            values[key] = number_
        return cls(**values)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class SampleComparison:
    verdict: str
    ratio: float | None            # candidate median / baseline median (> 1: slower)
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    method: str                    # mann_whitney+bootstrap | ci_overlap | none
    reason: str | None = None


def _bootstrap_ratio_ci(base: np.ndarray, cand: np.ndarray, level: float, rng: np.random.Generator
                        ) -> tuple[float, float]:
    """Percentile bootstrap interval of median(cand) / median(base)."""
    b = np.median(base[rng.integers(0, base.size, (BOOTSTRAP_RESAMPLES, base.size))], axis=1)
    c = np.median(cand[rng.integers(0, cand.size, (BOOTSTRAP_RESAMPLES, cand.size))], axis=1)
    ratios = c / b
    tail = (1.0 - level) / 2.0
    return float(np.quantile(ratios, tail)), float(np.quantile(ratios, 1.0 - tail))


def _verdict(ratio: float, ci_low: float, ci_high: float, significant: bool, threshold: float) -> str:
    upper, lower = 1.0 + threshold, 1.0 / (1.0 + threshold)
    if significant and ratio > upper:
        return "SLOWER"
    if significant and ratio < lower:
        return "FASTER"
    if lower <= ci_low and ci_high <= upper:
        return "SAME"
    return "AMBIGUOUS"


def compare_samples(base: Sequence[float], cand: Sequence[float], threshold: float = 0.10,
                    alpha: float = 0.05, level: float = 0.95, seed: int = 0) -> SampleComparison:
    """Verdict for two sets of per-iteration times (seconds; lower is better)."""
    b = np.asarray([x for x in base if number(x) is not None and x > 0], dtype=np.float64)
    c = np.asarray([x for x in cand if number(x) is not None and x > 0], dtype=np.float64)
    if b.size < MIN_SAMPLES or c.size < MIN_SAMPLES:
        return SampleComparison("AMBIGUOUS", None, None, None, None, "none",
                                f"too few samples ({b.size} baseline, {c.size} candidate; need {MIN_SAMPLES})")
    ratio = float(np.median(c) / np.median(b))
    if np.all(b == b[0]) and np.all(c == c[0]):  # no spread at all (synthetic or quantised)
        p_value = 1.0 if b[0] == c[0] else 0.0
    else:
        from scipy import stats as sps  # imported here: runs that compare nothing need no scipy
        p_value = float(sps.mannwhitneyu(b, c, alternative="two-sided").pvalue)
    ci_low, ci_high = _bootstrap_ratio_ci(b, c, level, np.random.default_rng(seed))
    return SampleComparison(_verdict(ratio, ci_low, ci_high, p_value < alpha, threshold), ratio, ci_low,
                            ci_high, p_value, "mann_whitney+bootstrap")


def _compare_by_intervals(base: Mapping[str, Any], cand: Mapping[str, Any], threshold: float
                          ) -> SampleComparison:
    """Without samples: the ratio of medians, and its interval from the two medians' intervals."""
    bm, cm = number(base.get("median")), number(cand.get("median"))
    if not bm or not cm:
        return SampleComparison("NOT_COMPARABLE", None, None, None, None, "none", "no median time")
    ratio = cm / bm
    bl, bh = number(base.get("ci_low")), number(base.get("ci_high"))
    cl, ch = number(cand.get("ci_low")), number(cand.get("ci_high"))
    if not (bl and bh and cl and ch):
        return SampleComparison("AMBIGUOUS", ratio, None, None, None, "none",
                                "no samples and no confidence interval: cannot judge the noise")
    ci_low, ci_high = cl / bh, ch / bl
    significant = ch < bl or cl > bh
    return SampleComparison(_verdict(ratio, ci_low, ci_high, significant, threshold), ratio, ci_low, ci_high,
                            None, "ci_overlap")


@dataclass
class MetricChange:
    metric: str
    baseline: float | None
    candidate: float | None
    change: float | None           # relative (energy, memory) or absolute (accuracy)
    verdict: str                   # SAME | BETTER | WORSE


@dataclass
class CaseComparison:
    name: str
    verdict: str
    regression: bool
    ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    method: str = "none"
    baseline_median_s: float | None = None
    candidate_median_s: float | None = None
    reason: str | None = None
    changes: list[MetricChange] = field(default_factory=list)
    flagged: str | None = None     # set when the environments differ but comparison was forced


def _relative_change(metric: str, base: Mapping, cand: Mapping, threshold: float) -> MetricChange | None:
    b, c = metric_value(base, metric), metric_value(cand, metric)
    if b is None or c is None or b <= 0:
        return None
    change = c / b - 1.0
    verdict = "WORSE" if c > b * (1 + threshold) else "BETTER" if c < b / (1 + threshold) else "SAME"
    return MetricChange(metric, b, c, change, verdict)


def _accuracy_changes(base: Mapping, cand: Mapping, threshold: float) -> list[MetricChange]:
    out = []
    b, c = metric_value(base, "accuracy"), metric_value(cand, "accuracy")
    if b is not None and c is not None:
        diff = c - b
        out.append(MetricChange("accuracy", b, c, diff,
                                "WORSE" if diff < -threshold else "BETTER" if diff > threshold else "SAME"))
    bp = ((base.get("metrics") or {}).get("correctness") or {}).get("passed")
    cp = ((cand.get("metrics") or {}).get("correctness") or {}).get("passed")
    if bp is True and cp is False:
        out.append(MetricChange("correctness", 1.0, 0.0, -1.0, "WORSE"))
    return out


def _not_comparable(name: str, reason: str, base: Mapping | None = None, cand: Mapping | None = None
                    ) -> CaseComparison:
    def median(r: Mapping | None) -> float | None:
        return number((r or {}).get("stats", {}).get("median")) if r and r.get("stats") else None
    return CaseComparison(name, "NOT_COMPARABLE", False, baseline_median_s=median(base),
                          candidate_median_s=median(cand), reason=reason)


def compare_records(base: Mapping[str, Any], cand: Mapping[str, Any], thresholds: Thresholds | None = None,
                    alpha: float = 0.05) -> CaseComparison:
    """Verdict for one case measured in both runs."""
    t = thresholds or Thresholds()
    name = record_key(cand)
    if base.get("status") == "invalid":
        return _not_comparable(name, "baseline result is invalid (" + "; ".join(base.get("reasons") or []) + ")",
                               base, cand)
    if base.get("status") != "ok":
        return _not_comparable(name, f"baseline result is {base.get('status')} ({base.get('reason')})", base, cand)
    if cand.get("status") != "ok":
        why = "; ".join(cand.get("reasons") or []) or cand.get("reason") or cand.get("error") or ""
        return _not_comparable(name, f"candidate result is {cand.get('status')} ({why})", base, cand)
    bs_, cs_ = base.get("stats") or {}, cand.get("stats") or {}
    b_samples, c_samples = base.get("samples") or [], cand.get("samples") or []
    if len(b_samples) >= MIN_SAMPLES and len(c_samples) >= MIN_SAMPLES:
        sc = compare_samples(b_samples, c_samples, t.time, alpha)
    else:
        sc = _compare_by_intervals(bs_, cs_, t.time)
    changes = [c for c in (_relative_change("joules_per_iter", base, cand, t.energy),
                           _relative_change("peak_memory_bytes", base, cand, t.memory)) if c]
    changes += _accuracy_changes(base, cand, t.accuracy)
    regression = sc.verdict == "SLOWER" or any(c.verdict == "WORSE" for c in changes)
    return CaseComparison(name, sc.verdict, regression, sc.ratio, sc.ci_low, sc.ci_high, sc.p_value, sc.method,
                          number(bs_.get("median")), number(cs_.get("median")), sc.reason, changes)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(f"{prefix}[{i}]", v, out)
    else:
        out[prefix] = value


def environment_differences(base_env: Mapping[str, Any], cand_env: Mapping[str, Any]) -> list[str]:
    """The fingerprint fields that differ, as `field: base -> candidate` lines."""
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flatten("", fingerprint(dict(base_env)), a)
    _flatten("", fingerprint(dict(cand_env)), b)
    return [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


@dataclass
class Comparison:
    baseline: str                  # where the baseline came from (name or path)
    candidate: str
    baseline_run_id: str
    candidate_run_id: str
    thresholds: Thresholds
    alpha: float
    cases: list[CaseComparison]
    environment_differences: list[str]
    baseline_fingerprint: str
    candidate_fingerprint: str

    @property
    def regressions(self) -> list[CaseComparison]:
        return [c for c in self.cases if c.regression]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(VERDICTS, 0)
        for c in self.cases:
            counts[c.verdict] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "benchsuite-comparison", "baseline": self.baseline, "candidate": self.candidate,
            "baseline_run_id": self.baseline_run_id, "candidate_run_id": self.candidate_run_id,
            "baseline_fingerprint": self.baseline_fingerprint, "candidate_fingerprint": self.candidate_fingerprint,
            "thresholds": self.thresholds.to_dict(), "alpha": self.alpha,
            "environment_differences": self.environment_differences,
            "counts": self.counts(), "regressions": len(self.regressions),
            "cases": [asdict(c) for c in self.cases],
        }

    def rows(self) -> list[list[str]]:
        """Table rows: case, verdict, baseline, candidate, ratio [CI], p, notes."""
        rows = []
        for c in self.cases:
            ratio = "-" if c.ratio is None else f"{c.ratio:.3f}"
            if c.ci_low is not None and c.ci_high is not None:
                ratio += f" [{c.ci_low:.3f}, {c.ci_high:.3f}]"
            notes = [f"{m.metric} {m.verdict.lower()} ({_change_text(m)})" for m in c.changes
                     if m.verdict != "SAME"]
            if c.reason:
                notes.append(c.reason)
            if c.flagged:
                notes.append(c.flagged)
            rows.append([c.name, c.verdict + (" (regression)" if c.regression and c.verdict != "SLOWER" else ""),
                         _ms(c.baseline_median_s), _ms(c.candidate_median_s), ratio,
                         "-" if c.p_value is None else f"{c.p_value:.2g}", "; ".join(notes)])
        return rows

    def to_markdown(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts().items() if v)
        lines = [f"# Comparison: {self.candidate} vs baseline {self.baseline}", "",
                 f"- baseline run `{self.baseline_run_id}`, candidate run `{self.candidate_run_id}`",
                 "- thresholds: " + ", ".join(f"{k} {v:.0%}" for k, v in self.thresholds.to_dict().items())
                 + f"; alpha {self.alpha}",
                 f"- verdicts: {counts or 'none'}; regressions: {len(self.regressions)}"]
        if self.environment_differences:
            lines.append("- **environments differ** (verdicts flagged): "
                         + "; ".join(self.environment_differences))
        lines += ["", "| case | verdict | baseline ms | candidate ms | ratio [95% CI] | p | notes |",
                  "|---|---|---:|---:|---|---:|---|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows()]
        return "\n".join(lines) + "\n"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.4g}"


def _change_text(m: MetricChange) -> str:
    if m.change is None:
        return "-"
    return f"{m.change:+.1%}" if m.metric != "accuracy" else f"{m.change:+.3f}"


def compare_runs(base_doc: Mapping[str, Any], cand_doc: Mapping[str, Any], thresholds: Thresholds | None = None,
                 *, alpha: float = 0.05, allow_environment_mismatch: bool = False,
                 baseline_label: str | None = None, candidate_label: str | None = None) -> Comparison:
    """Compare every case of the candidate run with the same case (by full name) in the baseline.
    Cases found on one side only are NOT_COMPARABLE with the reason."""
    if not 0 < alpha < 1:
        raise InvalidArgumentError(f"alpha={alpha!r}: must be between 0 and 1")
    t = thresholds or Thresholds()
    diffs = environment_differences(base_doc["environment"], cand_doc["environment"])
    if diffs and not allow_environment_mismatch:
        raise EnvironmentMismatchError(
            "refusing to compare runs from different environments (" + "; ".join(diffs[:4])
            + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")
            + "); pass --allow-env-mismatch to compare anyway with every verdict flagged")
    base_by_name = {record_key(r): r for r in base_doc["benchmarks"]}
    cand_names = set()
    cases: list[CaseComparison] = []
    for record in cand_doc["benchmarks"]:
        name = record_key(record)
        cand_names.add(name)
        base = base_by_name.get(name)
        case = (compare_records(base, record, t, alpha) if base is not None
                else _not_comparable(name, "not in the baseline", None, record))
        if diffs:
            case.flagged = "environments differ"
        cases.append(case)
    for name, base in base_by_name.items():
        if name not in cand_names:
            cases.append(_not_comparable(name, "not in the candidate run", base, None))
    return Comparison(baseline_label or base_doc["run_id"], candidate_label or cand_doc["run_id"],
                      base_doc["run_id"], cand_doc["run_id"], t, alpha, cases, diffs,
                      fingerprint_id(dict(base_doc["environment"])), fingerprint_id(dict(cand_doc["environment"])))


def print_table(comparison: Comparison, file: Any = None) -> None:
    """The comparison as a terminal table (rich), with a one-line verdict count under it."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    console = Console(file=file)
    if not console.is_terminal:
        console.width = 220  # a log or a pipe: no folding of long case names
    table = Table(title=f"{comparison.candidate} vs {comparison.baseline}", show_lines=False)
    for header, justify in (("case", "left"), ("verdict", "left"), ("base ms", "right"), ("cand ms", "right"),
                            ("ratio [95% CI]", "left"), ("p", "right"), ("notes", "left")):
        table.add_column(header, justify=justify, overflow="fold")
    style = {"SLOWER": "red", "FASTER": "green", "AMBIGUOUS": "yellow", "NOT_COMPARABLE": "dim"}
    for case, row in zip(comparison.cases, comparison.rows()):
        table.add_row(*(Text(cell) for cell in row), style=style.get(case.verdict, "red" if case.regression else None))
    console.print(table)
    counts = " ".join(f"{k}={v}" for k, v in comparison.counts().items())
    console.print(f"{counts} regressions={len(comparison.regressions)}", highlight=False)
    if comparison.environment_differences:
        console.print("environments differ: " + "; ".join(comparison.environment_differences), highlight=False)
