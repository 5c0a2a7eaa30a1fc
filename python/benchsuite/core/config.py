"""Profiles: YAML files that say what to sweep and how to measure it.

A profile (configs/quick.yaml, configs/default.yaml, or any .yaml a user names) holds
harness settings, devices and per-family parameter sweeps. It is loaded, validated, then
adjusted by explicit overrides and finally by BENCH_* environment variables; every
adjustment is recorded so a result file says how it was configured. BENCH_BATCH and
BENCH_SEQ_LEN set every sweep parameter named `batch` / `seq_len` (e.g. of attention,
selective_scan, rope). There is no `axes` key (model batch, seq_len, embed, layers)
until the model suites that would read it exist: a profile that has one is an error.
"""
from __future__ import annotations

import copy
import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .settings import MODES, HarnessSettings
from .values import check_mapping, is_int, is_real, unknown_error

__all__ = [
    "HarnessSettings",
    "Profile",
    "available_profiles",
    "find_profile",
    "load_profile",
    "parse_override",
    "profile_dirs",
    "sweep_blocks",
    "ENV_VARS",
    "ENV_VAR_DOCS",
    "MODES",
    "DEVICES",
    "TOP_LEVEL_KEYS",
]

DEVICES = ("cpu", "cuda")
TOP_LEVEL_KEYS = ("name", "description", "harness", "devices", "sweeps")
# `axes` (model batch, seq_len, embed, layers) is refused until a case reads it.
_AXES_REMOVED = ("not read by any case yet (the model suites will read batch, seq_len, embed, "
                 "layers); remove it — BENCH_BATCH / BENCH_SEQ_LEN set the 'batch' / 'seq_len' "
                 "sweep parameters")

# Environment variable -> the profile key it overrides (applied last, recorded). Other
# BENCH_* variables are not read (BENCH_EMBED and BENCH_LAYERS went with `axes`).
ENV_VARS: dict[str, str] = {
    "BENCH_ITERS": "harness.min_samples",
    "BENCH_TIME": "harness.min_time",
    "BENCH_WARMUP": "harness.warmup",
    "BENCH_BATCH": "sweeps.*.batch",
    "BENCH_SEQ_LEN": "sweeps.*.seq_len",
    "BENCH_ENERGY": "harness.energy",
}
ENV_VAR_DOCS: dict[str, str] = {
    "BENCH_ITERS": "minimum samples per case, a positive integer (raises max_samples to match)",
    "BENCH_TIME": "minimum sampled seconds per case before the noise rule may stop, >= 0",
    "BENCH_WARMUP": "warm-up runs before sampling, an integer >= 0",
    "BENCH_BATCH": "batch sizes, comma-separated positive integers: every sweep parameter named 'batch'",
    "BENCH_SEQ_LEN": "sequence lengths, comma-separated positive integers: every sweep parameter named "
                     "'seq_len'",
    "BENCH_ENERGY": "measure energy too (1/0, true/false, yes/no): a window of repeated runs per case",
}
_ENV_SWEEP_PARAMS = {"BENCH_BATCH": "batch", "BENCH_SEQ_LEN": "seq_len"}


# --------------------------------------------------------------------------- values

def _scalar_list(key: str, v: object, source: str | None) -> list:
    """A sweep's values: a non-empty list of distinct finite scalars (a scalar is wrapped)."""
    items = list(v) if isinstance(v, (list, tuple)) else [v]
    if not items:
        raise ConfigError(key, v, "expected a non-empty list of values", source)
    seen: set = set()
    out = []
    for item in items:
        if isinstance(item, bool) or isinstance(item, str):
            pass
        elif is_int(item):
            item = int(item)
        elif is_real(item):
            if not math.isfinite(float(item)):
                raise ConfigError(key, v, f"values must be finite, got {item!r}", source)
            item = float(item)
        else:
            raise ConfigError(key, v, "values must be scalars (int, float, str, bool), "
                              f"got {type(item).__name__}", source)
        tag = (type(item).__name__, item)  # 1, 1.0 and True are distinct values here
        if tag in seen:
            raise ConfigError(key, v, f"duplicate value {item!r}", source)
        seen.add(tag)
        out.append(item)
    return out


