"""Named metrics read out of benchmark records, shared by reports, comparisons, targets and
the history: one table says where each metric lives in a record, its unit and whether
higher is better, so every consumer reads a field the same way.
Pure Python: nothing here imports the native core."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Callable

from .errors import InvalidArgumentError

__all__ = ["Metric", "METRICS", "metric", "metric_names", "metric_value", "number",
           "copy_bandwidths", "roofline_fraction", "record_key"]


def number(value: Any) -> float | None:
    """A finite float, or None for missing / non-numeric / non-finite values."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _path(record: Mapping[str, Any], *keys: str) -> Any:
    node: Any = record
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    higher_is_better: bool
    description: str
    read: Callable[[Mapping[str, Any]], Any]

    def value(self, record: Mapping[str, Any]) -> float | None:
        return number(self.read(record))


def _reader(*keys: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda record: _path(record, *keys)


def _best_fraction(record: Mapping[str, Any]) -> Any:
    fractions = [number(_path(record, "metrics", "fraction_of_peak", k)) for k in ("compute", "bandwidth")]
    fractions = [f for f in fractions if f is not None]
    return max(fractions) if fractions else None


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("latency_p50_ms", "ms", False, "median latency", _reader("metrics", "latency_p50_ms")),
    Metric("latency_p95_ms", "ms", False, "95th percentile latency", _reader("metrics", "latency_p95_ms")),
    Metric("median_s", "s", False, "median time per iteration", _reader("stats", "median")),
    Metric("gb_per_s", "GB/s", True, "bytes moved per second", _reader("metrics", "throughput", "gb_per_s")),
    Metric("tflop_per_s", "TFLOP/s", True, "floating-point throughput",
           _reader("metrics", "throughput", "tflop_per_s")),
    Metric("items_per_s", "items/s", True, "items (tokens, samples, elements) per second",
           _reader("metrics", "throughput", "items_per_s")),
    Metric("fraction_of_peak", "", True, "fraction of the device's peak (compute or bandwidth)", _best_fraction),
    Metric("peak_memory_bytes", "B", False, "peak memory of benchsuite's own buffers",
           _reader("metrics", "peak_memory_bytes")),
    Metric("joules_per_iter", "J", False, "measured energy per iteration",
           _reader("metrics", "energy", "joules_per_iter")),
    Metric("mean_power_w", "W", False, "mean power during the energy window",
           _reader("metrics", "energy", "mean_power_w")),
    Metric("accuracy", "", True, "model accuracy", _reader("metrics", "accuracy")),
    Metric("max_rel_error", "", False, "largest relative error against the reference",
           _reader("metrics", "correctness", "max_rel_error")),
)}


def metric(name: str) -> Metric:
    """The metric called `name`; `speedup:<peer>` names the ratio to a peer (peer time / ours)."""
    if name in METRICS:
        return METRICS[name]
    if name.startswith("speedup:") and len(name) > len("speedup:"):
        peer = name.split(":", 1)[1]
        return Metric(name, "x", True, f"speedup over {peer} (its time / ours)",
                      _reader("metrics", "peers", peer, "speedup"))
    raise InvalidArgumentError(
        f"metric={name!r}: unknown; use one of {', '.join(METRICS)} or speedup:<peer> (e.g. speedup:numpy)")


def metric_names() -> list[str]:
    return [*METRICS, "speedup:<peer>"]


def metric_value(record: Mapping[str, Any], name: str) -> float | None:
    return metric(name).value(record)


def record_key(record: Mapping[str, Any]) -> str:
    """What identifies a case across runs: its full name (case, device, version and params)."""
    return str(record.get("name"))


def copy_bandwidths(records: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """The measured bandwidth ceiling per device: the fastest `copy` case of a run (bytes/s)."""
    best: dict[str, float] = {}
    for r in records:
        if r.get("case") != "copy" or r.get("status") != "ok":
            continue
        bw = number(_path(r, "metrics", "throughput", "bytes_per_s"))
        if bw is not None:
            device = str(r.get("device"))
            best[device] = max(bw, best.get(device, 0.0))
    return best


def roofline_fraction(record: Mapping[str, Any], copy_bw: Mapping[str, float] | None = None
                      ) -> tuple[float | None, str | None]:
    """(fraction, what it is a fraction of) for one record: the compute fraction of peak for
    FLOP-bound cases; for the rest the bandwidth fraction of the spec peak or, when the run
    measured one, of the `copy` case's bandwidth on the same device."""
    frac = _path(record, "metrics", "fraction_of_peak") or {}
    compute = number(frac.get("compute"))
    if compute is not None:
        return compute, f"{frac.get('peak_source') or 'spec'} FLOP/s"
    bandwidth = number(frac.get("bandwidth"))
    if bandwidth is not None:
        return bandwidth, f"{frac.get('peak_source') or 'spec'} bandwidth"
    bps = number(_path(record, "metrics", "throughput", "bytes_per_s"))
    ceiling = (copy_bw or {}).get(str(record.get("device")))
    if bps is not None and ceiling and record.get("case") != "copy":
        return bps / ceiling, "measured copy bandwidth"
    return None, None
