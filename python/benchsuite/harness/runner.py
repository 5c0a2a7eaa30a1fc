"""Sweeps: expand a profile into concrete cases (family x device x version x parameter
point), run them one by one into an incrementally written results file, and summarise.
A sweep never stops at a failure: every case gets a record."""
from __future__ import annotations

import fnmatch
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .. import _core
from ..analysis.summary import write_markdown
from ..core.config import Profile, sweep_blocks
from ..core.environment import capture_environment
from ..core.errors import ConfigError, MeasurementInterrupted, OutputError, RunWriteError
from ..core.results import RunWriter, new_run, new_run_id
from ..core.settings import HarnessSettings
from .measure import Result, case_name, measure_case, record_for_exception

__all__ = ["CaseSpec", "list_cases", "expand_cases", "run_case", "run_suite", "matches", "SuiteRun"]


@dataclass(frozen=True)
class CaseSpec:
    """One concrete benchmark case: what `benchsuite list` shows and `run` measures."""

    case: str
    device: str                    # "cpu" | "cuda"
    version: str | None            # None: no version of this family exists on this build
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    group: str = "ops"
    description: str = ""
    version_description: str = ""

    @property
    def name(self) -> str:
        return case_name(self.case, self.device, self.version, self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "case": self.case, "device": self.device, "version": self.version,
                "version_description": self.version_description, "params": dict(self.params),
                "group": self.group, "description": self.description}


def matches(name: str, pattern: str | None) -> bool:
    """-k PATTERN: a glob when it has * ? or [, else a case-insensitive substring."""
    if not pattern:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name.lower(), pattern.lower())
    return pattern.lower() in name.lower()


def _families() -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in _core.case_families()}


def _points(family: Mapping[str, Any], sweep: Any) -> list[tuple[dict[str, Any], list[str] | None]]:
    """Parameter points of a family's sweep, in the family's parameter order, each with the
    devices its block is limited to (a block's `device` key; None: every device)."""
    order = [p["name"] for p in family["params"]]
    points: list[tuple[dict[str, Any], list[str] | None]] = []
    for block in sweep_blocks(sweep):
        only = block.get("device")
        unknown = [k for k in block if k not in order and k != "device"]
        if unknown:
            raise ConfigError(f"sweeps.{family['name']}.{unknown[0]}", block[unknown[0]],
                              f"unknown parameter; {family['name']} takes {', '.join(order)} (and device)")
        bad = [d for d in only or [] if d not in ("cpu", "cuda")]
        if bad:
            raise ConfigError(f"sweeps.{family['name']}.device", bad[0], "must be cpu or cuda")
        keys = [k for k in order if k in block]
        for values in itertools.product(*(block[k] for k in keys)):
            point = (dict(zip(keys, values)), None if only is None else list(only))
            if point not in points:
                points.append(point)
    return points


def expand_cases(profile: Profile, devices: Iterable[str] | None = None,
                 pattern: str | None = None) -> list[CaseSpec]:
    """Every case the profile's sweeps name, on the requested devices, filtered by -k."""
    families = _families()
    wanted = list(devices) if devices is not None else list(profile.devices)
    specs: list[CaseSpec] = []
    for family_name, sweep in profile.sweeps.items():
        if family_name not in families:
            raise ConfigError(f"sweeps.{family_name}", sweep,
                              f"unknown case family; known: {', '.join(families)}", profile.path)
        family = families[family_name]
        for point, only in _points(family, sweep):
            for device in wanted:
                if device not in family["devices"] or (only is not None and device not in only):
                    continue
                versions = family["versions"].get(device, [])
                dtype = point.get("dtype")
                usable = [v for v in versions if dtype is None or dtype in v["dtypes"]]
                if not usable:  # keep the case visible: it becomes a skipped record
                    usable = [{"version": None, "description": ""}]
                for v in usable:
                    spec = CaseSpec(case=family_name, device=device, version=v["version"],
                                    params=dict(point), group=family["group"],
                                    description=family["description"],
                                    version_description=v["description"])
                    if matches(spec.name, pattern):
                        specs.append(spec)
    return specs


def list_cases(pattern: str | None = None, profile: Profile | str | None = None,
               devices: Iterable[str] | None = None) -> list[CaseSpec]:
    """Registered cases as a profile sweeps them (default profile), filtered by -k."""
    from ..core.config import load_profile
    if not isinstance(profile, Profile):
        profile = load_profile(profile or "default")
    return expand_cases(profile, devices, pattern)


def _peer_key(spec: CaseSpec) -> tuple:
    return (spec.case, spec.device, tuple(sorted(spec.params.items())))


