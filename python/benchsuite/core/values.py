"""Value checks shared by harness settings and profiles: each raises ConfigError naming key and value."""
from __future__ import annotations

import difflib
import numbers
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError

__all__ = ["is_int", "is_real", "unknown_error", "check_mapping"]


def is_int(v: object) -> bool:
    # bool is an int subclass in Python, but `min_samples: true` is a typo, not 1.
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_real(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def unknown_error(key: str, value: object, what: str, known: Any, source: str | None) -> ConfigError:
    """`unknown <what>` naming the closest known name (a typo is the usual cause) and all of them."""
    name = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ConfigError(key, value, f"unknown {what}; {hint}known: {', '.join(known)}", source)


def check_mapping(key: str, v: object, source: str | None) -> Mapping:
    if not isinstance(v, Mapping):
        raise ConfigError(key, v, f"expected a mapping, got {type(v).__name__}", source)
    for k in v:
        if not isinstance(k, str):
            raise ConfigError(f"{key}.{k}", v[k], f"keys must be strings, got {type(k).__name__}",
                              source)
    return v
