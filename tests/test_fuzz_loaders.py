"""Property tests (hypothesis) over the loaders, fed mutated real files: a results file written
by `benchsuite run`, the profiles in configs/, a pytest-benchmark JSON file written by
pytest-benchmark itself, and the history's `add`.

Mutations work on the parsed document (delete a key or an item, change a value's type, swap
a number for a string / NaN / inf / a huge or negative number, nest deeply, rename a key) and
on the text (truncate, flip or insert bytes, random bytes, a deep bracket nest, a BOM). Each
loader must either succeed or raise a benchsuite error (a BenchsuiteError subclass:
ResultsFileError, ConfigError, HistoryError, ...) - never KeyError, TypeError,
AttributeError, RecursionError, UnicodeDecodeError or any other unnamed exception.
Budget: derandomized with a modest max_examples (BENCHSUITE_FUZZ_EXAMPLES /
BENCHSUITE_FUZZ_RANDOM as in test_fuzz_ops.py).
"""
from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, currently_in_test_context, event, given, note, settings
from hypothesis import strategies as st

import benchsuite as bs
from benchsuite.analysis.history import History
from benchsuite.core.config import load_profile
from benchsuite.core.errors import BenchsuiteError
from benchsuite.core.interop import from_pytest_benchmark, load_pytest_benchmark
from benchsuite.core.results import load_results, validate_run

EXAMPLES = int(os.environ.get("BENCHSUITE_FUZZ_EXAMPLES", "40"))
RANDOM = os.environ.get("BENCHSUITE_FUZZ_RANDOM") == "1"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None, print_blob=True,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
REPO = Path(__file__).resolve().parents[1]
PROFILES = sorted((REPO / "configs").glob("*.yaml"))


# --------------------------------------------------------------------------------------------------
# real files, made once per session


@pytest.fixture(scope="session")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results file from a real (smoke) run of the copy case."""
    out = tmp_path_factory.mktemp("results")
    env = {**os.environ, "BENCHSUITE_DIR": str(tmp_path_factory.mktemp("state"))}
    proc = subprocess.run([sys.executable, "-m", "benchsuite", "run", "--smoke", "-k", "copy", "--device", "cpu",
                           "--profile", "quick", "--out", str(out), "--no-history"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (path,) = out.glob("*.json")
    load_results(path)  # the unmutated file is valid
    return path


@pytest.fixture(scope="session")
def pytest_benchmark_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSON file written by pytest-benchmark for a tiny test (with raw data)."""
    d = tmp_path_factory.mktemp("pb")
    (d / "pytest.ini").write_text("[pytest]\n")
    (d / "test_tiny.py").write_text(textwrap.dedent("""
        def test_tiny(benchmark):
            benchmark.pedantic(sum, args=(range(100),), rounds=5, iterations=2)

        def test_other(benchmark):
            benchmark(len, "abc")
    """))
    path = d / "pb.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchsuite",
                           f"--benchmark-json={path}", "--benchmark-save-data", "--benchmark-max-time=0.01",
                           "--benchmark-min-rounds=3", "test_tiny.py"],
                          capture_output=True, text=True, cwd=d, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    load_pytest_benchmark(path)  # the unmutated file imports
    return path


# --------------------------------------------------------------------------------------------------
# mutations

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.just(""), st.text(max_size=8), st.just("NaN"), st.just("1e400"),
    st.sampled_from([math.nan, math.inf, -math.inf, -1, -1.5, 0, 0.0, 10**30, -(10**30), 10**400, 2**63, 2**64,
                     1e308, 5e-324]),
    st.integers(), st.floats(), st.just([]), st.just({}), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _paths(root: Any, max_depth: int = 40) -> list[tuple]:
    """Every path (keys / indices) into a JSON-like tree down to max_depth, the root included."""
    out, stack = [], [((), root)]
    while stack:
        prefix, node = stack.pop()
        out.append(prefix)
        if len(prefix) >= max_depth:
            continue
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        stack.extend((prefix + (k,), v) for k, v in items)
    return out


def _get(node: Any, path: tuple) -> Any:
    for p in path:
        node = node[p]
    return node


def _nest(value: Any, depth: int, kind: str) -> Any:
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


