"""Reports over one or many runs: a summary, a table per group, the targets table and each
run's environment, written as JSON, Markdown or one self-contained HTML page whose plots
(matplotlib, embedded as PNG) show latency against each case's swept parameter, throughput
as a fraction of the roofline, speedup over the peers and, given a history, each case's trend.
Plots never drop a series silently (every one is in the legend, or the plot is split into
parts), every colour that means something has a key, and with several runs every label names
its run by a short id.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .environment import fingerprint_id
from .errors import ResultsFileError
from .fields import copy_bandwidths, metric_value, number, roofline_fraction
from .results import RunResults, load_results, utc_now_iso, write_json_atomic, write_text_atomic
from .summary import significant
from .targets import Target, TargetResult, evaluate_targets, shipped_profiles

__all__ = ["collect_runs", "Report", "build_report", "render_markdown", "render_html", "make_plots", "write_report"]

_FOREIGN_KINDS = ("benchsuite-comparison", "benchsuite-report")


# --------------------------------------------------------------------------- inputs

def _is_foreign(path: Path) -> bool:
    """JSON files in a results folder that are not run documents (comparisons, reports,
    pytest-benchmark exports): skipped when scanning a folder, never when named."""
    try:
        with open(path, "rb") as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return False          # let load_results report it properly
    return isinstance(doc, dict) and (doc.get("kind") in _FOREIGN_KINDS or "machine_info" in doc)


def _load_in_folder(path: Path) -> RunResults | None:
    """A run file found in a folder; None for the other JSON kept beside runs (read again
    only then, to tell them from broken run files)."""
    try:
        return load_results(path)
    except ResultsFileError:
        if _is_foreign(path):
            return None
        raise


def collect_runs(inputs: Sequence[str | os.PathLike]) -> list[RunResults]:
    """Load every results file named or found (non-recursively) in a named folder, oldest first.
    A bad file stops with a ResultsFileError naming it and the field."""
    if not inputs:
        raise ResultsFileError("<arguments>", None, "no results files or folders given")
    runs: list[RunResults] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = [r for r in (_load_in_folder(p) for p in sorted(path.glob("*.json"))) if r is not None]
            if not found:
                raise ResultsFileError(str(path), None, "folder holds no results files (*.json)")
            runs.extend(found)
        else:
            runs.append(load_results(path))
    seen: set[str] = set()
    unique = []
    for run in sorted(runs, key=lambda r: (r.doc["timestamp_utc"], r.run_id)):
        if run.run_id not in seen:
            seen.add(run.run_id)
            unique.append(run)
    return unique


# --------------------------------------------------------------------------- model

def _params_text(params: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items())


def _throughput(record: Mapping[str, Any]) -> tuple[float | None, str]:
    tp = (record.get("metrics") or {}).get("throughput") or {}
    if number(tp.get("tflop_per_s")):
        return tp["tflop_per_s"], "TFLOP/s"
    if number(tp.get("gb_per_s")):
        return tp["gb_per_s"], "GB/s"
    if number(tp.get("items_per_s")):
        return tp["items_per_s"], f"{tp.get('item_unit') or 'items'}/s"
    return None, ""


def _row(run: RunResults, record: Mapping[str, Any], copy_bw: Mapping[str, float]) -> dict[str, Any]:
    metrics = record.get("metrics") or {}
    tp_value, tp_unit = _throughput(record)
    fraction, fraction_of = roofline_fraction(record, copy_bw)
    energy = metrics.get("energy") or {}
    correctness = metrics.get("correctness") or {}
    return {
        "run_id": run.run_id, "name": record["name"], "case": record.get("case"), "group": record.get("group"),
        "params": _params_text(record.get("params") or {}), "backend": record.get("backend"),
        "device": record.get("device"), "implementation": record.get("implementation"),
        "status": record["status"],
        # the words (reasons, or a failure's error text) and the machine-readable code apart
        "reason": "; ".join(record.get("reasons") or []) or record.get("error") or record.get("reason"),
        "reason_code": record.get("reason"),
        "latency_p50_ms": number(metrics.get("latency_p50_ms")),
        "latency_p95_ms": number(metrics.get("latency_p95_ms")),
        "throughput": tp_value, "throughput_unit": tp_unit,
        "roofline_fraction": fraction, "roofline_of": fraction_of,
        "peak_memory_bytes": number(metrics.get("peak_memory_bytes")),
        "energy_j_per_iter": number(energy.get("joules_per_iter")), "energy_source": energy.get("source"),
        "accuracy": metric_value(record, "accuracy"),
        "max_rel_error": number(correctness.get("max_rel_error")), "correct": correctness.get("passed"),
        "peers": {name: number(p.get("speedup")) for name, p in (metrics.get("peers") or {}).items()},
        "params_values": dict(record.get("params") or {}),
    }


def _environment(run: RunResults) -> dict[str, Any]:
    env = run.environment
    build = env.get("build") or {}
    cuda = build.get("cuda") or {}
    return {
        "run_id": run.run_id, "path": run.path, "suite": run.suite, "status": run.status,
        "timestamp_utc": run.doc["timestamp_utc"], "fingerprint": fingerprint_id(env),
        "host": env.get("host"), "os": " ".join(str((env.get("os") or {}).get(k, "")) for k in ("system", "release")),
        "cpu": f"{(env.get('cpu') or {}).get('model')} ({(env.get('cpu') or {}).get('logical_cores')} logical cores, "
               f"governor {(env.get('cpu') or {}).get('governor') or 'n/a'})",
        "gpus": [f"{g.get('name')} (driver {g.get('driver_version')}, CUDA {g.get('cuda_runtime_version')}, "
                 f"power limit {g.get('power_limit_w')} W)" for g in env.get("gpus") or []],
        "build": f"benchsuite {build.get('version')}, {build.get('cxx_compiler')}, "
                 f"CUDA {'sm ' + ','.join(cuda.get('architectures') or []) if cuda.get('enabled') else 'off'}",
        "python": (env.get("python") or {}).get("version"),
        "git": ((env.get("git") or {}).get("commit") or "")[:12] + (" (dirty)" if (env.get("git") or {}).get("dirty") else ""),
        "profile": run.config.get("profile"), "warnings": list(env.get("warnings") or []),
    }


@dataclass
class Report:
    runs: list[RunResults]
    rows: list[dict[str, Any]]
    targets: list[TargetResult] = field(default_factory=list)
    targets_source: str | None = None
    trends: dict[str, dict[str, Any]] = field(default_factory=dict)   # case -> {metric, points, change_points}
    generated_utc: str = field(default_factory=utc_now_iso)

    def summary(self) -> dict[str, Any]:
        statuses = Counter(r["status"] for r in self.rows)
        return {
            "runs": len(self.runs), "run_ids": [r.run_id for r in self.runs], "cases": len(self.rows),
            "statuses": {s: statuses.get(s, 0) for s in ("ok", "skipped", "failed", "invalid")},
            "groups": sorted({r["group"] for r in self.rows if r["group"]}),
            "backends": sorted({r["backend"] for r in self.rows if r["backend"]}),
            "devices": sorted({r["device"] for r in self.rows if r["device"]}),
            "profiles": sorted({str(run.config.get("profile")) for run in self.runs}),
            "suites": sorted({run.suite for run in self.runs}),
            "fingerprints": sorted({fingerprint_id(run.environment) for run in self.runs}),
        }

    def groups(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self.rows:
            out[row["group"] or "-"].append(row)
        return dict(sorted(out.items()))

    def peers(self) -> list[str]:
        return sorted({p for r in self.rows for p in r["peers"]})

    def short_ids(self) -> dict[str, str]:
        """run_id -> the shortest tail (at least the 6-character random suffix) that tells
        the runs apart: what plots and tables label each run with."""
        ids = [r.run_id for r in self.runs]
        for width in range(6, max((len(i) for i in ids), default=6) + 1):
            tails = {i: i[-width:] for i in ids}
            if len(set(tails.values())) == len(tails):
                return tails
        return {i: i for i in ids}

    def run_tag(self, run_id: str) -> str:
        """' @<short id>' when the report holds several runs, else ''."""
        return f" @{self.short_ids().get(run_id, run_id[-6:])}" if len(self.runs) > 1 else ""

    def to_dict(self) -> dict[str, Any]:
        rows = [{k: v for k, v in r.items() if k != "params_values"} for r in self.rows]
        return {"kind": "benchsuite-report", "generated_utc": self.generated_utc, "summary": self.summary(),
                "rows": rows, "targets": [t.to_dict() for t in self.targets],
                "targets_source": self.targets_source,
                "environments": [_environment(r) for r in self.runs], "trends": self.trends}


def build_report(runs: Sequence[RunResults], targets: Iterable[Target] | None = None,
                 targets_source: str | None = None, history: Any = None,
                 trend_metric: str = "latency_p50_ms", max_trends: int = 12,
                 profiles: Iterable[Any] | None = None) -> Report:
    """The report model. `history` (a benchsuite.history.History) adds each case's trend.
    A target nothing measured names the `profiles` (default: every profile --profile NAME
    finds) whose sweeps measure it."""
    rows = []
    for run in runs:
        bw = copy_bandwidths(run.benchmarks)
        rows.extend(_row(run, rec, bw) for rec in run.benchmarks)
    report = Report(list(runs), rows, targets_source=targets_source)
    if targets is not None:
        report.targets = evaluate_targets(targets, [(r.run_id, r.benchmarks) for r in runs],
                                          shipped_profiles() if profiles is None else profiles)
    if history is not None:
        report.trends = _trends(history, [r["name"] for r in rows if r["status"] == "ok"], trend_metric, max_trends)
    return report


def _trends(history: Any, names: list[str], metric_name: str, limit: int) -> dict[str, dict[str, Any]]:
    trends: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(names):
        points, cps = history.trend(name, metric_name)
        if len(points) < 2:
            continue
        trends[name] = {"metric": metric_name, "change_points": cps,
                        "points": [{"run_id": p.run_id, "timestamp_utc": p.timestamp_utc, "value": p.value,
                                    "git_commit": p.git_commit} for p in points]}
    # cases with change points first, then the longest histories
    ordered = sorted(trends.items(), key=lambda kv: (-len(kv[1]["change_points"]), -len(kv[1]["points"])))
    return dict(ordered[:limit])


# --------------------------------------------------------------------------- text helpers

def _sig(value: float | None) -> str:
    return "-" if value is None else significant(value)


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} B"


def _columns(report: Report) -> list[tuple[str, str]]:
    """(key, header) of the per-group table; optional columns only when some row has them."""
    cols = [("name", "case"), ("status", "status"), ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"),
            ("throughput", "throughput"), ("roofline_fraction", "of roofline"),
            ("peak_memory_bytes", "peak memory")]
    if any(r["energy_j_per_iter"] is not None for r in report.rows):
        cols.append(("energy_j_per_iter", "energy J/iter"))
    if any(r["accuracy"] is not None for r in report.rows):
        cols.append(("accuracy", "accuracy"))
    if any(r["max_rel_error"] is not None for r in report.rows):
        cols.append(("max_rel_error", "max rel error"))
    cols += [(f"peer:{p}", f"vs {p}") for p in report.peers()]
    if len(report.runs) > 1:
        cols.insert(0, ("run_id", "run"))
    return cols


_SHORT_REASON = 60     # a reason text up to this long, on one row only, is shown in its cell


def _reason_text(row: Mapping[str, Any]) -> str:
    """A row's reason text without the case name some messages start with ("softmax: CUDA is
    unavailable (...)"), so the same reason reads the same on every case."""
    text = str(row.get("reason") or "")
    prefix = f"{row.get('case')}: "
    return text[len(prefix):] if text.startswith(prefix) else text


