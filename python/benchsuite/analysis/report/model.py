"""The report model: the runs collected from results files and folders (oldest first, each
once), one row per record (latency, throughput, fraction of the roofline, energy, accuracy,
speedup over the peers, ...), the targets evaluated over them, each run's environment and,
given a history, each case's trend; and the table cells made from it (the columns, the
status cells and their notes, each cell's text and sort value), which the Markdown and the
HTML renderings share.
"""
from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.environment import fingerprint_id
from ...core.errors import ResultsFileError
from ...core.fields import copy_bandwidths, metric_value, number, roofline_fraction
from ...core.results import RunResults, load_results, utc_now_iso
from ..summary import best_peer, config_text, phases_text, reported_text, significant
from ..targets import Target, TargetResult, evaluate_targets, shipped_profiles

__all__ = ["collect_runs", "Report", "build_report", "run_environment", "significant_text", "table_columns",
           "StatusNote", "status_cells", "table_cell", "target_cells"]

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
        "best_peer": best_peer(record),
        "phases": phases_text(record) or None, "config": config_text(record) or None,
        "reported": reported_text(record) or None,
        "params_values": dict(record.get("params") or {}),
        "config_values": dict(record.get("config") or {}),
        "reported_values": {k: number((m or {}).get("value"))
                            for k, m in ((metrics.get("reported") or {}).items())},
    }


def run_environment(run: RunResults) -> dict[str, Any]:
    """One run's environment as the report shows it: host, OS, CPU, GPUs, build, git, fingerprint."""
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

    def model_tables(self) -> dict[str, list[dict[str, Any]]]:
        """The models section: model family -> one row per model case (model_forward and
        model_generate records), with the columns MODEL_COLUMNS names."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        short = self.short_ids()
        for r in self.rows:
            if r["case"] not in ("model_forward", "model_generate"):
                continue
            cfg, rep, par = r["config_values"], r["reported_values"], r["params_values"]
            family = str(cfg.get("family") or par.get("model") or "-")
            built, full = cfg.get("num_hidden_layers"), cfg.get("full_num_hidden_layers")
            extrapolated = rep.get("full_model_extrapolated_s")
            out[family].append({
                "name": r["name"] + (f" @{short.get(r['run_id'], r['run_id'])}" if len(self.runs) > 1 else ""),
                "status": r["status"], "model": par.get("model", "-"),
                "layers": f"{built}/{full}" if built is not None and full is not None and built != full
                else str(built if built is not None else "-"),
                "shape": (f"B{par.get('batch', 1)} S{par.get('seq_len')}" if r["case"] == "model_forward"
                          else f"B{par.get('batch', 1)} prompt {par.get('prompt_len')} +{par.get('new_tokens')}"),
                "latency_p50_ms": r["latency_p50_ms"], "latency_p95_ms": r["latency_p95_ms"],
                "throughput": r["throughput"], "throughput_unit": r["throughput_unit"],
                "parameters": rep.get("parameters") or cfg.get("parameter_count"),
                "per_layer_ms": None if rep.get("per_layer_s") is None else rep["per_layer_s"] * 1e3,
                "extrapolated_ms": None if extrapolated is None else extrapolated * 1e3,
                "ttft_ms": None if rep.get("ttft_s") is None else rep["ttft_s"] * 1e3,
                "decode_tokens_per_s": rep.get("decode_tokens_per_s"),
                "peak_memory_bytes": r["peak_memory_bytes"],
                "peers": r["peers"],
            })
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
                "environments": [run_environment(r) for r in self.runs], "trends": self.trends}


def build_report(runs: Sequence[RunResults], targets: Iterable[Target] | None = None,
                 targets_source: str | None = None, history: Any = None,
                 trend_metric: str = "latency_p50_ms", max_trends: int = 12,
                 profiles: Iterable[Any] | None = None) -> Report:
    """The report model. `history` (a benchsuite.analysis.history.History) adds each case's trend.
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


# --------------------------------------------------------------------------- table cells
# (shared by the Markdown and the HTML renderings)

