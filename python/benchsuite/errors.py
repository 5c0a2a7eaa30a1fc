"""The Python side of benchsuite's one error family.

The native core throws benchsuite::Error and its kinds; the bindings translate each
into the matching class here, so callers can catch either the family or the kind.
"""
from __future__ import annotations

__all__ = [
    "BenchsuiteError",
    "InvalidArgumentError",
    "UnsupportedError",
    "CudaUnavailableError",
    "CudaError",
    "ConfigError",
    "ResultsFileError",
    "EnvironmentMismatchError",
    "HistoryError",
]


class BenchsuiteError(RuntimeError):
    """Base of every error benchsuite raises on purpose."""


class InvalidArgumentError(BenchsuiteError, ValueError):
    """An argument has a bad value, dtype, shape or device; the message names it."""


class UnsupportedError(BenchsuiteError, NotImplementedError):
    """A valid request this build or machine cannot serve (dtype, device, version).

    ``reason`` is a machine-readable code (``unsupported_dtype``, ``no_cuda``, ...)
    that benchmark records use as their skip reason.
    """

    def __init__(self, message: str, reason: str = "unsupported") -> None:
        super().__init__(message)
        self.reason = reason


class CudaUnavailableError(UnsupportedError):
    """CUDA was asked for but is not usable here (not built, no driver, no device)."""

    def __init__(self, message: str, reason: str = "no_cuda") -> None:
        super().__init__(message, reason)


class CudaError(BenchsuiteError):
    """A CUDA runtime or cuBLAS call failed."""


class ConfigError(BenchsuiteError, ValueError):
    """A profile, override or environment variable is wrong: names key and value."""

    def __init__(self, key: str, value: object, why: str, source: str | None = None) -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}={value!r}: {why}")
        self.key = key
        self.value = value
        self.why = why
        self.source = source


class ResultsFileError(BenchsuiteError, ValueError):
    """A results file is missing, unreadable or does not match the schema."""

    def __init__(self, path: str, field: str | None, message: str) -> None:
        where = f"{path}" + (f": field {field}" if field else "")
        super().__init__(f"{where}: {message}")
        self.path = path
        self.field = field


class EnvironmentMismatchError(BenchsuiteError):
    """Two runs come from machines or builds that should not be compared; names the fields."""


class HistoryError(BenchsuiteError):
    """The history database cannot be opened or is not benchsuite's."""
