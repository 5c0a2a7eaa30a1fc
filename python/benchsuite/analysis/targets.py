"""Performance targets (configs/targets.yaml): a metric bound per case, checked against the
best matching result of one or more runs; a target nothing measured says why (its result was
skipped, failed or invalid) and which profiles' sweeps measure its shape.

    targets:
      - name: softmax fp32 4096x4096 on cuda
        case: softmax
        device: cuda
        params: {rows: 4096, cols: 4096, dtype: float32}
        implementation: [v2, v3]         # optional: any version when left out
        metric: gb_per_s                 # any metric in benchsuite.core.fields, or speedup:<peer>
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

from ..core.errors import ConfigError, InvalidArgumentError
from ..core.fields import metric, number

__all__ = ["Target", "TargetResult", "load_targets", "evaluate_targets", "default_targets_path",
           "profiles_measuring", "shipped_profiles"]

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
    # not measured: the matching records that were not `ok` ("name status (reason)") ...
    unusable: list[str] = field(default_factory=list)
    # ... and the profiles whose sweeps hold the target's shape, the most focused first
    measured_by: list[str] = field(default_factory=list)

    def hint(self) -> str | None:
        """Why a target is not measured and what to run: None when it was measured."""
        if self.status != "not_measured":
            return None
        parts = []
        if self.unusable:
            more = f" (+{len(self.unusable) - 1} more)" if len(self.unusable) > 1 else ""
            parts.append(f"no ok result: {self.unusable[0]}{more}")
        if self.measured_by:
            others = f" (or {', '.join(self.measured_by[1:])})" if len(self.measured_by) > 1 else ""
            where = " on a CUDA device" if str(self.target.device or "").startswith("cuda") else ""
            parts.append(f"run --profile {self.measured_by[0]}{others}{where}")
        elif not self.unusable:
            parts.append("no known profile sweeps this shape")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"target": asdict(self.target), "status": self.status, "current": self.current,
                "record": self.record, "run_id": self.run_id, "unusable": list(self.unusable),
                "measured_by": list(self.measured_by), "hint": self.hint()}


def default_targets_path() -> Path | None:
    from ..core.config import profile_dirs
    for d in profile_dirs():
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


def _sweep_holds(target: Target, profile: Any) -> bool:
    """Whether a profile's sweeps produce a case the target matches (on its device)."""
    from ..core.config import sweep_blocks
    device = (target.device or "").split(":")[0] or None
    devices = [d for d in profile.devices if device is None or d == device]
    sweep = profile.sweeps.get(target.case)
    if not devices or sweep is None:
        return False
    for block in sweep_blocks(sweep):
        only = block.get("device")
        if only is not None and not set(only) & set(devices):
            continue
        # a parameter the block leaves out takes the family's default, which the profile does
        # not say: such a block is not counted as measuring the target
        if all(k in block and any(_same(v, x) for x in block[k]) for k, v in target.params.items()):
            return True
    return False


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):   # causal: true is not 1
        return type(a) is type(b) and a == b
    return a == b


def _sweep_size(profile: Any) -> int:
    """Parameter points a profile sweeps (before versions and devices): its size, roughly."""
    from ..core.config import sweep_blocks
    size = 0
    for sweep in profile.sweeps.values():
        for block in sweep_blocks(sweep):
            n = 1
            for k, values in block.items():
                if k != "device":
                    n *= max(1, len(values))
            size += n
    return size


def shipped_profiles() -> list[Any]:
    """Every profile find_profile() resolves by name (./configs, the bundled ones), loaded
    without BENCH_* overrides; files that are not valid profiles (targets.yaml) are left out."""
    from ..core.config import available_profiles, load_profile
    profiles = []
    for name in available_profiles():
        try:
            profiles.append(load_profile(name, env={}))
        except Exception:  # noqa: BLE001 - not a profile, or a broken one: it measures nothing
            continue
    return profiles


def profiles_measuring(target: Target, profiles: Iterable[Any]) -> list[str]:
    """Names of the profiles whose sweeps measure the target's shape, smallest sweep first
    (the focused profile, e.g. cpu_targets, before the broad ones)."""
    found = [(_sweep_size(p), p.name) for p in profiles if _sweep_holds(target, p)]
    return [name for _, name in sorted(found)]


def _unusable(record: Mapping[str, Any]) -> str:
    """`name status (why)`: the short detail when there is one (noise_above_limit: 0.2 > 0.1),
    else the machine-readable reason (no_cuda), never a long error text."""
    detail = "; ".join(record.get("reasons") or [])
    why = detail if detail and len(detail) <= 60 else record.get("reason") or ""
    return f"{record.get('name')} {record.get('status')}" + (f" ({why})" if why else "")


def evaluate_targets(targets: Iterable[Target], runs: Iterable[tuple[str, Iterable[Mapping[str, Any]]]],
                     profiles: Iterable[Any] | None = None) -> list[TargetResult]:
    """For each target, the best value among the `ok` records that match it, in any run
    (runs given as (run_id, records) pairs). A target with no such record lists the matching
    records that were not ok and, given `profiles` (benchsuite.core.config.Profile objects, e.g.
    shipped_profiles()), the names of those that measure it."""
    runs = [(run_id, list(records)) for run_id, records in runs]
    profiles = list(profiles) if profiles is not None else None
    out = []
    for t in targets:
        m = metric(t.metric)
        best: tuple[float, str, str] | None = None
        unusable: list[str] = []
        for run_id, records in runs:
            for r in records:
                if not t.matches(r):
                    continue
                if r.get("status") != "ok":
                    unusable.append(_unusable(r))
                    continue
                v = m.value(r)
                if v is None:
                    continue
                if best is None or (v > best[0] if m.higher_is_better else v < best[0]):
                    best = (v, str(r.get("name")), run_id)
        if best is None:
            out.append(TargetResult(t, "not_measured", None, None, None, unusable,
                                    profiles_measuring(t, profiles) if profiles is not None else []))
        else:
            out.append(TargetResult(t, "pass" if _OPS[t.op](best[0], t.value) else "fail", *best))
    return out