@dataclass
class _StatusNote:
    status: str
    code: str
    text: str
    names: list[str] = field(default_factory=list)

    def line(self) -> str:
        who = (f"{len(self.names)} rows" if len(self.names) > 1 else self.names[0])
        return f"{self.status} ({self.code}), {who}: {self.text}"


def _status_cells(rows: Sequence[Mapping[str, Any]]) -> tuple[list[tuple[str, str | None]], list[_StatusNote]]:
    """Per row, the status cell's (text, tooltip), and the notes shown once above the table.
    A reason that is short and on one row only stays in its cell; a repeated or long one (the
    same "CUDA is unavailable ..." on every CUDA case) leaves its machine-readable code in the
    cell, its full text in the tooltip and in one note."""
    counts = Counter(_reason_text(r) for r in rows if r["status"] != "ok")
    notes: dict[tuple[str, str, str], _StatusNote] = {}
    cells: list[tuple[str, str | None]] = []
    for r in rows:
        status, text = r["status"], _reason_text(r)
        code = str(r.get("reason_code") or "")
        if status == "ok" or not text:
            cells.append((status + (f" ({code})" if code and status != "ok" else ""), None))
        elif text == code or (counts[text] == 1 and len(text) <= _SHORT_REASON):
            cells.append((f"{status} ({text})", None))
        else:
            code = code or ("error" if status == "failed" else status)
            note = notes.setdefault((status, code, text), _StatusNote(status, code, text))
            note.names.append(str(r["name"]))
            cells.append((f"{status} ({code})", text))
    return cells, list(notes.values())


