"""A short Markdown summary of one run document: header, environment, counts, one table
of every case, and the cases that were not ok with their reasons.

Plain string building, so it works on any machine that can read a results file.
"""
from __future__ import annotations

import math
import os
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core.fields import number
from ..core.results import RECORD_STATUSES, write_text_atomic

__all__ = ["render_markdown", "write_markdown", "significant", "best_peer", "reported_text", "phases_text",
           "config_text"]


def _doc(doc: Any) -> dict:
    # Accept a RunResults (or anything holding .doc) as well as the plain dict.
    inner = getattr(doc, "doc", doc)
    if not isinstance(inner, dict):
        raise TypeError(f"render_markdown expects a run document dict, got {type(doc).__name__}")
    return inner


def significant(value: float | None, digits: int = 4) -> str:
    """``digits`` significant digits without switching to exponent notation in the
    range people read (1e-3 .. 1e6)."""
    if value is None:
        return "–"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if -3 <= magnitude < 6:
        decimals = max(0, digits - 1 - magnitude)
        return f"{value:.{decimals}f}"
    return f"{value:.{digits - 1}e}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _parse_ts(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _duration(start: Any, end: Any) -> str | None:
    a, b = _parse_ts(start), _parse_ts(end)
    if a is None or b is None:
        return None
    seconds = (b - a).total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _build_cuda(build: Any) -> str:
    """build_config() is a free object; recognise the usual ways it says CUDA is in."""
    if not isinstance(build, dict):
        return "unknown"
    for key in ("cuda", "cuda_enabled", "with_cuda", "has_cuda", "cuda_compiled", "cuda_built"):
        value = build.get(key)
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, dict):
            for sub in ("enabled", "compiled", "built", "available"):
                if isinstance(value.get(sub), bool):
                    return "on" if value[sub] else "off"
    return "unknown"


def _environment_line(env: Any) -> str:
    if not isinstance(env, dict):
        return "unknown"
    parts = [f"host `{env.get('host') or '?'}`"]
    cpu = env.get("cpu") or {}
    cpu_text = cpu.get("model") or "unknown CPU"
    if cpu.get("logical_cores"):
        cpu_text += f" ({cpu['logical_cores']} logical cores)"
    parts.append(f"CPU: {cpu_text}")
    gpus = [g for g in env.get("gpus") or [] if isinstance(g, dict)]
    cuda = env.get("cuda") or {}
    if gpus:
        names = Counter(
            g.get("name", "GPU") + (f" (sm {g['compute_capability']})" if g.get("compute_capability") else "")
            for g in gpus
        )
        parts.append("GPU: " + ", ".join(f"{n}× {name}" if n > 1 else name for name, n in names.items()))
    if cuda.get("available") is False:
        parts.append(f"no CUDA: {cuda.get('reason') or 'unavailable'}")
    elif not gpus:
        parts.append("GPU: none")
    parts.append(f"build CUDA: {_build_cuda(env.get('build'))}")
    return " · ".join(parts)


def _latency_ms(record: dict, metric: str, stat: str) -> float | None:
    # stats (seconds per iteration) are the measurement; metrics only repeat them in ms.
    seconds = number((record.get("stats") or {}).get(stat))
    if seconds is not None:
        return seconds * 1e3
    return number((record.get("metrics") or {}).get(metric))


def _throughput(record: dict) -> str:
    """The most meaningful rate: the one closest to its peak when both are known,
    otherwise FLOP/s, then bytes/s, then items/s."""
    metrics = record.get("metrics") or {}
    tp = metrics.get("throughput") or {}
    peak = metrics.get("fraction_of_peak") or {}
    flops = number(tp.get("flop_per_s"))
    if flops is None and number(tp.get("tflop_per_s")) is not None:
        flops = number(tp.get("tflop_per_s")) * 1e12
    bw = number(tp.get("bytes_per_s"))
    if bw is None and number(tp.get("gb_per_s")) is not None:
        bw = number(tp.get("gb_per_s")) * 1e9
    items = number(tp.get("items_per_s"))

    def flop_text() -> str:
        assert flops is not None
        return f"{significant(flops / 1e12)} TFLOP/s" if flops >= 1e12 else f"{significant(flops / 1e9)} GFLOP/s"

    def bw_text() -> str:
        assert bw is not None
        return f"{significant(bw / 1e9)} GB/s"

    if flops is not None and bw is not None:
        fc, fb = number(peak.get("compute")), number(peak.get("bandwidth"))
        if fc is not None and fb is not None and fb > fc:
            return bw_text()
        return flop_text()
    if flops is not None:
        return flop_text()
    if bw is not None:
        return bw_text()
    if items is not None:
        unit = tp.get("item_unit") or (record.get("counters") or {}).get("item_unit") or "items"
        for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if items >= scale:
                return f"{significant(items / scale)} {prefix} {unit}/s"
        return f"{significant(items)} {unit}/s"
    return "–"


def best_peer(record: dict) -> tuple[str, float] | None:
    """(name, speedup) of the strongest measured peer: the one with the smallest speedup
    (peer median / ours), i.e. the fastest; None when no peer was measured."""
    peers = (record.get("metrics") or {}).get("peers") or {}
    measured = [(name, number((entry or {}).get("speedup"))) for name, entry in peers.items()]
    measured = [(name, x) for name, x in measured if x is not None]
    return min(measured, key=lambda item: item[1]) if measured else None