def run_case(spec: CaseSpec, settings: HarnessSettings,
             peer_cache: dict[tuple, dict[str, Any]] | None = None) -> Result:
    """Measure one case, then its peers (NumPy / PyTorch) unless peer_cache is None;
    skips and errors become records, never exceptions. The cache holds each peer's
    measurement once per (family, device, params), shared by all versions of a case."""
    result = _run_case(spec, settings)
    if peer_cache is not None and result.stats is not None:
        from ..peers import measure_peers
        key = _peer_key(spec)
        if key not in peer_cache:
            # peers record their time only: no energy window for them
            peer_settings = settings.replace(energy=False) if settings.energy else settings
            try:
                peer_cache[key] = measure_peers(spec.case, spec.params, result.device, None, peer_settings)
            except MeasurementInterrupted:  # the case itself was measured whole: keep it
                raise MeasurementInterrupted(result) from None
        peers = {}
        for name, entry in peer_cache[key].items():
            entry = dict(entry)
            if entry["median_s"]:
                entry["speedup"] = entry["median_s"] / result.stats.median
            peers[name] = entry
        result.metrics["peers"] = peers
    return result


def _run_case(spec: CaseSpec, settings: HarnessSettings) -> Result:
    if spec.version is None:
        status = _core.cuda_status()
        result = Result(name=spec.name, case=spec.case, group=spec.group, params=dict(spec.params),
                        backend=spec.device, device="cuda:0" if spec.device == "cuda" else "cpu")
        from ..core.errors import CudaUnavailableError, UnsupportedError
        if spec.device == "cuda" and not status["available"]:
            exc: Exception = CudaUnavailableError(f"{spec.case}: CUDA is unavailable ({status['reason']})")
        else:
            exc = UnsupportedError(f"{spec.case} on {spec.device}: no version supports "
                                   f"dtype={spec.params.get('dtype')}", "unsupported_dtype")
        return record_for_exception(result, exc)
    try:
        return measure_case(spec.case, device=spec.device, impl=spec.version, settings=settings,
                            group=spec.group, **spec.params)
    except Exception as exc:  # bad parameters in a sweep: a failed record, the sweep goes on
        result = Result(name=spec.name, case=spec.case, group=spec.group, params=dict(spec.params),
                        backend=spec.device, device="cuda:0" if spec.device == "cuda" else "cpu",
                        implementation=spec.version)
        return record_for_exception(result, exc)


@dataclass
class SuiteRun:
    json_path: Path
    markdown_path: Path
    doc: dict[str, Any]

    def by_status(self) -> dict[str, int]:
        counts = {"ok": 0, "skipped": 0, "failed": 0, "invalid": 0}
        for b in self.doc["benchmarks"]:
            counts[b["status"]] = counts.get(b["status"], 0) + 1
        return counts


def run_config(profile: Profile, settings: HarnessSettings, extra: Mapping[str, Any] | None = None) -> dict:
    config = {"profile": profile.name, "profile_path": profile.path, "overrides": dict(profile.overrides),
              "harness": settings.to_dict(), "smoke": settings.smoke}
    config.update(extra or {})
    return config


def run_suite(specs: list[CaseSpec], profile: Profile, out_dir: str | os.PathLike,
              settings: HarnessSettings | None = None, suite: str = "cli",
              json_path: str | os.PathLike | None = None,
              on_result: Callable[[int, int, Result], None] | None = None,
              before_case: Callable[[int, int, CaseSpec], None] | None = None,
              peers: bool = True, overwrite: bool = False) -> SuiteRun:
    """Run every spec into `out_dir/<run_id>.json` (or `json_path`), then write the
    Markdown summary beside it. Ctrl-C finishes the file as `interrupted`.

    An existing file at the path is never replaced unless `overwrite` (OutputError, EEXIST).
    When the file cannot be rewritten after a case (full disk), measuring stops: RunWriteError
    names the cases not written; the file keeps the ones before."""
    settings = settings or profile.harness
    run_id = new_run_id()
    path = Path(json_path) if json_path else Path(out_dir) / f"{run_id}.json"
    doc = new_run(suite, capture_environment(), run_config(profile, settings, {"cases": len(specs)}),
                  run_id=run_id)
    writer = RunWriter(path, doc, exclusive=True, replace_existing=overwrite)
    peer_cache: dict[tuple, dict[str, Any]] | None = {} if peers else None
    with writer:
        for i, spec in enumerate(specs):
            if before_case:
                before_case(i, len(specs), spec)
            try:
                result = run_case(spec, settings, peer_cache)
            except MeasurementInterrupted as stop:  # keep what the case measured, then stop
                try:
                    writer.add(stop.result.to_dict())
                except OutputError as exc:
                    raise RunWriteError(exc, len(writer.run["benchmarks"]), [s.name for s in specs[i:]]) from None
                if on_result:
                    on_result(i, len(specs), stop.result)
                raise
            try:
                writer.add(result.to_dict())
            except OutputError as exc:
                raise RunWriteError(exc, len(writer.run["benchmarks"]), [s.name for s in specs[i:]]) from None
            if on_result:
                on_result(i, len(specs), result)
    md_path = path.with_suffix(".md")
    write_markdown(writer.run, md_path)
    return SuiteRun(path, md_path, writer.run)