#: The models section's columns: (key, header).
MODEL_COLUMNS = [("name", "case"), ("status", "status"), ("layers", "layers (built/full)"), ("shape", "shape"),
                 ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"), ("throughput", "throughput"),
                 ("parameters", "parameters"), ("per_layer_ms", "ms / layer"),
                 ("extrapolated_ms", "full model ms (extrapolated)"), ("ttft_ms", "TTFT ms"),
                 ("decode_tokens_per_s", "decode tok/s"), ("peak_memory_bytes", "peak memory"), ("peers", "vs peers")]


def model_cell(row: Mapping[str, Any], key: str) -> tuple[str, Any]:
    """(text, sort value) of a models-section cell."""
    value = row.get(key)
    if key == "throughput":
        return (f"{significant_text(value)} {row.get('throughput_unit') or ''}".strip() if value is not None
                else "-", value)
    if key == "peak_memory_bytes":
        return _bytes(value), value
    if key == "peers":
        speedups = {k: v for k, v in (value or {}).items() if v is not None}
        return (", ".join(f"{k} x{significant_text(v)}" for k, v in sorted(speedups.items())) or "-",
                min(speedups.values(), default=None))
    if key == "parameters":
        return ("-" if value is None else f"{value / 1e6:.1f} M"), value
    if isinstance(value, (int, float)):
        return significant_text(value), value
    return ("-" if value is None else str(value)), value


def significant_text(value: float | None) -> str:
    """A value to four significant digits (summary.significant); '-' when there is none."""
    return "-" if value is None else significant(value)


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} B"


def table_columns(report: Report) -> list[tuple[str, str]]:
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
    if any(r["best_peer"] is not None for r in report.rows):
        cols.append(("best_peer", "vs best peer"))
    cols += [(f"peer:{p}", f"vs {p}") for p in report.peers()]
    for key, header in (("reported", "reported"), ("config", "config"), ("phases", "phases")):
        if any(r[key] is not None for r in report.rows):
            cols.append((key, header))
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
class StatusNote:
    """A reason shown once above a group's table, with the rows (names) it applies to."""

    status: str
    code: str
    text: str
    names: list[str] = field(default_factory=list)

    def line(self) -> str:
        who = (f"{len(self.names)} rows" if len(self.names) > 1 else self.names[0])
        return f"{self.status} ({self.code}), {who}: {self.text}"


def status_cells(rows: Sequence[Mapping[str, Any]]) -> tuple[list[tuple[str, str | None]], list[StatusNote]]:
    """Per row, the status cell's (text, tooltip), and the notes shown once above the table.
    A reason that is short and on one row only stays in its cell; a repeated or long one (the
    same "CUDA is unavailable ..." on every CUDA case) leaves its machine-readable code in the
    cell, its full text in the tooltip and in one note."""
    counts = Counter(_reason_text(r) for r in rows if r["status"] != "ok")
    notes: dict[tuple[str, str, str], StatusNote] = {}
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
            note = notes.setdefault((status, code, text), StatusNote(status, code, text))
            note.names.append(str(r["name"]))
            cells.append((f"{status} ({code})", text))
    return cells, list(notes.values())


def table_cell(row: Mapping[str, Any], key: str, short_ids: Mapping[str, str] | None = None) -> tuple[str, Any]:
    """(display text, sort value) of one cell (the status cell: see status_cells)."""
    if key.startswith("peer:"):
        v = row["peers"].get(key[5:])
        return ("-" if v is None else f"{v:.2f}x"), v
    v = row.get(key)
    if key == "best_peer":  # (name, speedup): above 1, ours is faster than the fastest peer
        return ("-" if v is None else f"{v[1]:.2f}x ({v[0]})"), (None if v is None else v[1])
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
        return significant_text(v), v
    if key == "max_rel_error":
        return ("-" if v is None else f"{v:.2g}"), v
    if key == "run_id":
        return (short_ids or {}).get(v, str(v)[-6:]), v
    return str(v if v is not None else "-"), v


def target_cells(t: TargetResult, run_tag: str = "") -> list[str]:
    """A targets-table row: target, scope, bound, current, result (with its hint), best record."""
    scope = " ".join(x for x in (t.target.case, t.target.device or "", _params_text(t.target.params),
                                 "/".join(t.target.implementation or [])) if x)
    hint = t.hint()
    return [t.target.name, scope, f"{t.target.metric} {t.target.op} {t.target.value:g}",
            significant_text(t.current), t.status.replace("_", " ") + (f" — {hint}" if hint else ""),
            (t.record + run_tag) if t.record else "-"]