def _peers_text(record: dict) -> str:
    """`best torch ×0.85 · numpy ×3.10`: the ratio to the best (fastest) peer first, then the
    others (above 1: ours is faster); skipped peers say why."""
    peers = (record.get("metrics") or {}).get("peers") or {}
    best = best_peer(record)
    parts = [f"best {best[0]} ×{best[1]:.2f}"] if best else []
    for name, entry in peers.items():
        speedup = number((entry or {}).get("speedup"))
        if best and name == best[0]:
            continue
        if speedup is not None:
            parts.append(f"{name} ×{speedup:.2f}")
        else:
            reason = str((entry or {}).get("reason") or "skipped").split(":", 1)[0]
            parts.append(f"{name}: {reason}")
    return " · ".join(parts) or "–"


def reported_text(record: dict) -> str:
    """A case's own figures (metrics.reported): `pool_hit_rate 98.4 %`."""
    reported = (record.get("metrics") or {}).get("reported") or {}
    parts = []
    for name, m in reported.items():
        value = number((m or {}).get("value"))
        unit = str((m or {}).get("unit") or "")
        parts.append(f"{name} {significant(value)}{(' ' + unit) if unit else ''}")
    return ", ".join(parts)


def phases_text(record: dict) -> str:
    """`build 1.2 ms · compile 0 · first call 3.4 ms · steady 2.1 ms`."""
    phases = record.get("phases")
    if not isinstance(phases, dict):
        return ""
    labels = (("build_s", "build"), ("compile_s", "compile"), ("first_call_s", "first call"),
              ("steady_state_s", "steady"))
    parts = []
    for key, label in labels:
        seconds = number(phases.get(key))
        if seconds is not None:
            parts.append(f"{label} {significant(seconds * 1e3)} ms")
    return " · ".join(parts)


def config_text(record: dict) -> str:
    config = record.get("config")
    return ", ".join(f"{k}={v}" for k, v in config.items()) if isinstance(config, dict) else ""


def _status_text(record: dict) -> str:
    status = str(record.get("status", "?"))
    reason = record.get("reason")
    return f"{status} ({reason})" if reason and status != "ok" else status


def render_markdown(doc: dict) -> str:
    """The Markdown summary of a run document (or RunResults)."""
    d = _doc(doc)
    records = [r for r in d.get("benchmarks") or [] if isinstance(r, dict)]
    lines: list[str] = [f"# benchsuite run `{d.get('run_id', '?')}`", ""]

    timing = f"started {d.get('timestamp_utc') or '?'}"
    if d.get("finished_utc"):
        timing += f", finished {d['finished_utc']}"
        took = _duration(d.get("timestamp_utc"), d.get("finished_utc"))
        if took:
            timing += f" ({took})"
    else:
        timing += ", not finished"
    lines.append(f"- Suite: {d.get('suite', '?')} · status: **{d.get('status', '?')}** · {timing}")
    lines.append(f"- Environment: {_environment_line(d.get('environment'))}")
    config = d.get("config") or {}
    if config.get("profile") or config.get("smoke"):
        profile = f"profile {config.get('profile') or '(none)'}"
        lines.append(f"- Config: {profile}" + (" · smoke run (timings not meaningful)" if config.get("smoke") else ""))

    counts = Counter(str(r.get("status")) for r in records)
    ordered = [*RECORD_STATUSES, *sorted(s for s in counts if s not in RECORD_STATUSES)]
    count_text = ", ".join(f"{counts.get(s, 0)} {s}" for s in ordered)
    lines.append(f"- Cases: {len(records)} ({count_text})")
    lines.append("")

    lines.append("## Benchmarks")
    lines.append("")
    if not records:
        lines.append("No benchmark records.")
    else:
        lines.append("| Case | Status | Median (ms) | p95 (ms) | Throughput | Noise | n | Speedup vs peers (best first) |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---|")
        for r in records:
            stats = r.get("stats") or {}
            noise = number(stats.get("noise"))
            n = stats.get("n")
            row = [
                f"`{r.get('name', '?')}`",
                _status_text(r),
                significant(_latency_ms(r, "latency_p50_ms", "median")),
                significant(_latency_ms(r, "latency_p95_ms", "p95")),
                _throughput(r) if stats else "–",
                f"{noise * 100:.2f}%" if noise is not None else "–",
                str(n) if isinstance(n, int) else "–",
                _peers_text(r),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines.append("")

    reporting = [r for r in records if reported_text(r) or config_text(r) or phases_text(r)]
    if reporting:
        lines.append("## Phases, configs and reported figures")
        lines.append("")
        lines.append("| Case | Phases | Config | Reported |")
        lines.append("|---|---|---|---|")
        for r in reporting:
            row = [f"`{r.get('name', '?')}`", phases_text(r) or "–", config_text(r) or "–", reported_text(r) or "–"]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines.append("")

    not_ok = [r for r in records if r.get("status") != "ok"]
    if not_ok:
        lines.append("## Not ok")
        lines.append("")
        for r in not_ok:
            details = [str(x) for x in r.get("reasons") or []]
            error = r.get("error")
            if error:
                first = str(error).strip().splitlines()[0] if str(error).strip() else ""
                if first:
                    details.append(first)
            tail = ": " + "; ".join(details) if details else ""
            lines.append(
                f"- `{r.get('name', '?')}` — **{r.get('status', '?')}** "
                f"({r.get('reason') or 'no reason given'}){tail}"
            )
        lines.append("")
    return "\n".join(lines)


def write_markdown(doc: dict, path: str | os.PathLike) -> Path:
    """Write the summary atomically to ``path`` (parent folders created); returns the path."""
    target = Path(path)
    write_text_atomic(target, render_markdown(doc))
    return target
