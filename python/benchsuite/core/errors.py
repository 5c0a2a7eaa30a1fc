"""The Python side of benchsuite's one error family.

The native core throws benchsuite::Error and its kinds; the bindings translate each
into the matching class here, so callers can catch either the family or the kind.
"""
from __future__ import annotations

import os

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
    "MeasurementInterrupted",
    "OutputError",
    "RunWriteError",
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

    _MAX_VALUE = 80  # a whole mapping in a one-line error hides the reason: cut it

    def __init__(self, key: str, value: object, why: str, source: str | None = None) -> None:
        where = f"{source}: " if source else ""
        shown = repr(value)
        if len(shown) > self._MAX_VALUE:
            shown = shown[: self._MAX_VALUE - 3] + "..."
        super().__init__(f"{where}{key}={shown}: {why}")
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


class OutputError(BenchsuiteError):
    """A file or folder benchsuite has to write (or open) cannot be used: one line naming the
    path and the operating system's reason, e.g. ``out/run.json: cannot write results file:
    No space left on device``.

    ``exit_status`` is 2 when the problem is found before anything was measured (a usage or
    input error) and 1 when it stops a run part-way; ``errno`` is the OS error number (or None).
    """

    def __init__(self, path: str | os.PathLike | None, reason: str, what: str = "",
                 errno: int | None = None, exit_status: int = 2) -> None:
        self.path = None if path is None else os.fspath(path)
        self.reason = reason
        self.what = what
        self.errno = errno
        self.exit_status = exit_status
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{'cannot write ' + self.what + ': ' if self.what else ''}{self.reason}"

    @classmethod
    def from_os(cls, exc: OSError, path: str | os.PathLike | None = None, what: str = "",
                exit_status: int = 2) -> "OutputError":
        """The one-line form of an OSError: `path` (default: the error's own file name) and
        ``os.strerror(errno)``, the same words whatever the call that failed."""
        number = exc.errno if isinstance(exc.errno, int) else None
        reason = os.strerror(number) if number is not None else (exc.strerror or str(exc) or type(exc).__name__)
        if path is None:
            path = exc.filename
        return cls(path, reason, what, number, exit_status)


class RunWriteError(OutputError):
    """The results file stopped being writable part-way through a run (full disk, removed
    folder): measuring stopped; the file keeps the cases written before, listed in
    ``written``, and ``not_written`` names the cases that are in no file."""

    def __init__(self, error: OutputError, written: int, not_written: list[str]) -> None:
        self.written = written
        self.not_written = list(not_written)
        super().__init__(error.path, error.reason, error.what, error.errno, exit_status=1)

    def _text(self) -> str:
        return (f"{super()._text()}; measuring stopped: the file keeps the {self.written} case(s) written before, "
                f"{len(self.not_written)} case(s) were not written")


class MeasurementInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a measurement between samples. A KeyboardInterrupt, so a notebook or
    script stops as usual; ``result`` is the case's record (status ``interrupted``) with the
    samples taken before the signal, for a caller that keeps it (the sweep runner does)."""

    def __init__(self, result: object) -> None:
        super().__init__(f"interrupted while measuring {getattr(result, 'name', result)}")
        self.result = result
