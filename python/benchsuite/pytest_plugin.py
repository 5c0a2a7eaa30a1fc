"""benchsuite's pytest plugin (entry point `pytest11`).

- Registers the markers performance, energy, hardware and slow.
- `bench` fixture: `bench("softmax", rows=..., device="cuda")`, `bench(spec)` or
  `bench(callable, ...)` measures through the native harness and records the result in
  the run's file. Skips (no CUDA, unsupported dtype) skip the test with the reason;
  a wrong answer or an error fails it; a noisy result is recorded as `invalid` and warned.
- `bs_case` fixture: parametrised with every case the profile sweeps.
- Plain `pytest` runs in smoke mode (one short sample per case, nothing written unless
  --bs-json/--bs-out is given); a `-m` expression that selects performance, energy or
  hardware measures for real and writes results. `--bs-mode` forces either.
- Lives beside pytest-benchmark: its `benchmark` fixture and --benchmark-* options are
  untouched, since everything here is named bench/bs_case/--bs-*.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

MARKERS = {
    "performance": "measures speed through the benchsuite harness (pytest -m performance)",
    "energy": "measures energy (NVML counter / RAPL) besides time",
    "hardware": "needs real hardware behaviour (a GPU, timing accuracy checks)",
    "slow": "takes long; deselect with -m 'not slow'",
}
MEASURING_MARKERS = ("performance", "energy", "hardware")


class BenchmarkWarning(UserWarning):
    """A measurement finished but failed a validity rule (noise, too few samples)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("benchsuite", "benchsuite measurements")
    group.addoption("--bs-json", metavar="PATH", default=None,
                    help="write this run's results JSON to PATH")
    group.addoption("--bs-out", metavar="DIR", default=None,
                    help="folder for results when measuring (default: bench-results)")
    group.addoption("--bs-profile", metavar="NAME", default=None,
                    help="configs/NAME.yaml (or a path): harness settings and sweeps (default: default)")
    group.addoption("--bs-mode", choices=("auto", "smoke", "measure"), default="auto",
                    help="smoke: one short sample per case; measure: full harness; auto: measure "
                         "when -m selects performance, energy or hardware")
    group.addoption("--bs-no-peers", action="store_true", default=False,
                    help="do not measure NumPy / PyTorch peers beside the bs_case sweep")
    group.addoption("--bs-device", choices=("cpu", "cuda", "all"), default="all",
                    help="devices for the bs_case sweep (default: the profile's)")


def _selects_measuring(markexpr: str) -> bool:
    """True when -m names a measuring marker positively (not `not performance`)."""
    for marker in MEASURING_MARKERS:
        for match in re.finditer(rf"\b{marker}\b", markexpr or ""):
            before = markexpr[:match.start()].rstrip()
            if not before.endswith("not"):
                return True
    return False


class BenchSession:
    """Per-session state: the profile, the settings in force and the results writer."""

    def __init__(self, config: pytest.Config) -> None:
        from .config import HarnessSettings, load_profile
        self.config = config
        self.profile = load_profile(config.getoption("bs_profile") or "default")
        mode = config.getoption("bs_mode")
        self.measuring = mode == "measure" or (mode == "auto" and _selects_measuring(config.option.markexpr))
        self.settings = self.profile.harness if self.measuring else HarnessSettings.smoke_settings()
        json_path = config.getoption("bs_json")
        out_dir = config.getoption("bs_out")
        self.write = self.measuring or bool(json_path or out_dir)
        self.json_path = Path(json_path) if json_path else None
        self.out_dir = Path(out_dir or "bench-results")
        self.writer: Any = None
        self.recorded = 0
        # peer (NumPy / PyTorch) measurements, shared by every version of a case
        self.peer_cache: dict[tuple, dict[str, Any]] | None = None if config.getoption("bs_no_peers") else {}

    def record(self, result: Any) -> None:
        if not self.write:
            return
        if self.writer is None:
            from .environment import capture_environment
            from .results import RunWriter, new_run, new_run_id
            from .runner import run_config
            run_id = new_run_id()
            path = self.json_path or self.out_dir / f"{run_id}.json"
            doc = new_run("pytest", capture_environment(), run_config(self.profile, self.settings),
                          run_id=run_id)
            self.writer = RunWriter(path, doc)
        self.writer.add(result.to_dict())
        self.recorded += 1

    def finish(self, interrupted: bool) -> None:
        if self.writer is None:
            return
        from .summary import write_markdown
        self.writer.finish("interrupted" if interrupted else "complete")
        write_markdown(self.writer.run, self.writer.path.with_suffix(".md"))


_SESSION_KEY = pytest.StashKey[BenchSession]()


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    from .errors import ConfigError
    try:
        config.stash[_SESSION_KEY] = BenchSession(config)
    except ConfigError as exc:
        raise pytest.UsageError(f"benchsuite: {exc}") from None


def _session(config: pytest.Config) -> BenchSession:
    return config.stash[_SESSION_KEY]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bs_case" not in metafunc.fixturenames:
        return
    from .runner import expand_cases
    session = _session(metafunc.config)
    device = metafunc.config.getoption("bs_device")
    devices = None if device == "all" else [device]
    specs = expand_cases(session.profile, devices)
    metafunc.parametrize("bs_case", specs, ids=[s.name for s in specs])


def _handle(result: Any) -> Any:
    if result.status == "skipped":
        pytest.skip(f"{result.reason}: {result.reasons[0] if result.reasons else ''}")
    if result.status == "failed":
        pytest.fail(f"{result.name}: {result.error}", pytrace=False)
    if result.status == "invalid":
        warnings.warn(f"{result.name}: {'; '.join(result.reasons)}", BenchmarkWarning, stacklevel=3)
    return result


@pytest.fixture
def bench(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Measure a registered case, a CaseSpec or a callable; record and return the Result."""
    session = _session(request.config)

    def run(target: Any, /, **kwargs: Any) -> Any:
        from .measure import measure
        from .runner import CaseSpec, run_case
        settings = kwargs.pop("settings", None) or session.settings
        if isinstance(target, CaseSpec):
            if kwargs:
                raise TypeError(f"bench(CaseSpec) takes no keyword arguments, got {sorted(kwargs)}")
            result = run_case(target, settings, session.peer_cache)
        else:
            if not isinstance(target, str) and "name" not in kwargs:
                kwargs["name"] = request.node.name
            result = measure(target, settings=settings, **kwargs)
        session.record(result)
        return _handle(result)

    return run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_SESSION_KEY, None)
    if state is not None:
        state.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_SESSION_KEY, None)
    if state is None:
        return
    mode = "measure" if state.measuring else "smoke"
    if state.writer is not None:
        terminalreporter.write_line(
            f"benchsuite ({mode}, profile {state.profile.name}): {state.recorded} results in "
            f"{state.writer.path} (summary {state.writer.path.with_suffix('.md')})")
    elif state.recorded or state.measuring:
        terminalreporter.write_line(f"benchsuite ({mode}): nothing recorded")