def _sweep(key: str, v: object, source: str | None) -> dict[str, list] | list[dict[str, list]]:
    """One family's sweep: a mapping param -> values, or a non-empty list of such mappings."""
    if isinstance(v, (list, tuple)):
        if not v:
            raise ConfigError(key, v, "expected a mapping or a non-empty list of mappings", source)
        return [_sweep_block(f"{key}[{i}]", block, source) for i, block in enumerate(v)]
    return _sweep_block(key, v, source)


def _sweep_block(key: str, v: object, source: str | None) -> dict[str, list]:
    # `spin:` with nothing under it is a family swept at its defaults.
    params = check_mapping(key, {} if v is None else v, source)
    return {p: _scalar_list(f"{key}.{p}", values, source) for p, values in params.items()}


def sweep_blocks(sweep: dict[str, list] | list[dict[str, list]]) -> list[dict[str, list]]:
    """A family's sweep as a list of cartesian blocks."""
    return list(sweep) if isinstance(sweep, list) else [sweep]


# --------------------------------------------------------------------------- profile

@dataclass
class Profile:
    """A loaded, validated profile plus what overrides and env vars changed in it."""

    name: str
    path: str | None
    harness: HarnessSettings
    devices: list[str]                   # subset of DEVICES
    # case family -> param -> values (cartesian product), or a list of such blocks whose
    # cases are joined (explicit points, e.g. square matmuls: [{m: 512, n: 512, k: 512}, ...])
    sweeps: dict[str, dict[str, list] | list[dict[str, list]]]
    overrides: dict[str, object] = field(default_factory=dict)  # key or env var -> value
    description: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "description": self.description,
            "harness": self.harness.to_dict(),
            "devices": list(self.devices),
            "sweeps": copy.deepcopy(self.sweeps),
            "overrides": copy.deepcopy(self.overrides),
        }


def _build_profile(raw: object, source: str | None, path: str | None,
                   default_name: str) -> Profile:
    """Validate a profile mapping (as read from YAML) into a Profile."""
    if raw is None:
        raise ConfigError("profile", raw, "empty profile; expected a mapping with keys "
                          f"{', '.join(TOP_LEVEL_KEYS)}", source)
    raw = check_mapping("profile", raw, source)
    if "axes" in raw:
        raise ConfigError("axes", raw["axes"], _AXES_REMOVED, source)
    for k in raw:
        if k not in TOP_LEVEL_KEYS:
            raise unknown_error(k, raw[k], "top-level key", TOP_LEVEL_KEYS, source)

    name = raw.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("name", name, "expected a non-empty string", source)
    description = raw.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise ConfigError("description", description, "expected a string", source)

    harness_raw = raw.get("harness")
    harness = HarnessSettings.from_dict({} if harness_raw is None else harness_raw, source)

    devices_raw = raw.get("devices", list(DEVICES))
    devices_list = [devices_raw] if isinstance(devices_raw, str) else devices_raw
    if not isinstance(devices_list, (list, tuple)) or not devices_list:
        raise ConfigError("devices", devices_raw,
                          f"expected a non-empty list drawn from {', '.join(DEVICES)}", source)
    devices: list[str] = []
    for d in devices_list:
        if not isinstance(d, str) or d not in DEVICES:
            raise ConfigError("devices", devices_raw,
                              f"unknown device {d!r}; known: {', '.join(DEVICES)}", source)
        if d in devices:
            raise ConfigError("devices", devices_raw, f"duplicate device {d!r}", source)
        devices.append(d)

    sweeps_raw = raw.get("sweeps")
    sweeps: dict[str, dict[str, list]] = {}
    for family, params in check_mapping("sweeps", {} if sweeps_raw is None else sweeps_raw,
                                   source).items():
        sweeps[family] = _sweep(f"sweeps.{family}", params, source)

    return Profile(name=name, path=path, harness=harness, devices=devices, sweeps=sweeps,
                   overrides={}, description=description)


