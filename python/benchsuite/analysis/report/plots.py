"""The report's plots (matplotlib, Agg, each figure saved as a PNG): latency against each
case's swept parameter, throughput as a fraction of the roofline, speedup over the peers and,
given a history, each case's trend. Plots never drop a series silently (every one is in the
legend, or the plot is split into parts on the same scale), every colour that means something
has a key, and with several runs every label names its run by a short id. matplotlib is
imported only when a plot is drawn.
"""
from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import Report

__all__ = ["Plot", "make_plots"]


@dataclass
class Plot:
    """One plot: its id (the figure's anchor on the page), title, caption and PNG bytes."""

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
    coloured by what the roofline is (spec or measured FLOP/s, spec or measured bandwidth)."""
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
                      + ", as a fraction of the device's peak; the colour says which peak (FLOP/s for "
                      "GEMM-like cases: spec on CUDA, measured on the CPU; the measured copy bandwidth or "
                      "the spec bandwidth otherwise).",
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


def _model_plots(report: Report) -> list[Plot]:
    """Latency of model_forward against sequence length (batch 1) and against batch, one line
    per model and fixed other parameters (and run, when there are several)."""
    import matplotlib.pyplot as plt
    plots: list[Plot] = []
    rows = [r for r in report.rows if r["case"] == "model_forward" and r["status"] in ("ok", "invalid")
            and r["latency_p50_ms"] is not None]
    for axis, other, pid, title in (("seq_len", "batch", "models-seq", "Model latency against sequence length"),
                                    ("batch", "seq_len", "models-batch", "Model latency against batch")):
        series: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for r in rows:
            p = r["params_values"]
            if axis not in p:
                continue
            if axis == "seq_len" and p.get("batch", 1) != 1:
                continue
            layers = r["config_values"].get("num_hidden_layers")
            label = f"{p.get('model')} L{layers} {other}={p.get(other, 1 if other == 'batch' else 128)}"
            series[label + report.run_tag(r["run_id"])].append((float(p[axis]), r["latency_p50_ms"]))
        series = {k: sorted(v) for k, v in series.items() if len({x for x, _ in v}) > 1}
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(8, 4.5))
        handles = []
        for (label, points), colour in zip(sorted(series.items()), _palette(len(series))):
            (h,) = ax.plot([x for x, _ in points], [y for _, y in points], marker="o", color=colour)
            handles.append(h)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(axis)
        ax.set_ylabel("p50 latency (ms, log scale)")
        ax.grid(True, which="both", alpha=0.3)
        _legend_outside(ax, handles, sorted(series), "model")
        plots.append(Plot(pid, title, f"model_forward p50 latency per {axis}; each line one model (layers built "
                          f"as Lk) with its {other} fixed.", _figure_png(fig)))
        plt.close(fig)
    return plots


def make_plots(report: Report) -> list[Plot]:
    """Every plot of the report, in the page's order: latency, models, roofline, speedup, trends."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    return [*_latency_plots(report), *_model_plots(report), *_roofline_plot(report), *_speedup_plot(report),
            *_trend_plots(report)]
