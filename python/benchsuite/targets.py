"""Performance targets (configs/targets.yaml): a metric bound per case, checked against the
best matching result of one or more runs.

    targets:
      - name: softmax fp32 4096x4096 on cuda
        case: softmax
        device: cuda
        params: {rows: 4096, cols: 4096, dtype: float32}
        implementation: [v2, v3]         # optional: any version when left out
        metric: gb_per_s                 # any metric in benchsuite.fields, or speedup:<peer>
        op: ">="
        value: 2700
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, InvalidArgumentError
from .fields import metric, number

__all__ = ["Target", "TargetResult", "load_targets", "evaluate_targets", "default_targets_path"]

_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}


@dataclass
class Target:
    name: str
    case: str
    metric: str
    op: str
    value: float
    device: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    implementation: list[str] | None = None
    note: str | None = None

    def matches(self, record: Mapping[str, Any]) -> bool:
        if record.get("case") != self.case:
            return False
        device = str(record.get("device"))
        if self.device and device != self.device and not device.startswith(self.device + ":"):
            return False
        if self.implementation and record.get("implementation") not in self.implementation:
            return False
        params = record.get("params") or {}
        return all(k in params and params[k] == v for k, v in self.params.items())


@dataclass
class TargetResult:
    target: Target
    status: str                    # pass | fail | not_measured
    current: float | None
    record: str | None             # the record that gave the best value
    run_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"target": asdict(self.target), "status": self.status, "current": self.current,
                "record": self.record, "run_id": self.run_id}


def default_targets_path() -> Path | None:
    from .config import _profile_dirs
    for d in _profile_dirs():
        path = d / "targets.yaml"
        if path.is_file():
            return path
    return None


def _target(raw: Any, index: int, source: str) -> Target:
    key = f"targets[{index}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(key, raw, "each target must be a mapping with case, metric, op and value", source)
    unknown = set(raw) - {"name", "case", "metric", "op", "value", "device", "params", "implementation", "note"}
    if unknown:
        raise ConfigError(f"{key}.{sorted(unknown)[0]}", raw[sorted(unknown)[0]], "unknown target key", source)
    for required in ("case", "metric", "op", "value"):
        if required not in raw:
            raise ConfigError(f"{key}.{required}", None, "missing", source)
    if not isinstance(raw["case"], str):
        raise ConfigError(f"{key}.case", raw["case"], "must be a case name", source)
    try:
        metric(str(raw["metric"]))
    except InvalidArgumentError as exc:
        raise ConfigError(f"{key}.metric", raw["metric"], str(exc).split(": ", 1)[-1], source) from None
    if raw["op"] not in _OPS:
        raise ConfigError(f"{key}.op", raw["op"], f"must be one of {', '.join(_OPS)}", source)
    if number(raw["value"]) is None:
        raise ConfigError(f"{key}.value", raw["value"], "must be a finite number", source)
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"{key}.params", params, "must be a mapping of parameter: value", source)
    impl = raw.get("implementation")
    if impl is not None:
        impl = [impl] if isinstance(impl, str) else impl
        if not isinstance(impl, list) or not all(isinstance(i, str) for i in impl):
            raise ConfigError(f"{key}.implementation", raw["implementation"], "must be a version or a list", source)
    name = raw.get("name") or f"{raw['case']} {raw['metric']} {raw['op']} {raw['value']}"
    return Target(str(name), raw["case"], str(raw["metric"]), raw["op"], float(raw["value"]), raw.get("device"),
                  dict(params), impl, raw.get("note"))


def load_targets(path: str | os.PathLike) -> list[Target]:
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError("targets", source, f"cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError("targets", source, f"not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("targets"), list):
        raise ConfigError("targets", None, "the file must hold a mapping with a 'targets' list", source)
    return [_target(t, i, source) for i, t in enumerate(raw["targets"])]


def evaluate_targets(targets: Iterable[Target], runs: Iterable[tuple[str, Iterable[Mapping[str, Any]]]]
                     ) -> list[TargetResult]:
    """For each target, the best value among the `ok` records that match it, in any run
    (runs given as (run_id, records) pairs)."""
    runs = [(run_id, list(records)) for run_id, records in runs]
    out = []
    for t in targets:
        m = metric(t.metric)
        best: tuple[float, str, str] | None = None
        for run_id, records in runs:
            for r in records:
                if r.get("status") != "ok" or not t.matches(r):
                    continue
                v = m.value(r)
                if v is None:
                    continue
                if best is None or (v > best[0] if m.higher_is_better else v < best[0]):
                    best = (v, str(r.get("name")), run_id)
        if best is None:
            out.append(TargetResult(t, "not_measured", None, None, None))
        else:
            out.append(TargetResult(t, "pass" if _OPS[t.op](best[0], t.value) else "fail", *best))
    return out