_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def _check_sweeps(sweeps: Mapping[str, Any], source: str | None) -> None:
    """Every sweep value against its case family's parameter, before anything runs: a known
    family and parameter, the parameter's type, and for integers the int64 range and the
    family's minimum. Needs the native core; a partial install without it skips the check
    (the cases then check their parameters when they are built)."""
    try:
        from .. import _core
    except ImportError:
        return
    families = {f["name"]: f for f in _core.case_families()}
    for family_name, sweep in sweeps.items():
        key = f"sweeps.{family_name}"
        if family_name not in families:
            raise unknown_error(key, sweep, "case family", list(families), source)
        spec = {p["name"]: p for p in families[family_name]["params"]}
        for block in sweep_blocks(sweep):
            for param, values in block.items():
                if param == "device":  # which devices a block runs on: checked with the devices
                    continue
                if param not in spec:
                    raise unknown_error(f"{key}.{param}", values, f"parameter of {family_name}",
                                   [*spec, "device"], source)
                for value in values:
                    _check_param_value(f"{key}.{param}", value, spec[param], source)


def _check_param_value(key: str, value: object, spec: Mapping[str, Any], source: str | None) -> None:
    kind = spec["type"]
    if kind == "int":
        integral = is_int(value) or (is_real(value) and float(value).is_integer())
        if not integral:
            raise ConfigError(key, value, f"expected an integer, got {type(value).__name__}", source)
        if not _INT64_MIN <= int(value) <= _INT64_MAX:  # type: ignore[call-overload]
            raise ConfigError(key, value, "out of the int64 range", source)
        minimum = spec.get("min")
        if minimum is not None and int(value) < minimum:  # type: ignore[call-overload]
            raise ConfigError(key, value, f"expected an integer >= {minimum}", source)
    elif kind == "float" and not is_real(value):
        raise ConfigError(key, value, f"expected a number, got {type(value).__name__}", source)
    elif kind == "str" and not isinstance(value, str):
        raise ConfigError(key, value, f"expected a string, got {type(value).__name__}", source)
    elif kind == "str" and spec.get("choices") and value not in spec["choices"]:
        close = difflib.get_close_matches(value, list(spec["choices"]), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(key, value, f"{hint}expected one of: {', '.join(spec['choices'])}", source)
    elif kind == "bool" and not isinstance(value, bool):
        raise ConfigError(key, value, f"expected true or false, got {type(value).__name__}", source)


def _profile_as_raw(p: Profile) -> dict:
    return {"name": p.name, "description": p.description, "harness": p.harness.to_dict(),
            "devices": list(p.devices), "sweeps": copy.deepcopy(p.sweeps)}


def _apply_override(raw: dict, key: str, value: object) -> None:
    """Set one dotted key in a profile mapping; validation happens afterwards."""
    if not isinstance(key, str) or not key:
        raise ConfigError(str(key), value, "override keys must be non-empty dotted strings",
                          "overrides")
    parts = key.split(".")
    head = parts[0]
    valid = "name, description, devices, harness.<field>, sweeps.<family>, sweeps.<family>.<param>"
    if head == "axes":
        raise ConfigError(key, value, _AXES_REMOVED, "overrides")
    if head in ("name", "description", "devices") and len(parts) == 1:
        raw[head] = value
    elif head == "harness" and len(parts) == 2:
        known = [f.name for f in fields(HarnessSettings)]
        if parts[1] not in known:
            raise unknown_error(key, value, "key", known, "overrides")
        raw["harness"][parts[1]] = value
    elif head == "sweeps" and len(parts) == 2:
        raw["sweeps"][parts[1]] = value
    elif head == "sweeps" and len(parts) == 3:
        family, param = parts[1], parts[2]
        if family not in raw["sweeps"]:
            have = ", ".join(raw["sweeps"]) or "none"
            raise ConfigError(key, value, f"the profile has no sweep family {family!r} "
                              f"(families: {have}; set sweeps.{family} to add one)", "overrides")
        for block in sweep_blocks(raw["sweeps"][family]):
            block[param] = value
    else:
        raise ConfigError(key, value, f"unknown override key; expected one of {valid}", "overrides")


def parse_override(text: str) -> tuple[str, object]:
    """Parse a command-line override "KEY=VALUE"; VALUE is read as YAML ("5", "[64, 128]")."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError("override", text, "expected KEY=VALUE, e.g. harness.min_samples=5")
    try:
        parsed = yaml.load(value, Loader=_Loader) if value.strip() else ""
    except yaml.YAMLError as e:
        raise ConfigError(key, value, f"not a valid YAML value: {e}") from None
    return key, parsed


# --------------------------------------------------------------------------- env vars

_UINT = re.compile(r"\+?[0-9]+")


def _env_int(var: str, text: str, minimum: int) -> int:
    s = text.strip()
    what = "a positive integer" if minimum >= 1 else f"an integer >= {minimum}"
    if not _UINT.fullmatch(s) or int(s) < minimum:
        raise ConfigError(var, text, f"expected {what}")
    return int(s)


def _env_seconds(var: str, text: str) -> float:
    try:
        x = float(text.strip())
    except ValueError:
        raise ConfigError(var, text, "expected a number of seconds >= 0") from None
    if not math.isfinite(x) or x < 0:
        raise ConfigError(var, text, "expected a finite number of seconds >= 0")
    return x


def _env_bool(var: str, text: str) -> bool:
    s = text.strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise ConfigError(var, text, "expected 1 or 0 (true/false, yes/no, on/off)")


def _env_int_list(var: str, text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",")]
    out: list[int] = []
    for p in parts:
        if not _UINT.fullmatch(p) or int(p) < 1:
            raise ConfigError(var, text, "expected a comma-separated list of positive integers, "
                              "e.g. '1,8,32'")
        if int(p) in out:
            raise ConfigError(var, text, f"duplicate value {p}")
        out.append(int(p))
    return out


def _apply_env(profile: Profile, env: Mapping[str, str]) -> None:
    h = profile.harness
    changes: dict[str, object] = {}
    for var in ENV_VARS:
        text = env.get(var)
        if text is None or not str(text).strip():
            continue  # unset and empty are the same: no override
        text = str(text)
        if var == "BENCH_ITERS":
            n = _env_int(var, text, 1)
            changes["min_samples"] = n
            changes["max_samples"] = max(changes.get("max_samples", h.max_samples), n)
            profile.overrides[var] = n
        elif var == "BENCH_TIME":
            changes["min_time"] = profile.overrides[var] = _env_seconds(var, text)
        elif var == "BENCH_WARMUP":
            changes["warmup"] = profile.overrides[var] = _env_int(var, text, 0)
        elif var == "BENCH_ENERGY":
            changes["energy"] = profile.overrides[var] = _env_bool(var, text)
        else:  # BENCH_BATCH, BENCH_SEQ_LEN: every sweep parameter of that name
            param = _ENV_SWEEP_PARAMS[var]
            values = _env_int_list(var, text)
            for sweep in profile.sweeps.values():
                for params in sweep_blocks(sweep):
                    if param in params:
                        params[param] = list(values)
            profile.overrides[var] = values
    if changes:
        profile.harness = h.replace(**changes)


# --------------------------------------------------------------------------- files

class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and reads 1e-4 as a float (YAML 1.2 style)."""


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(key, line)
        self.key = key
        self.line = line


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict:
    loader.flatten_mapping(node)
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            dup = key in seen
            seen.add(key)
        except TypeError:  # unhashable key: let the base constructor report it
            break
        if dup:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# YAML 1.1 needs a dot in a float, so PyYAML reads `1e-4` as a string; accept it as a number.
_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
                              list("-+0123456789"))


