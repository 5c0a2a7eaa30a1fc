"""Harness settings: how each case is measured (the `harness:` section of a profile).

The settings are defined once, in the native core (csrc/harness/settings.h): their names,
types, defaults and rules come from `_core.harness_settings_fields()`. HarnessSettings is
a dataclass built from that table, and checks the table's rules in this module's words
(ConfigError naming key and value), so a profile error reads like every other.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .. import _core
from .errors import ConfigError
from .values import check_mapping, is_int, is_real, unknown_error

__all__ = ["HarnessSettings", "MODES"]

# One dict a setting, in the table's order: name, type (int | float | bool | str), default,
# nullable, min, min_open, min_closed_when, max, max_open, not_below, none_means, choices,
# unit, help.
_FIELDS: tuple[dict[str, Any], ...] = tuple(_core.harness_settings_fields())
MODES = tuple(next(f for f in _FIELDS if f["name"] == "mode")["choices"])


def _number(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _kind(v: object) -> str:
    return "a boolean" if isinstance(v, bool) else type(v).__name__


def _choices(names: list[str]) -> str:
    return " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)


def _check(row: Mapping[str, Any], v: object, settings: object, source: str | None) -> object:
    """The value checked against its row of the table, normalized (an int float setting
    becomes a float); ConfigError naming harness.<name> and the value otherwise."""
    key = f"harness.{row['name']}"
    kind = row["type"]
    if v is None and row["nullable"]:
        return None
    if kind == "bool":
        if not isinstance(v, bool):
            raise ConfigError(key, v, "expected true or false", source)
        return v
    if kind == "str":
        choices = row["choices"]
        if choices is None:
            if not isinstance(v, str):
                raise ConfigError(key, v, f"expected a string, got {_kind(v)}", source)
        elif not isinstance(v, str) or v not in choices:
            raise ConfigError(key, v, f"expected {_choices(choices)}", source)
        return v
    minimum, maximum = row["min"], row["max"]
    closed_when = row["min_closed_when"]
    min_open = row["min_open"] and not (closed_when and getattr(settings, closed_when) is True)
    max_open = maximum is not None and row["max_open"]
    lower = f"{'>' if min_open else '>='} {_number(minimum)}"
    # An open upper bound is part of the rule from the start; a closed one is said only
    # when it is crossed.
    rule = lower + (f" and < {_number(maximum)}" if max_open else "")
    what = "an integer" if kind == "int" else "a number"
    if not (is_int(v) if kind == "int" else is_real(v)):
        raise ConfigError(key, v, f"expected {what} {rule}, got {_kind(v)}", source)
    if kind == "int":
        x = int(v)
        if not -2**63 <= x < 2**63:  # the core holds int64
            raise ConfigError(key, v, f"expected {what} {rule}, out of the int64 range", source)
    else:
        try:
            x = float(v)
        except OverflowError:  # an integer past the float range
            raise ConfigError(key, v, f"expected a finite number {rule}", source) from None
        if not math.isfinite(x):
            raise ConfigError(key, v, f"expected a finite number {rule}", source)
    if (x <= minimum if min_open else x < minimum) or (max_open and x >= maximum):
        raise ConfigError(key, v, f"expected {what} {rule}", source)
    if maximum is not None and not max_open and x > maximum:
        raise ConfigError(key, x, f"expected {what} {lower} and <= {_number(maximum)}", source)
    other = row["not_below"]
    limit = None if other is None else getattr(settings, other)
    if limit is not None and x < limit:
        raise ConfigError(key, x, f"must be >= harness.{other} ({limit})", source)
    return x


def _with_core_fields(cls: type) -> type:
    """Declares the core's settings on cls (names, types, defaults, in the table's order;
    help and unit as field metadata) and makes it a dataclass."""
    annotations = {}
    lines = []
    for f in _FIELDS:
        annotations[f["name"]] = f["type"] + (" | None" if f["nullable"] else "")
        metadata = {"help": f["help"], "unit": f["unit"]}
        setattr(cls, f["name"], field(default=f["default"], metadata=metadata))
        unit = f" [{f['unit']}]" if f["unit"] else ""
        lines.append(f"    {f['name']} = {f['default']!r}{unit}: {f['help']}")
    cls.__annotations__ = annotations
    cls.__doc__ = f"{cls.__doc__}\n\n    Fields:\n" + "\n".join(lines) + "\n"
    return dataclass(cls)


@_with_core_fields
class HarnessSettings:
    """How each case is measured; the native harness' settings (csrc/harness/settings.h)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, source: str | None = None) -> "HarnessSettings":
        """Check every field (raising ConfigError naming key and value); return self.

        Numbers are normalized in place (an int timeout becomes a float) so that
        to_dict() is stable.
        """
        # The flags first: other rules read them (min_sample_time may be 0 only when smoke).
        for f in sorted(_FIELDS, key=lambda f: f["type"] != "bool"):
            setattr(self, f["name"], _check(f, getattr(self, f["name"]), self, source))
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping, source: str | None = None) -> "HarnessSettings":
        d = check_mapping("harness", d, source)
        known = [f.name for f in fields(cls)]
        for k in d:
            if k not in known:
                raise unknown_error(f"harness.{k}", d[k], "key", known, source)
        try:
            return cls(**d)
        except ConfigError as e:
            if e.source is not None or source is None:
                raise
            raise ConfigError(e.key, e.value, e.why, source) from None

    @classmethod
    def smoke_settings(cls) -> "HarnessSettings":
        """One short, checked sample per case: does everything run, not how fast."""
        return cls(warmup=0, min_samples=1, max_samples=1, min_time=0.0, max_noise=None,
                   timeout=30.0, launches_per_sample=1, min_sample_time=0.0, check=True,
                   smoke=True)

    def replace(self, **changes: Any) -> "HarnessSettings":
        """A validated copy with `changes` applied (unknown names are ConfigError)."""
        return type(self).from_dict({**self.to_dict(), **changes})
