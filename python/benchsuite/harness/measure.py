"""Measuring one thing: a registered case or any Python callable, through the native
harness, into a `Result` that carries its statistics, throughput, fraction of peak,
memory, clocks, energy (when asked), correctness and status, and serialises to a
results-schema record."""
from __future__ import annotations

import functools

import math
import sys
import traceback
import types
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

from .. import _core
from ..core.errors import InvalidArgumentError, MeasurementInterrupted, UnsupportedError
from ..core.results import utc_now_iso
from ..core.settings import HarnessSettings
from .energy import energy_record, estimate_energy

__all__ = ["Stats", "Result", "measure", "peaks", "case_name", "record_for_exception", "metrics_record",
           "memory_record"]


@dataclass(frozen=True)
class Stats:
    """Per-iteration timing statistics in seconds (see harness/statistics.h)."""

    n: int
    mean: float
    stddev: float
    cv: float
    min: float
    max: float
    median: float
    p5: float
    p95: float
    p99: float
    q1: float
    q3: float
    iqr: float
    ci_low: float
    ci_high: float
    ci_level: float
    noise: float
    outliers_low: int
    outliers_high: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Stats":
        return cls(**{f.name: d[f.name] for f in fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Result:
    """One benchmark record. `status` is ok | skipped | failed | invalid."""

    name: str
    case: str
    group: str = "ops"
    params: dict[str, Any] = field(default_factory=dict)
    backend: str = "cpu"
    device: str = "cpu"
    implementation: str | None = None
    implementation_description: str | None = None
    status: str = "ok"
    reason: str | None = None
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    measurement: dict[str, Any] | None = None
    stats: Stats | None = None
    samples: list[float] | None = None
    counters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # Seconds spent before the steady state (build, compile, first call) and the typed
    # configuration the case ran, flattened; C++ cases only.
    phases: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    timestamp_utc: str = field(default_factory=utc_now_iso)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        record = {
            "name": self.name, "group": self.group, "case": self.case, "params": dict(self.params),
            "backend": self.backend, "device": self.device, "implementation": self.implementation,
            "implementation_description": self.implementation_description, "status": self.status,
            "reason": self.reason, "reasons": list(self.reasons), "error": self.error,
            "measurement": self.measurement, "stats": self.stats.to_dict() if self.stats else None,
            "counters": _counters_record(self.counters), "metrics": self.metrics,
            "timestamp_utc": self.timestamp_utc,
        }
        if self.samples is not None:
            record["samples"] = list(self.samples)
        if self.phases is not None:
            record["phases"] = dict(self.phases)
        if self.config:
            record["config"] = dict(self.config)
        if self.extra:
            record["extra"] = dict(self.extra)
        return record

    def __repr__(self) -> str:
        if self.stats is None:
            return f"<Result {self.name}: {self.status} ({self.reason})>"
        return (f"<Result {self.name}: {self.status}, median {self.stats.median * 1e3:.4g} ms, "
                f"noise {self.stats.noise:.2%}, n={self.stats.n}>")


# ---------------------------------------------------------------------------- peaks

# FP32 lanes per SM per clock and dense fp16/bf16 tensor-core FLOP per SM per clock, by
# compute capability (NVIDIA architecture whitepapers). TF32 runs at half the fp16 rate.
_FP32_LANES = {"7.0": 64, "7.5": 64, "8.0": 64, "8.6": 128, "8.7": 128, "8.9": 128, "9.0": 128,
               "10.0": 128, "12.0": 128}
_TENSOR_FLOP_PER_CLK = {"7.0": 1024, "7.5": 1024, "8.0": 2048, "8.6": 1024, "8.7": 1024,
                        "8.9": 1024, "9.0": 4096, "10.0": 8192, "12.0": 2048}


def peaks(device: str) -> dict[str, Any]:
    """Peaks of a device: bytes/s and FLOP/s per math dtype (None where unknown).

    CUDA: datasheet-style ceilings from the device's properties ("spec"); the CPU: the fp32
    FMA ceiling measured once per process ("measured"). The `copy` case measures the
    bandwidth actually reachable.
    """
    if device.startswith("cuda"):
        index = int(device.split(":")[1]) if ":" in device else 0
        info = next((d for d in _core.cuda_devices() if d["index"] == index), None)
        if info is None:
            return {"bytes_per_s": None, "flop_per_s": {}, "source": None}
        clock = info["sm_clock_mhz"] * 1e6
        cc = info["compute_capability"]
        fp32 = info["sm_count"] * _FP32_LANES.get(cc, 64) * 2 * clock
        tensor = info["sm_count"] * _TENSOR_FLOP_PER_CLK.get(cc, 0) * clock or None
        return {
            "bytes_per_s": 2 * info["memory_clock_mhz"] * 1e6 * info["memory_bus_width_bits"] / 8,
            "flop_per_s": {"float32": fp32, "tf32": tensor / 2 if tensor else None,
                           "float16": tensor, "bfloat16": tensor},
            "source": "spec",
        }
    return {"bytes_per_s": None, "flop_per_s": dict(_cpu_peaks()), "source": "measured"}


@functools.lru_cache(maxsize=None)
def _cpu_peaks() -> dict[str, float | None]:
    """The CPU's ceilings per math dtype, measured once per process on every OpenMP thread:
    fp32 FMA chains (a spec figure of lanes x clock overstates cores that split wide vectors,
    Zen 4's AVX-512 by 2x), vdpbf16ps and vpdpbusd chains (None without AVX512_BF16 /
    AVX512_VNNI). float16 has no arithmetic of its own here (no AVX512-FP16 kernels): its
    kernels widen to fp32, so the fp32 ceiling is theirs."""
    fp32 = float(_core.cpu_fma_peak())
    return {"float32": fp32, "float16": fp32, "bfloat16": _core.cpu_bf16_dot_peak(),
            "int8": _core.cpu_int8_dot_peak()}


def _counters_record(c: Mapping[str, Any]) -> dict[str, Any]:
    return {k: c.get(k) for k in ("flops", "bytes_read", "bytes_written", "items", "item_unit",
                                  "math_dtype")}


def metrics_record(stats: Stats | None, counters: Mapping[str, Any], device: str,
                   peak_memory: int | None, correctness: Mapping[str, Any] | None) -> dict[str, Any]:
    """A record's metrics: latency, throughput and fraction of peak from the counters, peak
    memory, correctness."""
    metrics: dict[str, Any] = {
        "latency_p50_ms": stats.median * 1e3 if stats else None,
        "latency_p95_ms": stats.p95 * 1e3 if stats else None,
        "throughput": {"flop_per_s": None, "tflop_per_s": None, "bytes_per_s": None,
                       "gb_per_s": None, "items_per_s": None,
                       "item_unit": counters.get("item_unit")},
        "fraction_of_peak": {"compute": None, "bandwidth": None, "peak_flop_per_s": None,
                             "peak_bytes_per_s": None, "peak_source": None},
        "peak_memory_bytes": peak_memory,
        "correctness": None,
    }
    if correctness is not None:
        metrics["correctness"] = {k: correctness[k] for k in
                                  ("max_abs_error", "max_rel_error", "tolerance", "passed")}
    if stats is None or stats.median <= 0:
        return metrics
    t = stats.median
    tp, frac = metrics["throughput"], metrics["fraction_of_peak"]
    if counters.get("flops"):
        tp["flop_per_s"] = counters["flops"] / t
        tp["tflop_per_s"] = tp["flop_per_s"] / 1e12
    moved = (counters.get("bytes_read") or 0) + (counters.get("bytes_written") or 0)
    if moved:
        tp["bytes_per_s"] = moved / t
        tp["gb_per_s"] = tp["bytes_per_s"] / 1e9
    if counters.get("items"):
        tp["items_per_s"] = counters["items"] / t
    if tp["flop_per_s"] or tp["bytes_per_s"]:
        peak = peaks(device)
        peak_flops = peak["flop_per_s"].get(counters.get("math_dtype") or "float32")
        if tp["flop_per_s"] and peak_flops:
            frac["compute"], frac["peak_flop_per_s"] = tp["flop_per_s"] / peak_flops, peak_flops
        if tp["bytes_per_s"] and peak["bytes_per_s"]:
            frac["bandwidth"] = tp["bytes_per_s"] / peak["bytes_per_s"]
            frac["peak_bytes_per_s"] = peak["bytes_per_s"]
        if frac["compute"] is not None or frac["bandwidth"] is not None:
            frac["peak_source"] = peak["source"]
    return metrics


# ---------------------------------------------------------------------------- naming

def case_name(case: str, device: str, version: str | None, params: Mapping[str, Any]) -> str:
    """`softmax[cpu,v2,rows=1024,cols=1024,dtype=float32]`: unique within a run."""
    shown = "cuda" if device == "cuda:0" else device
    parts = [shown] + ([version] if version else []) + [f"{k}={v}" for k, v in params.items()]
    return f"{case}[{','.join(parts)}]"


def _device_of(device: str) -> str:
    return "cuda:0" if device == "cuda" else device


# ---------------------------------------------------------------------------- results

_NO_CLOCKS = "clock sampling reads NVML: GPU cases only"


def _clocks_record(raw: Mapping[str, Any] | None, device: str) -> dict[str, Any]:
    """metrics.clocks: the harness' clock summary, or `unavailable` with the reason."""
    if raw is None:
        raw = {"source": "unavailable", "reason": _NO_CLOCKS if not device.startswith("cuda")
               else "clocks were not sampled"}
    keys = ("source", "reason", "mean_sm_clock_mhz", "max_sm_clock_mhz", "mean_mem_clock_mhz",
            "mean_temperature_c", "mean_power_w", "throttled_samples", "samples", "idle_samples",
            "discarded_timing_samples", "throttle_reasons")
    out = {k: raw.get(k) for k in keys}
    for k in ("throttled_samples", "samples", "idle_samples", "discarded_timing_samples"):
        out[k] = int(out[k] or 0)
    out["throttle_reasons"] = list(out["throttle_reasons"] or [])
    return out


def memory_record(memory: Mapping[str, Any] | None, device_delta: int | None,
                  host_peak_rss: int | None, rss_reset: bool | None) -> dict[str, Any]:
    """metrics.memory: tracking allocator (benchsuite's own buffers), CUDA free-memory delta,
    host peak RSS (of the case when the peak could be reset before it, else of the process)."""
    memory = memory or {}
    return {"allocated_bytes": memory.get("allocated_bytes"), "peak_bytes": memory.get("peak_bytes"),
            "allocation_count": memory.get("allocation_count"), "device_delta_bytes": device_delta,
            "host_peak_rss_bytes": host_peak_rss, "host_peak_rss_scope": None if host_peak_rss is None
            else ("case" if rss_reset else "process")}


def _add_probes(result: Result, settings: HarnessSettings, probes: Mapping[str, Any]) -> None:
    metrics, counters = result.metrics, result.counters
    if "memory" in probes:
        metrics["memory"] = probes["memory"]
    if result.stats is None:
        return
    metrics["clocks"] = _clocks_record(probes.get("clocks"), result.device)
    if settings.energy and not settings.smoke:
        metrics["energy"] = energy_record(probes.get("energy"), counters, result.stats.median)
    estimate = estimate_energy(counters, result.device)
    if estimate is not None:
        metrics["energy_estimate"] = estimate


def _finish(result: Result, raw: Mapping[str, Any] | None, *, settings: HarnessSettings,
            correctness: Mapping[str, Any] | None, counters: Mapping[str, Any],
            peak_memory: int | None, probes: Mapping[str, Any] | None = None,
            interrupted: bool = False) -> Result:
    """Status, stats, metrics from a native measurement dict (None when not measured);
    `probes` holds the clocks, energy and memory records that came with it. An
    `interrupted` measurement keeps its samples under the status `interrupted`."""
    result.counters = dict(counters)
    probes = probes or {}
    if raw is None and interrupted:  # Ctrl-C before the timing began
        result.status, result.reason = "interrupted", "interrupted"
        result.metrics = metrics_record(None, counters, result.device, peak_memory, correctness)
        _add_probes(result, settings, probes)
        return result
    if correctness is not None and not correctness["passed"]:
        result.status, result.reason = "failed", "correctness"
        result.error = f"output does not match the reference: {correctness.get('detail')}"
        result.metrics = metrics_record(None, counters, result.device, peak_memory, correctness)
        _add_probes(result, settings, probes)
        return result
    assert raw is not None
    stats = Stats.from_dict(raw["stats"]) if raw["stats"] else None
    result.stats = stats
    result.samples = list(raw["samples"]) if settings.keep_samples else None
    result.measurement = {
        "mode": raw["mode"], "timer": raw["timer"], "timer_resolution_s": raw["timer_resolution_s"],
        "warmup": raw["warmup_runs"], "min_samples": settings.min_samples,
        "max_samples": settings.max_samples, "min_time": settings.min_time,
        "max_noise": settings.max_noise, "timeout": settings.timeout,
        "launches_per_sample": raw["launches_per_sample"],
        "loops_per_sample": raw["loops_per_sample"], "stop_reason": raw["stop_reason"],
        "sampled_time_s": raw["sampled_time_s"], "total_time_s": raw["total_time_s"],
        "l2_flush_bytes": raw["l2_flush_bytes"], "smoke": settings.smoke,
    }
    result.metrics = metrics_record(stats, counters, result.device, peak_memory, correctness)
    _add_probes(result, settings, probes)
    if interrupted:
        result.status, result.reason = "interrupted", "interrupted"
        result.reasons = list(raw["invalid_reasons"])
    elif raw["invalid_reasons"]:
        result.status = "invalid"
        result.reasons = list(raw["invalid_reasons"])
        result.reason = result.reasons[0].split(":", 1)[0]
    else:
        result.status = "ok"
    return result


def record_for_exception(result: Result, exc: BaseException) -> Result:
    """Turn an exception into the matching record status (skipped or failed)."""
    if isinstance(exc, UnsupportedError):  # includes CudaUnavailableError
        result.status, result.reason = "skipped", exc.reason
        result.reasons = [str(exc)]
    elif isinstance(exc, InvalidArgumentError):  # a sweep's impossible parameters
        result.status, result.reason = "failed", "invalid_argument"
        result.error = str(exc)
    else:
        result.status, result.reason = "failed", "error"
        result.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    result.metrics = metrics_record(None, result.counters, result.device, None, None)
    return result


def _settings(settings: HarnessSettings | None, mode: str | None, overrides: Mapping[str, Any]) -> HarnessSettings:
    s = settings or HarnessSettings()
    changes = dict(overrides)
    if mode is not None:
        changes["mode"] = mode
    return s.replace(**changes) if changes else s


def _is_torch_object(value: Any) -> bool:
    name = value.__name__ if isinstance(value, types.ModuleType) else type(value).__module__
    return (name or "").split(".")[0] == "torch"


def _uses_torch(fn: Callable[[], Any]) -> bool:
    """Whether a measured callable runs torch: defined in torch, or its code reads the torch
    module or torch objects (globals it names, variables it closes over). Only that: torch
    being imported (the CPU peers import it) says nothing of this callable."""
    if "torch" not in sys.modules:
        return False
    if (getattr(fn, "__module__", None) or "").split(".")[0] == "torch":
        return True
    code = getattr(fn, "__code__", None)
    if code is None:
        return _is_torch_object(fn)
    named = [getattr(fn, "__globals__", {}).get(n) for n in code.co_names]
    closed = [cell.cell_contents for cell in (getattr(fn, "__closure__", None) or ()) if _has_contents(cell)]
    return any(v is not None and _is_torch_object(v) for v in named + closed)


def _has_contents(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # an empty cell (a variable not yet bound)
        return False
    return True


def measure_case(case: str, *, device: str = "cpu", impl: str | None = None,
                 settings: HarnessSettings | None = None, check: bool | None = None,
                 group: str | None = None, **params: Any) -> Result:
    """Measure a registered C++ case (see `list_cases()`), catching skips and failures."""
    device = _device_of(device)
    settings = settings or HarnessSettings()
    check = settings.check if check is None else check
    families = {f["name"]: f for f in _core.case_families()}
    if case not in families:
        raise InvalidArgumentError(
            f"case={case!r} is not a registered case (known: {', '.join(families)})")
    family = families[case]
    _check_int_params(case, family, params)
    result = Result(name=case_name(case, device, impl, params), case=case,
                    group=group or family["group"], params=dict(params),
                    backend="cuda" if device.startswith("cuda") else "cpu", device=device,
                    implementation=impl)
    try:
        raw = _core.measure_case(case, params, device, impl or "", settings.to_dict(), check)
    except InvalidArgumentError:
        raise
    except Exception as exc:  # skips (no CUDA, unsupported dtype, OOM) and failures
        return record_for_exception(result, exc)
    order = [p["name"] for p in family["params"]]
    result.params = {k: raw["params"][k] for k in order if k in raw["params"]}
    result.implementation = raw["version"]
    result.implementation_description = raw["version_description"]
    result.name = case_name(case, device, raw["version"], result.params)
    result.extra = dict(raw["extra"])
    result.extra["memory"] = raw["memory"]
    cuda = device.startswith("cuda")
    if cuda:
        result.extra["device_memory_delta_bytes"] = raw["device_memory_delta"]
    probes = {"memory": memory_record(raw["memory"], raw["device_memory_delta"] if cuda else None,
                                       raw.get("host_peak_rss"), raw.get("host_peak_rss_reset")),
              "clocks": raw.get("clocks"), "energy": raw.get("energy")}
    _finish(result, raw["measurement"], settings=settings, correctness=raw["correctness"],
            counters=raw["counters"], peak_memory=raw["memory"]["peak_bytes"], probes=probes,
            interrupted=raw["interrupted"])
    _add_case_reports(result, raw)
    if raw["interrupted"]:
        raise MeasurementInterrupted(result)
    return result


def _add_case_reports(result: Result, raw: Mapping[str, Any]) -> None:
    """What a C++ case says of itself beyond time: its phases before the steady state, the
    typed config it ran, and its own figures (metrics.reported)."""
    if raw.get("phases") is not None:
        result.phases = dict(raw["phases"], steady_state_s=result.stats.median if result.stats else None)
    result.config = dict(raw.get("config") or {})
    if raw.get("case_metrics"):
        result.metrics["reported"] = {name: dict(m) for name, m in raw["case_metrics"].items()}


_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _check_int_params(case: str, family: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    """Integer parameters the native core could not hold (past int64) or below the case's
    minimum: an argument error naming the parameter, before anything is allocated."""
    spec = {p["name"]: p for p in family["params"]}
    for name, value in params.items():
        p = spec.get(name)
        if p is None or p["type"] != "int" or isinstance(value, bool) or not isinstance(value, int):
            continue  # unknown names and wrong types: the core's message names them
        if not _INT64[0] <= value <= _INT64[1]:
            raise InvalidArgumentError(f"{case}: {name}={value} is out of the int64 range")
        if p.get("min") is not None and value < p["min"]:
            raise InvalidArgumentError(f"{case}: {name}={value} must be >= {p['min']}")


def _torch_stream(device: str) -> int | None:
    """PyTorch's current CUDA stream handle when torch is in use (its work goes there)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return int(torch.cuda.current_stream(torch.device(device)).cuda_stream)


def measure_callable(fn: Callable[[], Any], *, device: str = "cpu", name: str | None = None,
                     settings: HarnessSettings | None = None, counters: Mapping[str, Any] | None = None,
                     stream: int | None = None, group: str = "callable",
                     params: Mapping[str, Any] | None = None) -> Result:
    """Measure any Python callable. On CUDA the events go on `stream` (default: PyTorch's
    current stream when torch is imported, else a harness stream); graph mode with PyTorch
    captures through torch.cuda.graph so its allocator stays consistent."""
    if not callable(fn):
        raise InvalidArgumentError(f"fn={fn!r} is not callable")
    device = _device_of(device)
    settings = settings or HarnessSettings()
    label = name or getattr(fn, "__qualname__", None) or "callable"
    cuda = device.startswith("cuda")
    result = Result(name=case_name(label, device, None, params or {}), case="callable", group=group,
                    params=dict(params or {}), backend="python", device=device)
    counters = {k: (float(v) if isinstance(v, (int, float)) and k != "item_unit" else v)
                for k, v in (counters or {}).items()}
    for key, value in counters.items():
        if key not in ("flops", "bytes_read", "bytes_written", "items", "item_unit", "math_dtype"):
            raise InvalidArgumentError(f"counters[{key!r}]: unknown counter (flops, bytes_read, "
                                       "bytes_written, items, item_unit, math_dtype)")
        if key not in ("item_unit", "math_dtype") and (not isinstance(value, float) or value < 0
                                                       or not math.isfinite(value)):
            raise InvalidArgumentError(f"counters[{key!r}]={value!r} must be a finite number >= 0")
    before = _core.memory_stats("cuda" if cuda else "cpu")
    _core.reset_memory_stats("cuda" if cuda else "cpu")
    rss_reset = _core.reset_host_peak_rss()
    try:
        torch_graph = cuda and settings.mode == "graph" and "torch" in sys.modules and stream is None
        if torch_graph:
            raw = _measure_torch_graph(fn, device, settings)
        else:
            if cuda and stream is None:
                stream = _torch_stream(device)
            raw = _core.measure_callable(fn, device, settings.to_dict(), stream)
    except InvalidArgumentError:
        raise
    except Exception as exc:
        return record_for_exception(result, exc)
    if _uses_torch(fn):
        result.backend = "torch"
    after = _core.memory_stats("cuda" if cuda else "cpu")
    peak = max(0, after["peak_bytes"] - before["bytes_in_use"]) if after["allocation_count"] else None
    memory = {"allocated_bytes": after["allocated_bytes"], "peak_bytes": peak or 0,
              "allocation_count": after["allocation_count"]}
    probes = {"memory": memory_record(memory, None, _core.host_peak_rss_bytes(), rss_reset),
              "clocks": raw.get("clocks"), "energy": raw.get("energy")}
    _finish(result, raw, settings=settings, correctness=None, counters=counters, peak_memory=peak,
            probes=probes, interrupted=raw.get("interrupted", False))
    if raw.get("interrupted"):
        raise MeasurementInterrupted(result)
    return result


def _measure_torch_graph(fn: Callable[[], Any], device: str, settings: HarnessSettings) -> dict:
    """Graph mode for PyTorch code: capture k calls with torch.cuda.graph, time replays."""
    import torch

    k = 1 if settings.smoke else settings.launches_per_sample
    side = torch.cuda.Stream(device=device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(max(1, settings.warmup)):
            fn()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(k):
            fn()
    replay_settings = settings.replace(mode="hot", launches_per_sample=1, warmup=1)
    stream = int(torch.cuda.current_stream(device).cuda_stream)
    raw = _core.measure_callable(graph.replay, device, replay_settings.to_dict(), stream)
    raw["samples"] = [s / k for s in raw["samples"]]
    if raw["samples"]:
        raw["stats"] = _core.compute_stats(raw["samples"])
    raw["mode"], raw["launches_per_sample"] = "graph", k
    energy = raw.get("energy")
    if energy:  # the window repeated whole replays of k calls
        for key in ("joules_per_iter", "sampled_power_joules_per_iter"):
            if energy.get(key) is not None:
                energy[key] /= k
        if energy.get("repetitions") is not None:
            energy["repetitions"] *= k
    return raw


def measure(target: str | Callable[[], Any], /, *, device: str = "cpu", mode: str | None = None,
            impl: str | None = None, settings: HarnessSettings | None = None,
            check: bool | None = None, name: str | None = None,
            counters: Mapping[str, Any] | None = None, stream: int | None = None,
            **params: Any) -> Result:
    """Measure a registered case by name (`params` are its parameters) or a callable.

    >>> r = bs.measure("softmax", rows=4096, cols=4096, dtype="float32", device="cuda")
    >>> r = bs.measure(lambda: torch.softmax(t, -1), device="cuda", mode="graph")

    Harness options (min_samples, max_noise, ...) go in `settings`; `mode` overrides its
    GPU timing mode. Skips and failures come back as a Result with that status; only bad
    arguments raise (InvalidArgumentError / ConfigError).
    """
    settings = _settings(settings, mode, {})
    if isinstance(target, str):
        if counters is not None or stream is not None or name is not None:
            raise InvalidArgumentError("counters, stream and name apply to callables, not to "
                                       f"registered case {target!r}")
        return measure_case(target, device=device, impl=impl, settings=settings, check=check, **params)
    if impl is not None:
        raise InvalidArgumentError("impl applies to registered cases, not to callables")
    return measure_callable(target, device=device, name=name, settings=settings, counters=counters,
                            stream=stream, params=params)