def _read_yaml(path: Path) -> object:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("profile", source, f"cannot read: {e}") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except _DuplicateKey as e:
        raise ConfigError(str(e.key), None, f"duplicate key (line {e.line})", source) from None
    except yaml.YAMLError as e:
        raise ConfigError("yaml", None, f"not valid YAML: {e}", source) from None
    except (ValueError, RecursionError) as e:  # an integer past Python's digit limit, nesting too deep
        raise ConfigError("yaml", None, f"not a usable profile: {type(e).__name__}: {str(e)[:120]}",
                          source) from None


def _bundled_dir() -> Path | None:
    """The configs/ copy installed inside the package (CMake puts the repo's there)."""
    try:
        import importlib.resources as resources

        root = resources.files("benchsuite")
        if isinstance(root, Path):
            return root / "configs"
    except Exception:  # package not importable as a whole (e.g. no _core yet)
        pass
    return Path(__file__).resolve().parents[1] / "configs"


def profile_dirs() -> list[Path]:
    """Where profiles (and targets.yaml, energy/ models) are looked up, first match wins:
    ./configs, the bundled copy, then a source checkout's configs/."""
    dirs = [Path.cwd() / "configs"]
    bundled = _bundled_dir()
    if bundled is not None:
        dirs.append(bundled)
    # Running from a source checkout (PYTHONPATH=python, editable install): repo configs/.
    repo = Path(__file__).resolve().parents[3]
    if (repo / "pyproject.toml").is_file():
        dirs.append(repo / "configs")
    return dirs