@st.composite
def mutated(draw, doc: Any) -> Any:
    """`doc` with one to four structural mutations."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["delete", "replace", "replace", "replace", "nest", "rename", "wrap",
                                       "number_as_string", "duplicate_item"]))
        note(f"{action} at {path}")
        if not path:  # the root
            if action == "delete":
                doc = draw(ODD_VALUES)
            elif action == "wrap":
                doc = [doc]
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        old = parent[key]
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(ODD_VALUES)
        elif action == "nest":
            # json.dumps recurses: 800 levels is about what it writes (deeper nests: mutated_text)
            parent[key] = _nest(old, draw(st.sampled_from([2, 50, 800])), draw(st.sampled_from(["list", "dict"])))
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = parent.pop(key)
        elif action == "wrap":
            parent[key] = draw(st.sampled_from([[old], {"value": old}, str(old)]))
        elif action == "number_as_string" and isinstance(old, (int, float)) and not isinstance(old, bool):
            parent[key] = str(old)
        elif action == "duplicate_item" and isinstance(parent, list):
            parent.append(copy.deepcopy(old))
    return doc


@st.composite
def mutated_text(draw, text: str) -> bytes:
    """The file's bytes, mutated at the text level."""
    data = text.encode("utf-8")
    action = draw(st.sampled_from(["truncate", "flip", "insert", "random", "deep", "deep_value", "bom", "empty",
                                   "nul", "latin1", "huge_int"]))
    note(f"text mutation {action}")
    if action == "truncate":
        return data[:draw(st.integers(0, max(len(data) - 1, 0)))]
    if action == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(out) - 1))
            out[i] = draw(st.integers(0, 255))
        return bytes(out)
    if action == "insert":
        i = draw(st.integers(0, len(data)))
        return data[:i] + draw(st.binary(min_size=1, max_size=16)) + data[i:]
    if action == "random":
        return draw(st.binary(max_size=256))
    if action == "deep":
        depth = draw(st.sampled_from([100, 5000, 200000]))
        return (b"[" * depth + b"1" + b"]" * depth) if draw(st.booleans()) else (b'{"a":' * depth + b"1" + b"}" * depth)
    if action == "deep_value":  # a value nested past any recursion limit, inside a valid document
        depth = draw(st.sampled_from([1000, 100000]))
        nest = b"[" * depth + b"1" + b"]" * depth
        return data.replace(b": null", b": " + nest, 1) if b": null" in data else data.replace(b":", b":" + nest, 1)
    if action == "huge_int":  # an integer past int()'s digit limit, and one past float's range
        return data.replace(b": 1", b": 1" + b"0" * draw(st.sampled_from([400, 5000])), 1)
    if action == "bom":
        return b"\xef\xbb\xbf" + data
    if action == "nul":
        return data.replace(b":", b":\x00", 1)
    if action == "latin1":
        return text.replace('"', "\u00e9\"", 1).encode("latin-1", errors="replace")
    return b""


def _event(text: str) -> None:
    if currently_in_test_context():  # hypothesis' statistics (--hypothesis-show-statistics)
        event(text)


def named_or_ok(fn, *args) -> Any:
    """Call a loader: success, or a benchsuite error; anything else fails the test."""
    name = getattr(fn, "__name__", str(fn))
    try:
        out = fn(*args)
    except BenchsuiteError as exc:
        _event(f"{name}: {type(exc).__name__}")
        return None
    except RecursionError as exc:  # caught separately: pytest's own repr of it is huge
        pytest.fail(f"{name} raised RecursionError (not a benchsuite error): {exc}")
    except Exception as exc:  # noqa: BLE001 - the property under test
        pytest.fail(f"{name} raised {type(exc).__name__} (not a benchsuite error): {exc!r}"[:2000])
    _event(f"{name}: accepted")
    return out


def _dump_json(doc: Any) -> str:
    try:
        return json.dumps(doc, allow_nan=True)
    except (ValueError, RecursionError):  # a nest deeper than json.dumps goes
        return json.dumps(None)


# --------------------------------------------------------------------------------------------------
# results files


@FUZZ
@given(data=st.data())
def test_load_results_on_mutated_documents(results_file, tmp_path_factory, data):
    doc = data.draw(mutated(json.loads(results_file.read_text())))
    path = tmp_path_factory.mktemp("r") / "run.json"
    path.write_text(_dump_json(doc))
    run = named_or_ok(load_results, path)
    if run is not None:  # loaded: it is usable as a run
        run.by_status(), len(run), run.run_id, run.environment
        named_or_ok(History(tmp_path_factory.mktemp("h") / "h.sqlite").add, run.doc)


