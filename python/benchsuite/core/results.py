"""Run documents: the versioned JSON schema, validation, loading and the incremental writer.

A run file is rewritten atomically (temp file + fsync + rename) after every record, so
an interrupted run still leaves a valid document holding every case it finished.
Pure Python: nothing here imports the native core.
"""
from __future__ import annotations

import copy
import errno
import functools
import importlib.resources
import json
import math
import os
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from .errors import BenchsuiteError, InvalidArgumentError, OutputError, ResultsFileError

__all__ = [
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "RUN_STATUSES",
    "RECORD_STATUSES",
    "load_schema",
    "validate_run",
    "validate_record",
    "new_run_id",
    "utc_now_iso",
    "new_run",
    "RunWriter",
    "RunResults",
    "load_results",
    "write_json_atomic",
    "write_text_atomic",
    "check_writable_dir",
    "check_output_file",
    "existing_results",
]

SCHEMA_VERSION = "1.3"
# 1.1 added optional fields only (fingerprint_id, warnings, energy, clocks, memory): 1.0 files load.
# 1.2 added the record status "interrupted"; 1.3 the optional record phases, config and
# metrics.reported: older files load.
SUPPORTED_SCHEMA_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2", "1.3")
RUN_STATUSES: tuple[str, ...] = ("running", "complete", "interrupted", "failed")
RECORD_STATUSES: tuple[str, ...] = ("ok", "skipped", "failed", "invalid", "interrupted")

_SCHEMA_RESOURCE = ("benchsuite.core", "schema/results.schema.json")
_MAX_MESSAGE = 240  # jsonschema puts whole instances in messages; keep them readable


# --------------------------------------------------------------------------- schema

@functools.lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    package, name = _SCHEMA_RESOURCE
    text = importlib.resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def load_schema() -> dict[str, Any]:
    """The results JSON Schema (Draft 2020-12) shipped with the package, as a fresh dict."""
    return copy.deepcopy(_schema())


@functools.lru_cache(maxsize=1)
def _run_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_schema())