def available_profiles() -> list[str]:
    """Names find_profile() resolves: ./configs/*.yaml, then the bundled profiles."""
    names: set[str] = set()
    for d in profile_dirs():
        if d.is_dir():
            for p in d.iterdir():
                if p.suffix in (".yaml", ".yml") and p.is_file():
                    names.add(p.stem)
    names.discard("targets")  # configs/targets.yaml holds the targets, not a profile
    return sorted(names)


def find_profile(name_or_path: str | os.PathLike) -> Path:
    """Resolve a profile name or a path to a .yaml/.yml file."""
    text = os.fspath(name_or_path)
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("profile", name_or_path, "expected a profile name or a .yaml path")
    path = Path(text).expanduser()
    looks_like_path = path.suffix in (".yaml", ".yml") or "/" in text or os.sep in text
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        return path.resolve()
    if looks_like_path:
        if path.is_file():
            raise ConfigError("profile", text, "expected a .yaml or .yml file")
        raise ConfigError("profile", text, "file not found; available profiles: "
                          f"{', '.join(available_profiles()) or 'none'}")
    for d in profile_dirs():
        for ext in (".yaml", ".yml"):
            candidate = d / f"{text}{ext}"
            if candidate.is_file():
                return candidate.resolve()
    raise ConfigError("profile", text,
                      f"not found; available: {', '.join(available_profiles()) or 'none'}")


def load_profile(name_or_path: str | os.PathLike | None = "default",
                 env: Mapping[str, str] | None = None,
                 overrides: Mapping[str, object] | None = None) -> Profile:
    """Load a profile, apply `overrides` (dotted keys), then BENCH_* env vars (which win).

    Profile.overrides records each explicit override by key and each env var by name,
    with the parsed value.
    """
    path = find_profile("default" if name_or_path is None else name_or_path)
    profile = _build_profile(_read_yaml(path), str(path), str(path), path.stem)
    _check_sweeps(profile.sweeps, str(path))

    if overrides:
        if not isinstance(overrides, Mapping):
            raise ConfigError("overrides", overrides, "expected a mapping of dotted keys to values")
        raw = _profile_as_raw(profile)
        for key, value in overrides.items():
            _apply_override(raw, key, value)
        profile = _build_profile(raw, "overrides", str(path), path.stem)
        _check_sweeps(profile.sweeps, "overrides")
        for key, value in overrides.items():
            profile.overrides[key] = _lookup(profile, key)

    _apply_env(profile, os.environ if env is None else env)
    return profile


def _lookup(profile: Profile, key: str) -> object:
    """The validated value now at a dotted key (what an override turned into)."""
    node: object = _profile_as_raw(profile)
    for part in key.split("."):
        if isinstance(node, list):  # a sweep of several blocks: the value in each block
            return [copy.deepcopy(block[part]) for block in node]
        node = node[part]  # type: ignore[index]
    return copy.deepcopy(node)