@FUZZ
@given(data=st.data())
def test_load_results_on_mutated_text(results_file, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("r") / "run.json"
    path.write_bytes(data.draw(mutated_text(results_file.read_text())))
    named_or_ok(load_results, path)


@FUZZ
@given(data=st.data())
def test_validate_run_on_mutated_documents(results_file, data):
    doc = data.draw(mutated(json.loads(results_file.read_text())))
    named_or_ok(validate_run, doc, "fuzz.json")


# --------------------------------------------------------------------------------------------------
# history


@FUZZ
@given(data=st.data())
def test_history_add_on_mutated_documents(results_file, tmp_path_factory, data):
    """add() takes a document from a caller (validated or not): a bad one is a named error and
    stores nothing; a good one is stored once."""
    doc = data.draw(mutated(json.loads(results_file.read_text())))
    history = History(tmp_path_factory.mktemp("h") / "history.sqlite")
    added = named_or_ok(history.add, doc)
    if added:
        assert named_or_ok(history.add, doc) is False  # the second time: already stored
        assert [r["run_id"] for r in history.runs()] == [doc["run_id"]]
    else:
        assert history.runs() == []


def test_history_add_on_non_documents(tmp_path):
    history = History(tmp_path / "history.sqlite")
    for doc in (None, [], "run", 3, {}, {"run_id": "x"}, {"schema_version": "1.1"}):
        named_or_ok(history.add, doc)
    assert history.runs() == []


# --------------------------------------------------------------------------------------------------
# profiles


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@FUZZ
@given(data=st.data())
def test_load_profile_on_mutated_profiles(profile, tmp_path_factory, data):
    doc = data.draw(mutated(yaml.safe_load(profile.read_text())))
    path = tmp_path_factory.mktemp("p") / profile.name
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except (yaml.YAMLError, RecursionError):
        text = "null\n"
    path.write_text(text)
    named_or_ok(load_profile, path)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@FUZZ
@given(data=st.data())
def test_load_profile_on_mutated_text(profile, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("p") / profile.name
    path.write_bytes(data.draw(mutated_text(profile.read_text())))
    named_or_ok(load_profile, path)


# --------------------------------------------------------------------------------------------------
# pytest-benchmark imports


@FUZZ
@given(data=st.data())
def test_load_pytest_benchmark_on_mutated_documents(pytest_benchmark_file, tmp_path_factory, data):
    doc = data.draw(mutated(json.loads(pytest_benchmark_file.read_text())))
    path = tmp_path_factory.mktemp("pb") / "pb.json"
    path.write_text(_dump_json(doc))
    run = named_or_ok(load_pytest_benchmark, path)
    if run is not None:  # imported: a valid run the history takes
        validate_run(run, str(path))
        named_or_ok(History(tmp_path_factory.mktemp("h") / "h.sqlite").add, run)


@FUZZ
@given(data=st.data())
def test_load_pytest_benchmark_on_mutated_text(pytest_benchmark_file, tmp_path_factory, data):
    path = tmp_path_factory.mktemp("pb") / "pb.json"
    path.write_bytes(data.draw(mutated_text(pytest_benchmark_file.read_text())))
    named_or_ok(load_pytest_benchmark, path)


@FUZZ
@given(data=st.data())
def test_from_pytest_benchmark_on_mutated_documents(pytest_benchmark_file, data):
    named_or_ok(from_pytest_benchmark, data.draw(mutated(json.loads(pytest_benchmark_file.read_text()))), "fuzz")


def test_missing_and_unreadable_files_are_named(tmp_path):
    missing = tmp_path / "nope.json"
    for loader in (load_results, load_pytest_benchmark, load_profile):
        with pytest.raises(BenchsuiteError):
            loader(missing if loader is not load_profile else tmp_path / "nope.yaml")
    with pytest.raises(BenchsuiteError):
        load_results(tmp_path)
    with pytest.raises(BenchsuiteError):
        load_pytest_benchmark(tmp_path)
    assert issubclass(bs.ResultsFileError, BenchsuiteError)