@functools.lru_cache(maxsize=1)
def _record_validator() -> jsonschema.Draft202012Validator:
    # The record definition on its own, with the shared $defs its $refs point into.
    root = _schema()
    wrapper = {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": "#/$defs/benchmark"}
    return jsonschema.Draft202012Validator(wrapper)


def _field_path(prefix: list[str | int], error: ValidationError) -> str:
    parts: list[str | int] = [*prefix, *error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [k for k in error.validator_value if k not in error.instance]
        if missing:
            parts.append(missing[0])
    return _format_path(parts)


def _format_path(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _shorten(text: str, limit: int = _MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _message(error: ValidationError, root_instance: Any, root_schema: Mapping) -> str:
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [k for k in error.validator_value if k not in error.instance]
        msg = f"missing required field {missing[0]!r}" if missing else error.message
    elif error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        msg = f"{_shorten(repr(error.instance), 80)} is not of type {expected}"
    else:
        msg = _shorten(error.message)
    return msg + _condition_note(error, root_instance, root_schema)


_DESCENDING = {"properties", "patternProperties", "additionalProperties", "items", "prefixItems"}


def _condition_note(error: ValidationError, root_instance: Any, root_schema: Mapping) -> str:
    """For rules inside if/then (e.g. stats required when status is ok), say which
    value of which field made the rule apply."""
    schema_path = list(error.absolute_schema_path)
    if "then" not in schema_path:
        return ""
    cut = len(schema_path) - 1 - schema_path[::-1].index("then")
    try:
        node: Any = root_schema
        for key in [*schema_path[:cut], "if"]:
            # Some jsonschema versions list "$ref" in the path, others step through it.
            while isinstance(node, Mapping) and key not in node and "$ref" in node:
                node = _resolve_local_ref(root_schema, node["$ref"])
            node = _resolve_local_ref(root_schema, node["$ref"]) if key == "$ref" else node[key]
        condition = node.get("properties", {})
    except (KeyError, IndexError, TypeError):
        return ""
    # The if/then applies to the instance the error's path reaches before the keywords
    # after "then" descended into it.
    depth = sum(1 for key in schema_path[cut + 1:] if key in _DESCENDING)
    instance_path = list(error.absolute_path)
    instance: Any = root_instance
    for key in instance_path[: len(instance_path) - depth]:
        try:
            instance = instance[key]
        except (KeyError, IndexError, TypeError):
            return ""
    if not isinstance(instance, Mapping):
        return ""
    parts = [f"{key} is {_show(instance[key])}" for key in condition if key in instance]
    return f" (required when {' and '.join(parts)})" if parts else ""


def _show(value: Any) -> str:
    # Strings as Python shows them ('ok'), everything else as JSON spells it (false, null).
    if isinstance(value, str):
        return repr(value)
    try:
        return _shorten(json.dumps(value), 40)
    except (TypeError, ValueError):
        return _shorten(repr(value), 40)


def _resolve_local_ref(root_schema: Mapping, ref: str) -> Any:
    if not ref.startswith("#/"):
        raise KeyError(ref)
    node: Any = root_schema
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _check_finite(obj: Any, prefix: list[str | int], source: str) -> None:
    """JSON has no NaN/Infinity: a file holding them is not portable, so refuse them."""
    stack: list[tuple[Any, list[str | int]]] = [(obj, prefix)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise ResultsFileError(
                source,
                _format_path(path) or None,
                f"non-finite number {node!r} is not allowed in a results file "
                "(JSON has no NaN/Infinity; use null where the field allows it)",
            )
        if isinstance(node, Mapping):
            stack.extend((v, [*path, str(k)]) for k, v in reversed(list(node.items())))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, [*path, i]) for i, v in reversed(list(enumerate(node))))


def _check_version(doc: Any, source: str) -> None:
    if not isinstance(doc, Mapping):
        raise ResultsFileError(
            source, None,
            f"top level is a JSON {_json_type(doc)}, expected an object (a benchsuite run document)",
        )
    if "schema_version" not in doc:
        raise ResultsFileError(
            source, "schema_version",
            "missing schema_version: not a benchsuite run document "
            f"(this benchsuite reads schema_version {', '.join(SUPPORTED_SCHEMA_VERSIONS)})",
        )
    version = doc["schema_version"]
    if not isinstance(version, str):
        raise ResultsFileError(
            source, "schema_version",
            f"schema_version must be a string such as '{SCHEMA_VERSION}', "
            f"got {_shorten(repr(version), 40)}",
        )
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ResultsFileError(
            source, "schema_version",
            f"schema_version {_shorten(repr(version), 40)} is not supported by this benchsuite "
            f"(supports {', '.join(SUPPORTED_SCHEMA_VERSIONS)})",
        )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def validate_run(doc: dict, source: str = "<memory>") -> None:
    """Check a whole run document against the schema.

    Raises ResultsFileError(source, field, message) for the most relevant problem;
    ``field`` is a readable path such as ``benchmarks[3].stats.median``.
    """
    _check_version(doc, source)
    try:
        error = best_match(_run_validator().iter_errors(doc))
        if error is not None:
            where, message = _field_path([], error) or None, _message(error, doc, _run_validator().schema)
    except RecursionError:  # jsonschema (and repr) recurse: a nest near the limit is no run document
        raise ResultsFileError(source, None, "document nested too deeply: not a run document") from None
    if error is not None:
        raise ResultsFileError(source, where, message)
    _check_finite(doc, [], source)


def validate_record(record: Mapping, index: int = 0, source: str = "<memory>") -> None:
    """Check one benchmark record; errors name ``benchmarks[index].<field>``."""
    prefix: list[str | int] = ["benchmarks", index]
    try:
        error = best_match(_record_validator().iter_errors(record))
        if error is not None:
            where, message = _field_path(prefix, error), _message(error, record, _record_validator().schema)
    except RecursionError:
        raise ResultsFileError(source, f"benchmarks[{index}]", "record nested too deeply") from None
    if error is not None:
        raise ResultsFileError(source, where, message)
    _check_finite(record, prefix, source)


# --------------------------------------------------------------------------- documents

def utc_now_iso() -> str:
    """Now, as ISO-8601 UTC with a Z suffix, to the second: ``2026-11-23T05:00:00Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<6 hex>``: sorts by start time, unique across parallel runs."""
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)  # naive datetimes are taken as UTC
    else:
        now = now.astimezone(timezone.utc)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def new_run(suite: str, environment: dict, config: dict, run_id: str | None = None) -> dict:
    """A fresh run document: status ``running``, no benchmarks yet."""
    started = datetime.now(timezone.utc)
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id if run_id is not None else new_run_id(started),
        "suite": suite,
        "timestamp_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_utc": None,
        "status": "running",
        "environment": environment,
        "config": config,
        "benchmarks": [],
    }


# --------------------------------------------------------------------------- writing

def _ensure_dir(folder: Path) -> None:
    """Create `folder` and its parents; a file in the way is ENOTDIR naming that path."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:   # exist_ok only forgives folders: something else is there
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from exc


def _replace_atomically(target: Path, data: bytes, exclusive: bool = False) -> None:
    """Temp file beside `target` + fsync + rename; raises the plain OSError. `exclusive`:
    create `target`, failing with FileExistsError if anything is there (hard link, atomic)."""
    _ensure_dir(target.parent)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide permissions, like a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if not exclusive:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)              # never replaces: EEXIST if the name is taken
            except FileExistsError:
                raise
            except OSError:                       # no hard links here (some FUSE, FAT): reserve the name
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                os.replace(tmp, target)
            else:
                os.unlink(tmp)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # Make the rename itself durable where the platform allows syncing a directory.
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _write_bytes_atomic(path: str | os.PathLike, data: bytes, what: str = "file", exclusive: bool = False) -> None:
    target = Path(path)
    try:
        _replace_atomically(target, data, exclusive)
    except OSError as exc:
        # Name the file the user asked for, not our temp file (but the folder, when it failed).
        named: Any = target
        if exc.filename is not None:
            base = os.path.basename(os.fspath(exc.filename))
            if not (base.startswith(f".{target.name}.") and base.endswith(".tmp")):
                named = exc.filename
        raise OutputError.from_os(exc, named, what) from None


def write_json_atomic(path: str | os.PathLike, obj: Any, *, what: str = "file", exclusive: bool = False) -> None:
    """Write ``obj`` as strict JSON (no NaN) via temp file + fsync + os.replace.

    A file system error is an OutputError naming the path (`what` says what the file is);
    `exclusive` refuses (errno EEXIST) to replace a file that is already there."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    _write_bytes_atomic(path, text.encode("utf-8"), what, exclusive)


def write_text_atomic(path: str | os.PathLike, text: str, *, what: str = "file") -> None:
    """Write UTF-8 text the same atomic way (used for Markdown summaries)."""
    _write_bytes_atomic(path, text.encode("utf-8"), what)


def check_writable_dir(folder: str | os.PathLike, what: str = "files") -> Path:
    """Create `folder` if needed and prove a file can be written in it (a small temp file,
    written, synced and removed), so a read-only, full or misnamed folder is found before
    anything is measured. Raises OutputError naming the folder and the OS reason."""
    target = Path(folder)
    probe = target / f".benchsuite-write-test.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    created = []                      # folders made for the test, removed after it: no trace left
    missing = target
    while not os.path.lexists(missing) and missing != missing.parent:
        created.append(missing)
        missing = missing.parent
    try:
        _ensure_dir(target)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(fd, b"\0" * 4096)     # a full disk refuses data, not always the empty file
            os.fsync(fd)
        finally:
            os.close(fd)
            try:
                os.unlink(probe)
            except FileNotFoundError:
                pass
    except OSError as exc:
        named = exc.filename if exc.filename is not None and os.fspath(exc.filename) != str(probe) else target
        raise OutputError.from_os(exc, named, what) from None
    finally:
        for folder in created:
            try:
                folder.rmdir()
            except OSError:
                break
    return target


def check_output_file(path: str | os.PathLike, what: str = "file") -> Path:
    """Check before the work that `path` can be written: not a folder, its folder writable.
    An existing file is not refused here (see existing_results)."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(target, os.strerror(errno.EISDIR), what, errno.EISDIR)
    check_writable_dir(target.parent if str(target.parent) else Path("."), what)
    return target


def existing_results(path: str | os.PathLike) -> str | None:
    """What is already at `path`, in words (a run's id, status and size, or "a file that is not
    a benchsuite results file"), or None when nothing is there."""
    p = Path(path)
    if not os.path.lexists(p):
        return None
    if p.is_dir():
        return "a folder"
    try:
        doc = json.loads(p.read_bytes().decode("utf-8-sig"))
        return (f"the results of run {doc['run_id']} ({doc['status']}, {len(doc['benchmarks'])} cases)")
    except Exception:
        return "a file that is not a benchsuite results file"


class RunWriter:
    """Writes a run document atomically after every change: temp file in the same folder,
    flush+fsync, os.replace; an interrupted run keeps every finished case (file stays
    valid, status 'running').

    As a context manager it finishes the run: ``complete`` on a normal exit,
    ``interrupted`` on KeyboardInterrupt, ``failed`` on any other exception (re-raised).

    ``exclusive=True``: the file is this run's alone. It is created new (an OutputError with
    errno EEXIST if anything is at the path, so another run's results are never replaced,
    unless ``replace_existing``), and a later rewrite is refused if another process has put a
    different file there meanwhile. File system errors are OutputErrors naming the path and
    the OS reason.
    """

    def __init__(self, path: str | os.PathLike, run: dict, *, exclusive: bool = False,
                 replace_existing: bool = False) -> None:
        self.path = Path(path)
        self.run = run
        self.exclusive = exclusive
        self.replace_existing = replace_existing
        self._lock = threading.Lock()
        self._written = False
        self._identity: tuple[int, int] | None = None   # (st_dev, st_ino) of the file we last wrote
        validate_run(run, source=str(self.path))
        with self._lock:
            self._write()

    def _stat_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _write(self) -> None:
        first = not self._written
        if self.exclusive and not first and self._identity is not None:
            now = self._stat_identity()
            if now is not None and now != self._identity:
                there = existing_results(self.path)
                raise OutputError(self.path, f"another process replaced this run's file with {there}; "
                                  "not overwriting it", "results file", errno.EEXIST)
        try:
            write_json_atomic(self.path, self.run, what="results file",
                              exclusive=self.exclusive and first and not self.replace_existing)
        except OutputError as exc:
            if exc.errno == errno.EEXIST and first:
                raise OutputError(self.path, f"already holds {existing_results(self.path)}; not overwriting "
                                  "another run's results", "results file", errno.EEXIST) from None
            raise
        self._written = True
        self._identity = self._stat_identity()

    def add(self, record: Mapping | Any) -> None:
        """Validate one benchmark record, append it, rewrite the file.

        A bad record raises ResultsFileError naming ``benchmarks[i].<field>`` and is not
        written. Objects with ``to_dict()`` (harness results) are converted first.
        """
        if not isinstance(record, Mapping) and callable(getattr(record, "to_dict", None)):
            record = record.to_dict()
        record = copy.deepcopy(dict(record)) if isinstance(record, Mapping) else record
        with self._lock:
            if self.run["status"] != "running":
                raise BenchsuiteError(
                    f"{self.path}: run {self.run.get('run_id')} is already {self.run['status']}; "
                    "cannot add more records"
                )
            benchmarks = self.run["benchmarks"]
            index = len(benchmarks)
            if not isinstance(record, Mapping):
                raise ResultsFileError(
                    str(self.path), f"benchmarks[{index}]",
                    f"a record must be a JSON object, got {type(record).__name__}",
                )
            validate_record(record, index, source=str(self.path))
            benchmarks.append(record)
            try:
                self._write()
            except BaseException:
                benchmarks.pop()  # keep memory in step with the file on disk
                raise

    def finish(self, status: str = "complete") -> None:
        """Set the final status (complete | interrupted | failed) and finished_utc."""
        if status not in RUN_STATUSES or status == "running":
            raise InvalidArgumentError(
                f"finish(status={status!r}): expected one of complete, interrupted, failed"
            )
        with self._lock:
            self.run["status"] = status
            self.run["finished_utc"] = utc_now_iso()
            self._write()

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self.run.get("status") != "running":
            return False  # finished explicitly inside the block
        if exc_type is None:
            self.finish("complete")
            return False
        status = "interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed"
        try:
            self.finish(status)
        except Exception:
            pass  # never hide the original exception; the file stays valid as 'running'
        return False


# --------------------------------------------------------------------------- reading

@dataclass
class RunResults:
    """A validated run document and where it came from."""

    path: str | None
    doc: dict

    @property
    def run_id(self) -> str:
        return self.doc["run_id"]

    @property
    def suite(self) -> str:
        return self.doc["suite"]

    @property
    def status(self) -> str:
        return self.doc["status"]

    @property
    def environment(self) -> dict:
        return self.doc["environment"]

    @property
    def config(self) -> dict:
        return self.doc["config"]

    @property
    def benchmarks(self) -> list[dict]:
        return self.doc["benchmarks"]

    def by_status(self) -> dict[str, int]:
        """Record counts for every status (zeros included), in ok/skipped/failed/invalid order."""
        counts = dict.fromkeys(RECORD_STATUSES, 0)
        for record in self.benchmarks:
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        return counts

    def __len__(self) -> int:
        return len(self.benchmarks)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.benchmarks)


def load_results(path: str | os.PathLike) -> RunResults:
    """Read and validate a run file; every problem is a ResultsFileError naming the file."""
    p = Path(path)
    source = str(p)
    if not p.exists():
        raise ResultsFileError(source, None, "no such results file")
    if p.is_dir():
        raise ResultsFileError(source, None, "is a directory, not a results file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ResultsFileError(source, None, f"cannot read: {e.strerror or e}") from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ResultsFileError(
            source, None, f"not UTF-8 text (byte {e.start}): truncated or not JSON"
        ) from e
    if not text.strip():
        raise ResultsFileError(source, None, "file is empty: truncated or not JSON")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsFileError(
            source, None,
            f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg} (truncated or not JSON)",
        ) from e
    except RecursionError as e:
        raise ResultsFileError(source, None, "JSON nested too deeply: not a results file") from e
    except ValueError as e:  # e.g. an integer past Python's digit limit for int()
        raise ResultsFileError(source, None, f"invalid JSON: {e} (truncated or not JSON)") from e
    validate_run(doc, source=source)
    return RunResults(path=source, doc=doc)