def _cell(row: Mapping[str, Any], key: str, short_ids: Mapping[str, str] | None = None) -> tuple[str, Any]:
    """(display text, sort value) of one cell (the status cell: see _status_cells)."""
    if key.startswith("peer:"):
        v = row["peers"].get(key[5:])
        return ("-" if v is None else f"{v:.2f}x"), v
    v = row.get(key)
    if key == "status":
        text = v + (f" ({row['reason']})" if row["reason"] and v != "ok" else "")
        return text, v
    if key == "throughput":
        return ("-" if v is None else f"{v:.4g} {row['throughput_unit']}"), v
    if key == "roofline_fraction":
        return ("-" if v is None else f"{v:.0%} of {row['roofline_of']}"), v
    if key == "peak_memory_bytes":
        return _bytes(v), v
    if key == "energy_j_per_iter":
        return ("-" if v is None else f"{v:.4g} ({row['energy_source']})"), v
    if key in ("latency_p50_ms", "latency_p95_ms", "accuracy"):
        return _sig(v), v
    if key == "max_rel_error":
        return ("-" if v is None else f"{v:.2g}"), v
    if key == "run_id":
        return (short_ids or {}).get(v, str(v)[-6:]), v
    return str(v if v is not None else "-"), v


def _target_cells(t: TargetResult, run_tag: str = "") -> list[str]:
    scope = " ".join(x for x in (t.target.case, t.target.device or "", _params_text(t.target.params),
                                 "/".join(t.target.implementation or [])) if x)
    hint = t.hint()
    return [t.target.name, scope, f"{t.target.metric} {t.target.op} {t.target.value:g}",
            _sig(t.current), t.status.replace("_", " ") + (f" — {hint}" if hint else ""),
            (t.record + run_tag) if t.record else "-"]


# --------------------------------------------------------------------------- Markdown

def render_markdown(report: Report) -> str:
    s = report.summary()
    md = ["# benchsuite report", "",
          f"{s['runs']} run(s), {s['cases']} results: " + ", ".join(f"{v} {k}" for k, v in s["statuses"].items())
          + f". Groups: {', '.join(s['groups']) or '-'}; backends: {', '.join(s['backends']) or '-'}; "
          f"devices: {', '.join(s['devices']) or '-'}; profiles: {', '.join(s['profiles'])}; "
          f"machines (fingerprints): {', '.join(s['fingerprints'])}"
          + (" (the runs come from different machines or builds: compare their figures with care)."
             if len(s["fingerprints"]) > 1 else "."), ""]
    cols = _columns(report)
    short = report.short_ids()
    for group, rows in report.groups().items():
        status_cells, notes = _status_cells(rows)
        md += [f"## {group}", ""]
        if notes:
            md += [f"- {n.line()}" for n in notes] + [""]
        md += ["| " + " | ".join(h for _, h in cols) + " |",
               "|" + "|".join("---" if k in ("name", "status", "run_id") else "---:" for k, _ in cols) + "|"]
        for row, (status_text, _) in zip(rows, status_cells):
            cells = [status_text if k == "status" else _cell(row, k, short)[0] for k, _ in cols]
            md.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        md.append("")
    if report.targets:
        md += [f"## Targets ({report.targets_source or 'targets'})", "",
               "| target | scope | bound | current | result | best record |", "|---|---|---|---:|---|---|"]
        md += ["| " + " | ".join(c.replace("|", "\\|") for c in _target_cells(t, report.run_tag(t.run_id or "")))
               + " |" for t in report.targets]
        md.append("")
    if report.trends:
        md += ["## Trends", ""]
        for name, trend in report.trends.items():
            values = [p["value"] for p in trend["points"]]
            cps = ", ".join(trend["points"][i]["run_id"] for i in trend["change_points"]) or "none"
            md.append(f"- `{name}` {trend['metric']}: {len(values)} runs, first {_sig(values[0])}, "
                      f"last {_sig(values[-1])}; change points at {cps}")
        md.append("")
    md += ["## Environments", ""]
    for env in (_environment(r) for r in report.runs):
        md.append(f"- `{env['run_id']}` ({env['timestamp_utc']}, {env['suite']}, profile {env['profile']}, "
                  f"{env['status']}): {env['host']}, {env['os']}, {env['cpu']}; "
                  f"GPUs: {'; '.join(env['gpus']) or 'none'}; {env['build']}; Python {env['python']}; "
                  f"git {env['git'] or '-'}; fingerprint `{env['fingerprint']}`"
                  + (f"; warnings: {'; '.join(env['warnings'])}" if env["warnings"] else ""))
    return "\n".join(md) + "\n"


# --------------------------------------------------------------------------- plots

@dataclass
class Plot:
    id: str
    title: str
    caption: str
    png: bytes


def _figure_png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return buf.getvalue()


def _swept_param(rows: list[dict[str, Any]]) -> str | None:
    """The numeric parameter with the most distinct values among a case's rows (>= 2)."""
    distinct: dict[str, set] = defaultdict(set)
    for r in rows:
        for k, v in r["params_values"].items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                distinct[k].add(v)
    best = max(distinct.items(), key=lambda kv: len(kv[1]), default=None)
    return best[0] if best and len(best[1]) >= 2 else None


def _fixed_and_following(rows: list[dict[str, Any]], param: str) -> tuple[dict[str, Any], list[str]]:
    """Among rows that have `param`: the other parameters with one value in all of them (said
    once, in the title) and those whose value follows from param's (n and k of square GEMMs
    swept over m), which would otherwise cut every series into single points."""
    keys = [k for k in dict.fromkeys(k for r in rows for k in r["params_values"]) if k != param]
    fixed: dict[str, Any] = {}
    following: list[str] = []
    for k in keys:
        if not all(k in r["params_values"] for r in rows):
            continue
        values = {repr(r["params_values"][k]) for r in rows}
        if len(values) == 1:
            fixed[k] = rows[0]["params_values"][k]
            continue
        by_x: dict[Any, set] = defaultdict(set)
        for r in rows:
            by_x[r["params_values"][param]].add(repr(r["params_values"][k]))
        if all(len(v) == 1 for v in by_x.values()):
            following.append(k)
    return fixed, following


_LEGEND_ROWS = 24          # legend entries per column before another column starts
_MAX_SERIES = 36           # series per latency plot; more are split into parts, none dropped
_MAX_BARS = 50             # bars per bar plot; more are split into parts, none dropped
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
_RUN_STYLES = ("-", "--", ":", "-.")
_FASTER, _SLOWER = "#2b8a3e", "#c92a2a"


def _palette(n: int) -> list[Any]:
    """n colours: tab10, or tab20 past ten (each colour is paired with a marker as well)."""
    import matplotlib
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    """items cut into the fewest parts of at most `size`, of even length."""
    parts = max(1, math.ceil(len(items) / size))
    per = math.ceil(len(items) / parts) if items else 0
    return [items[i:i + per] for i in range(0, len(items), per)] or [[]]


def _legend_outside(ax: Any, handles: list[Any], labels: list[str], title: str | None = None) -> Any:
    """Every entry, to the right of the axes, in as many columns as it takes."""
    ncol = max(1, math.ceil(len(labels) / _LEGEND_ROWS))
    return ax.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                     borderaxespad=0, ncol=ncol, title=title, title_fontsize=7)


def _part_suffix(i: int, n: int) -> tuple[str, str]:
    """(id suffix, title suffix) of part i (0-based) of n."""
    return ("", "") if n == 1 else (("" if i == 0 else f"-part{i + 1}"), f" (part {i + 1} of {n})")


def _latency_plots(report: Report, limit: int = 60) -> list[Plot]:
    import matplotlib.pyplot as plt
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in report.rows:
        if r["status"] in ("ok", "invalid") and r["latency_p50_ms"] is not None:
            by_case[r["case"]].append(r)
    run_order = {run.run_id: i for i, run in enumerate(report.runs)}
    several = len(report.runs) > 1
    plots: list[Plot] = []
    left_out: list[str] = []
    for case, rows in sorted(by_case.items()):
        param = _swept_param(rows)
        if param is None:
            continue
        on_axis = [r for r in rows if param in r["params_values"]]
        fixed, following = _fixed_and_following(on_axis, param)
        # a series: one version with the other parameters fixed, in one run; a series of one
        # point (a shape measured alone, e.g. the 4096x4096 target shape) is drawn as a marker
        series: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for r in on_axis:
            others = ",".join(f"{k}={v}" for k, v in r["params_values"].items()
                              if k != param and k not in fixed and k not in following)
            base = f"{r['device']} {r['implementation']}" + (f" {others}" if others else "")
            series[(base, r["run_id"])].append((r["params_values"][param], r["latency_p50_ms"]))
        series = {k: sorted(v) for k, v in series.items()}
        if not any(len(v) >= 2 for v in series.values()):
            continue   # nothing is swept within a version: the group table says it all
        if len(plots) >= limit:
            left_out.append(case)
            continue
        bases = sorted({b for b, _ in series})
        runs_here = sorted({rid for _, rid in series}, key=lambda rid: run_order.get(rid, 0))
        # up to four runs: colour and marker = version, line style = run; more runs than line
        # styles: every series its own colour and marker, solid
        by_run_style = len(runs_here) <= len(_RUN_STYLES)
        styled = bases if by_run_style else [(b, rid) for b in bases for rid in runs_here if (b, rid) in series]
        colours = _palette(len(styled))
        ncolours = 10 if len(styled) <= 10 else 20
        # colour and marker both change from one series to the next (tab20's pairs of shades
        # are told apart by the marker; past 20 the marker shifts so no pair repeats)
        style = {k: (colours[i], _MARKERS[(i + i // ncolours) % len(_MARKERS)]) for i, k in enumerate(styled)}
        # parts hold whole versions (all runs of one series stay together)
        per_part = max(1, _MAX_SERIES // max(1, len(runs_here)))
        parts = _chunks(bases, per_part)
        xs = [p[0] for pts in series.values() for p in pts]
        ys = [p[1] for pts in series.values() for p in pts]
        for pi, part in enumerate(parts):
            keys = [(b, rid) for b in part for rid in runs_here if (b, rid) in series]
            id_suffix, title_suffix = _part_suffix(pi, len(parts))
            rows_in_legend = min(len(keys), _LEGEND_ROWS)
            fig, ax = plt.subplots(figsize=(7.5, max(4.2, 0.17 * rows_in_legend + 1.2)))
            handles, labels = [], []
            for base, rid in keys:
                pts = series[(base, rid)]
                colour, marker = style[base] if by_run_style else style[(base, rid)]
                linestyle = (_RUN_STYLES[runs_here.index(rid)] if by_run_style else "-") if len(pts) > 1 else "none"
                (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=colour,
                                  linestyle=linestyle, markersize=4 if len(pts) > 1 else 6)
                handles.append(line)
                labels.append(base + report.run_tag(rid))
            if min(xs) > 0 and max(xs) / min(xs) >= 4:   # sizes: log2; flags and small ranges: linear
                ax.set_xscale("log", base=2)
            else:
                ax.set_xticks(sorted(set(xs)))
            ax.set_yscale("log")
            ax.set_ylim(min(ys) / 1.2, max(ys) * 1.2)      # the same scale in every part
            ax.set_xlabel(param + (f" ({', '.join(following)} change with it)" if following else ""))
            ax.set_ylabel("median latency (ms)")
            fixed_text = ", ".join(f"{k}={v}" for k, v in fixed.items())
            ax.set_title(f"{case}: latency vs {param}{title_suffix}" + (f"\n{fixed_text}" if fixed_text else ""),
                         fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
            _legend_outside(ax, handles, labels,
                            f"{len(keys)} series" + ("; line style = run" if several and by_run_style else ""))
            caption = (f"Median latency of each version of {case} against {param}: {len(keys)} series, "
                       f"all in the legend")
            if len(parts) > 1:
                caption += f" ({len(series)} in all, split over {len(parts)} plots on the same scale)"
            if several:
                caption += ("; colour and marker = version and other parameters, line style = run (@ its short id)"
                            if by_run_style else "; each label ends with its run's short id (@...)")
            plots.append(Plot(f"latency-{case}{id_suffix}", f"{case}: latency vs {param}{title_suffix}",
                              caption + ".", _figure_png(fig)))
    if left_out:
        plots.append(_empty_plot("latency-more", "More latency plots",
                                 f"{len(left_out)} more cases with a swept parameter are not plotted "
                                 f"(limit {limit}): {', '.join(left_out)}."))
    return plots


def _group_chunks(items: list[tuple[str, float, str, str]], size: int) -> list[list[tuple[str, float, str]]]:
    """(label, value, key, group) items cut into parts of about `size`, a group (one case's bars
    in each run) never split over two parts."""
    groups: list[list[tuple[str, float, str]]] = []
    for label, value, key, group in items:
        if not groups or groups[-1][0][3] != group:
            groups.append([])
        groups[-1].append((label, value, key, group))
    target = math.ceil(len(items) / max(1, math.ceil(len(items) / size))) if items else 1
    parts: list[list[tuple[str, float, str]]] = [[]]
    for g in groups:
        if parts[-1] and len(parts[-1]) + len(g) > target:
            parts.append([])
        parts[-1].extend((label, value, key) for label, value, key, _ in g)
    return parts


def _bar_plots(pid: str, title: str, caption: str, items: list[tuple[str, float, str, str]],
               colours: Mapping[str, str], xlabel: str, reference: tuple[float, str] | None,
               log: bool = False) -> list[Plot]:
    """Horizontal bars, (label, value, colour key, group) each, coloured by key with a legend
    naming every key's meaning and the reference line; more than _MAX_BARS bars are split
    into parts on the same scale (a group's bars together), so none is dropped."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    parts = _group_chunks(items, _MAX_BARS)
    values = [v for _, v, _, _ in items]
    lo, hi = min(values), max(values)
    if reference is not None:
        lo, hi = min(lo, reference[0]), max(hi, reference[0])
    limits = (lo / 1.5, hi * 1.5) if log else (min(0.0, lo), hi * 1.08)
    used = [k for k in colours if any(key == k for _, _, key, _ in items)]
    plots = []
    for pi, part in enumerate(parts):
        id_suffix, title_suffix = _part_suffix(pi, len(parts))
        fig, ax = plt.subplots(figsize=(7.5, max(2.0, 0.22 * len(part) + 1.2)))
        ax.barh(range(len(part)), [v for _, v, _ in part], color=[colours[k] for _, _, k in part])
        ax.set_yticks(range(len(part)), [label for label, _, _ in part], fontsize=7)
        ax.set_ylim(len(part) - 0.5, -0.5)
        if log:
            ax.set_xscale("log")
        ax.set_xlim(*limits)
        handles: list[Any] = [Patch(color=colours[k]) for k in used]
        labels = list(used)
        if reference is not None:
            ax.axvline(reference[0], color="black", linewidth=1, linestyle="--")
            handles.append(Line2D([], [], color="black", linewidth=1, linestyle="--"))
            labels.append(reference[1])
        ax.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
                  title="colour key", title_fontsize=7)
        ax.set_xlabel(xlabel)
        ax.set_title(title + title_suffix)
        ax.grid(True, axis="x", alpha=0.3)
        if len(part) > 25:   # a long part: the scale on top as well
            ax.tick_params(axis="x", labeltop=True, top=True)
        text = caption + (f" {len(items)} bars, split over {len(parts)} plots on the same scale."
                          if len(parts) > 1 else "")
        plots.append(Plot(pid + id_suffix, title + title_suffix, text, _figure_png(fig)))
    return plots


def _paired_order(items: list[tuple[str, str, float, str]], run_order: Mapping[str, int]
                  ) -> list[tuple[str, str, float, str]]:
    """(base label, run id, value, key) items, best first, with the runs of one base label
    next to each other (in run order) so they read as a comparison."""
    best: dict[str, float] = {}
    for base, _, v, _ in items:
        best[base] = max(best.get(base, v), v)
    return sorted(items, key=lambda it: (-best[it[0]], it[0], run_order.get(it[1], 0)))


def _roofline_plot(report: Report) -> list[Plot]:
    """Best fraction of the roofline per kernel version (and per run, with several runs),
    coloured by what the roofline is (spec FLOP/s, spec or measured bandwidth)."""
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for r in report.rows:
        if r["status"] != "ok" or r["roofline_fraction"] is None:
            continue
        key = (f"{r['case']} {r['device']} {r['implementation']}", r["run_id"])
        if key not in best or r["roofline_fraction"] > best[key][0]:
            best[key] = (r["roofline_fraction"], r["roofline_of"])
    if not best:
        return [_empty_plot("roofline", "Fraction of roofline",
                            "No result in these runs has a peak to compare with (no spec peak, no copy case).")]
    run_order = {run.run_id: i for i, run in enumerate(report.runs)}
    items = _paired_order([(base, rid, v, f"of {of}") for (base, rid), (v, of) in best.items()], run_order)
    kinds = sorted({k for *_, k in items})
    palette = ["#1c7ed6", "#7048e8", "#f08c00", "#0c8599", "#862e9c"]
    colours = {k: palette[i % len(palette)] for i, k in enumerate(kinds)}
    return _bar_plots("roofline", "Best throughput as a fraction of the roofline, per kernel version",
                      "Each bar: the best result of a kernel version" + (" in one run (@ its short id)"
                                                                        if len(report.runs) > 1 else "")
                      + ", as a fraction of the device's peak; the colour says which peak (spec FLOP/s for "
                      "GEMM-like cases, the measured copy bandwidth or the spec bandwidth otherwise).",
                      [(base + report.run_tag(rid), v, k, base) for base, rid, v, k in items], colours,
                      "fraction of roofline", (1.0, "the peak (1.0)"))


def _speedup_plot(report: Report) -> list[Plot]:
    raw = []
    for r in report.rows:
        if r["status"] != "ok":
            continue
        for peer, v in r["peers"].items():
            if v:
                key = "ours faster (>= 1x)" if v >= 1.0 else "ours slower (< 1x)"
                raw.append((f"{r['name']} vs {peer}", r["run_id"], v, key))
    if not raw:
        return [_empty_plot("speedup", "Speedup over peers", "No peer (NumPy, PyTorch) was measured in these runs.")]
    run_order = {run.run_id: i for i, run in enumerate(report.runs)}
    items = _paired_order(raw, run_order)
    colours = {"ours faster (>= 1x)": _FASTER, "ours slower (< 1x)": _SLOWER}
    return _bar_plots("speedup", "Speedup over peers (peer time / ours)",
                      "Green: ours is faster than the peer measured in the same run (above 1x, the dashed line); "
                      "red: slower." + (" Each label ends with its run's short id (@...)." if len(report.runs) > 1
                                        else ""),
                      [(base + report.run_tag(rid), v, k, base) for base, rid, v, k in items], colours,
                      "speedup (log scale)", (1.0, "1x: as fast as the peer"), log=True)


def _trend_plots(report: Report) -> list[Plot]:
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    plots = []
    for i, (name, trend) in enumerate(report.trends.items()):
        values = [p["value"] for p in trend["points"]]
        fig, ax = plt.subplots(figsize=(7.5, 3.2))
        (line,) = ax.plot(range(len(values)), values, marker="o")
        handles, labels = [line], [f"{trend['metric']} per run"]
        for cp in trend["change_points"]:
            ax.axvline(cp - 0.5, color="#c92a2a", linestyle="--", linewidth=1)
        if trend["change_points"]:
            handles.append(Line2D([], [], color="#c92a2a", linestyle="--", linewidth=1))
            labels.append("change point")
        ax.set_xticks(range(len(values)), [p["run_id"][-6:] for p in trend["points"]], rotation=45, fontsize=7)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.set_ylabel(trend["metric"])
        ax.set_xlabel("run (short id)")
        ax.set_title(name, fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(handles, labels, fontsize=7, loc="best")
        plots.append(Plot(f"trend-{i}", f"trend: {name}",
                          f"{trend['metric']} across stored runs; dashed red lines mark change points.",
                          _figure_png(fig)))
    return plots


def _empty_plot(pid: str, title: str, message: str) -> Plot:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 1.6))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_title(title)
    return Plot(pid, title, message, _figure_png(fig))


def make_plots(report: Report) -> list[Plot]:
    import matplotlib
    matplotlib.use("Agg", force=True)
    return [*_latency_plots(report), *_roofline_plot(report), *_speedup_plot(report), *_trend_plots(report)]


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0;width:100%}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:right;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.text,th.text{text-align:left}
td.name{font-family:ui-monospace,monospace;overflow-wrap:normal;word-break:normal;hyphens:none;min-width:14ch}
td.wrap{overflow-wrap:normal;word-break:normal}td.status{min-width:7ch}td.status[title]{cursor:help;text-decoration:underline dotted #aaa}
.table-wrap{overflow-x:auto}
tr.status-failed td{background:#fff0f0}tr.status-invalid td{background:#fff8e6}tr.status-skipped td{color:#888}
.pass{color:#2b8a3e;font-weight:600}.fail{color:#c92a2a;font-weight:600}.not_measured{color:#888}
ul.notes{font-size:.8rem;color:#555;margin:.3rem 0}ul.notes code{font-size:.75rem}
figure.plot{margin:1rem 0;border:1px solid #eee;padding:.5rem}figure.plot img{max-width:100%;height:auto;display:block}
figcaption{font-size:.8rem;color:#555}.summary li{margin:.15rem 0}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var asc = !th.classList.contains('sorted-asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-sort'), y = b.cells[col].getAttribute('data-sort');
        var nx = parseFloat(x), ny = parseFloat(y);
        var cmp;
        if (x === '' && y === '') cmp = 0;
        else if (x === '') return 1;            // missing values last, whatever the order
        else if (y === '') return -1;
        else if (!isNaN(nx) && !isNaN(ny)) cmp = nx - ny;
        else cmp = x.localeCompare(y);
        return asc ? cmp : -cmp;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _sort_attr(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return _e(repr(value) if isinstance(value, float) else value)


def _name_html(text: str) -> str:
    """A case name that may wrap only after `[` or a comma (a <wbr> there), never inside a
    token such as `seq_len=256` (the name column's CSS forbids breaking anywhere else)."""
    return "<wbr>".join(_e(part) for part in text.replace("[", "[\0").replace(",", ",\0").split("\0"))


def _table(headers: list[tuple[str, bool]], rows: list[list[tuple[Any, ...]]], row_classes: list[str],
           table_id: str) -> str:
    """A sortable table; each cell is (text, sort value, css class[, tooltip]). Cells of class
    `name` (case names) or `wrap` (parameter lists) may wrap only after `[` or a comma."""
    out = [f'<div class="table-wrap"><table class="sortable" id="{_e(table_id)}"><thead><tr>']
    out += [f'<th class="{"text" if is_text else "num"}">{_e(h)}</th>' for h, is_text in headers]
    out.append("</tr></thead><tbody>")
    for cells, cls in zip(rows, row_classes):
        tds = []
        for text, sort, css, *rest in cells:
            title = f' title="{_e(rest[0])}"' if rest and rest[0] else ""
            content = _name_html(str(text)) if {"name", "wrap"} & set(css.split()) else _e(text)
            tds.append(f'<td class="{_e(css)}" data-sort="{_sort_attr(sort)}"{title}>{content}</td>')
        out.append(f'<tr class="{_e(cls)}">' + "".join(tds) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def render_html(report: Report, plots: list[Plot] | None = None) -> str:
    plots = make_plots(report) if plots is None else plots
    s = report.summary()
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>benchsuite report ({s['runs']} runs, {s['cases']} results)</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>benchsuite report</h1><p>Generated {_e(report.generated_utc)}.</p>",
             "<h2 id='summary'>Summary</h2><ul class='summary'>",
             f"<li>{s['runs']} run(s): "
             + _e(", ".join(f"{rid} (@{report.short_ids()[rid]})" if s["runs"] > 1 else rid for rid in s["run_ids"]))
             + "</li>",
             "<li>results by status: " + ", ".join(f"{v} {_e(k)}" for k, v in s["statuses"].items()) + "</li>",
             f"<li>groups: {_e(', '.join(s['groups']) or '-')}; backends: {_e(', '.join(s['backends']) or '-')}; "
             f"devices: {_e(', '.join(s['devices']) or '-')}</li>",
             f"<li>profiles: {_e(', '.join(s['profiles']))}; suites: {_e(', '.join(s['suites']))}</li>",
             f"<li>machines (fingerprints): {_e(', '.join(s['fingerprints']))}"
             + (" <strong>(different machines or builds)</strong>" if len(s["fingerprints"]) > 1 else "")
             + "</li></ul>"]
    if report.targets:
        headers = [("target", True), ("scope", True), ("bound", True), ("current", False), ("result", True),
                   ("best record", True)]
        rows, classes = [], []
        for t in report.targets:
            cells = _target_cells(t, report.run_tag(t.run_id or ""))
            rows.append([(cells[0], cells[0], "text"), (cells[1], cells[1], "text wrap"), (cells[2], cells[2], "text"),
                         (cells[3], t.current, "num"), (cells[4], t.status, f"text result {t.status}"),
                         (cells[5], cells[5], "text name")])
            classes.append(f"target-{t.status}")
        parts.append(f"<h2 id='targets'>Targets</h2><p>From {_e(report.targets_source or '-')}: "
                     + ", ".join(f"{sum(t.status == st for t in report.targets)} {st.replace('_', ' ')}"
                                 for st in ("pass", "fail", "not_measured")) + ".</p>")
        parts.append(_table(headers, rows, classes, "targets-table"))
    if plots:
        parts.append("<h2 id='plots'>Plots</h2>")
        for p in plots:
            data = base64.b64encode(p.png).decode("ascii")
            parts.append(f"<figure class='plot' id='plot-{_e(p.id)}'><img class='plot-image' alt='{_e(p.title)}' "
                         f"src='data:image/png;base64,{data}'><figcaption>{_e(p.caption)}</figcaption></figure>")
    cols = _columns(report)
    short = report.short_ids()
    for gi, (group, rows_) in enumerate(report.groups().items()):
        parts.append(f"<h2 id='group-{gi}'>Group: {_e(group)}</h2>")
        status_cells, notes = _status_cells(rows_)
        if notes:   # each long or repeated reason once, not on every row
            parts.append(f"<ul class='notes' id='group-notes-{gi}'>" + "".join(
                f"<li><strong>{_e(n.status)} ({_e(n.code)})</strong>, "
                + (f"{len(n.names)} rows" if len(n.names) > 1 else f"<code>{_e(n.names[0])}</code>")
                + f": {_e(n.text)}</li>" for n in notes) + "</ul>")
        headers = [(h, k in ("name", "status", "run_id")) for k, h in cols]
        rows, classes = [], []
        for row, (status_text, tooltip) in zip(rows_, status_cells):
            cells = []
            for k, _ in cols:
                if k == "status":
                    cells.append((status_text, row["status"], "text status", tooltip))
                    continue
                text, sort = _cell(row, k, short)
                css = "text name" if k == "name" else "text" if k == "run_id" else "num"
                cells.append((text, sort, css))
            rows.append(cells)
            classes.append(f"status-{row['status']}")
        parts.append(_table(headers, rows, classes, f"group-table-{gi}"))
    parts.append("<h2 id='environments'>Environments</h2>")
    env_headers = [("run", True), ("time (UTC)", True), ("host", True), ("CPU", True), ("GPUs", True),
                   ("build", True), ("git", True), ("fingerprint", True), ("warnings", True)]
    env_rows = []
    for env in (_environment(r) for r in report.runs):
        values = [env["run_id"], env["timestamp_utc"], f"{env['host']} ({env['os']})", env["cpu"],
                  "; ".join(env["gpus"]) or "none", f"{env['build']}, Python {env['python']}", env["git"] or "-",
                  env["fingerprint"], "; ".join(env["warnings"]) or "-"]
        env_rows.append([(v, v, "text") for v in values])
    parts.append(_table(env_headers, env_rows, ["env"] * len(env_rows), "environments-table"))
    parts.append(f"<script>{_JS}</script></body></html>")
    return "".join(parts)


def write_report(report: Report, json_path: str | os.PathLike | None = None, md_path: str | os.PathLike | None = None,
                 html_path: str | os.PathLike | None = None) -> list[Path]:
    written = []
    if json_path:
        write_json_atomic(json_path, report.to_dict())
        written.append(Path(json_path))
    if md_path:
        write_text_atomic(md_path, render_markdown(report))
        written.append(Path(md_path))
    if html_path:
        write_text_atomic(html_path, render_html(report))
        written.append(Path(html_path))
    return written
