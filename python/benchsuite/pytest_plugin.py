"""benchsuite's pytest plugin (entry point `pytest11`).

- Registers the markers performance, energy, hardware and slow.
- `bench` fixture: `bench("softmax", rows=..., device="cuda")`, `bench(spec)` or
  `bench(callable, ...)` measures through the native harness and records the result in
  the run's file. Skips (no CUDA, unsupported dtype) skip the test with the reason;
  a wrong answer or an error fails it; a noisy result is recorded as `invalid` and warned.
- `bs_case` fixture: parametrised with every case the profile sweeps.
- A test marked `energy` measures energy as well (a window of repeated runs per case) when
  the session measures.
- Plain `pytest` runs in smoke mode (one short sample per case, nothing written unless
  --bs-json/--bs-out is given); a `-m` expression that selects performance, energy or
  hardware measures for real and writes results. `--bs-mode` forces either.
- After a measuring run: the run goes into the history (.benchsuite/history.sqlite),
  --bs-save-baseline NAME saves it, --bs-compare NAME|FILE compares it (saving a missing
  baseline instead) and --bs-fail-on-regression turns a regression into exit status 1.
- Where it will write is checked at session start (the results file or folder, the history,
  the baseline folder, the --bs-compare baseline): a problem is a usage error (exit 4, one
  line). An existing --bs-json file is another run's results and is not replaced without
  --bs-force. If the results file stops being writable part-way (a full disk), the test that
  hit it fails and the session stops, as with -x.
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
                    help="write this run's results JSON to PATH (an existing file is refused unless --bs-force)")
    group.addoption("--bs-force", action="store_true", default=False,
                    help="replace an existing file at --bs-json PATH (another run's results)")
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
    group.addoption("--bs-save-baseline", metavar="NAME", default=None,
                    help="save this run's ok results as baseline NAME (.benchsuite/, per machine fingerprint)")
    group.addoption("--bs-compare", metavar="NAME|FILE", default=None,
                    help="compare this run with a baseline name or results file (a missing name is saved)")
    group.addoption("--bs-fail-on-regression", action="store_true", default=False,
                    help="fail the session (exit 1) when a case regressed against --bs-compare")
    group.addoption("--bs-threshold", metavar="SPEC", default=None,
                    help="minimum practical effects for --bs-compare, e.g. time=10%%,memory=10%%")
    group.addoption("--bs-no-history", action="store_true", default=False,
                    help="do not add measured runs to .benchsuite/history.sqlite")


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
        from .core.config import load_profile
        from .core.settings import HarnessSettings
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
        self.write_error: Any = None          # the OutputError that stopped the results file
        self.baseline: Any = None             # the --bs-compare baseline, loaded at session start
        self.follow_up: Any = None
        self.follow_up_error: str | None = None
        from .analysis.compare import Thresholds
        from .core.errors import InvalidArgumentError
        try:
            self.thresholds = Thresholds.parse(config.getoption("bs_threshold"))
        except InvalidArgumentError as exc:
            raise pytest.UsageError(f"benchsuite: --bs-threshold: {exc}") from None
        if config.getoption("bs_fail_on_regression") and not config.getoption("bs_compare"):
            raise pytest.UsageError("benchsuite: --bs-fail-on-regression needs --bs-compare NAME|FILE")
        # peer (NumPy / PyTorch) measurements, shared by every version of a case
        self.peer_cache: dict[tuple, dict[str, Any]] | None = None if config.getoption("bs_no_peers") else {}

    def check_outputs(self) -> None:
        """Before the first test, when this session will write: the results file (not a folder,
        not another run's file unless --bs-force) or folder, the history, the baseline folder
        and the --bs-compare baseline (loaded and validated). Raises pytest.UsageError."""
        if not self.write:
            return
        from .analysis.followup import check_follow_up
        from .core.environment import capture_environment
        from .core.errors import BenchsuiteError
        from .core.results import check_output_file, check_writable_dir, existing_results
        opt = self.config.getoption
        try:
            if self.json_path:
                check_output_file(self.json_path, "results file")
                there = existing_results(self.json_path)
                if there and not opt("bs_force"):
                    raise pytest.UsageError(
                        f"benchsuite: --bs-json {self.json_path}: already holds {there}; not overwriting another "
                        "run's results (pass --bs-force to replace it, or name another file)")
                check_output_file(self.json_path.with_suffix(".md"), "Markdown summary")
            else:
                check_writable_dir(self.out_dir, "results folder")
            self.baseline = check_follow_up(
                capture_environment(print_warnings=False), save_as=opt("bs_save_baseline"),
                compare_with=opt("bs_compare"), history=self.measuring and not opt("bs_no_history"),
                smoke=not self.measuring)
        except BenchsuiteError as exc:
            raise pytest.UsageError(f"benchsuite: {exc}") from None

    def record(self, result: Any) -> None:
        """Add a result to the run's file (created with the first one). An OutputError (full
        disk, folder gone, file replaced) stops all further writing and is re-raised."""
        if not self.write:
            return
        from .core.errors import OutputError
        try:
            if self.writer is None:
                from .core.environment import capture_environment
                from .core.results import RunWriter, new_run, new_run_id
                from .harness.runner import run_config
                run_id = new_run_id()
                path = self.json_path or self.out_dir / f"{run_id}.json"
                doc = new_run("pytest", capture_environment(), run_config(self.profile, self.settings),
                              run_id=run_id)
                self.writer = RunWriter(path, doc, exclusive=True,
                                        replace_existing=self.config.getoption("bs_force"))
            self.writer.add(result.to_dict())
        except OutputError as exc:
            self.write, self.write_error = False, exc
            raise
        self.recorded += 1

    def finish(self, interrupted: bool) -> None:
        if self.writer is None:
            opt = self.config.getoption
            if self.write_error is not None:
                self.follow_up_error = f"{self.write_error}; nothing was written"
            elif opt("bs_compare") or opt("bs_save_baseline"):
                self.follow_up_error = ("--bs-compare / --bs-save-baseline: nothing was measured "
                                        "(smoke mode; select -m performance or pass --bs-mode measure)")
            return
        from .analysis.summary import write_markdown
        from .core.errors import BenchsuiteError, OutputError
        try:
            if self.write_error is not None:
                self.follow_up_error = (f"{self.write_error}; the session stopped: {self.writer.path} keeps "
                                        f"{self.recorded} result(s)")
                self.writer.finish("failed")
                return
            self.writer.finish("interrupted" if interrupted else "complete")
            write_markdown(self.writer.run, self.writer.path.with_suffix(".md"))
        except OutputError as exc:
            self.follow_up_error = self.follow_up_error or str(exc)
            return
        if interrupted:
            return
        from .analysis.followup import follow_up
        opt = self.config.getoption
        try:
            self.follow_up = follow_up(
                self.writer.run, self.writer.path, save_as=opt("bs_save_baseline"), compare_with=opt("bs_compare"),
                thresholds=self.thresholds, history=self.measuring and not opt("bs_no_history"),
                baseline=self.baseline)
        except BenchsuiteError as exc:  # the results file is written; say why the follow-up failed
            self.follow_up_error = str(exc)


_SESSION_KEY = pytest.StashKey[BenchSession]()


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    from .core.errors import ConfigError
    try:
        state = BenchSession(config)
    except ConfigError as exc:
        raise pytest.UsageError(f"benchsuite: {exc}") from None
    if not (config.option.collectonly or config.option.help or getattr(config.option, "markers", False)):
        state.check_outputs()
    config.stash[_SESSION_KEY] = state


def bench_session(config: pytest.Config) -> BenchSession:
    """This pytest session's benchsuite state: profile, settings (smoke or measured), results writer."""
    return config.stash[_SESSION_KEY]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bs_case" not in metafunc.fixturenames:
        return
    from .harness.runner import expand_cases
    session = bench_session(metafunc.config)
    device = metafunc.config.getoption("bs_device")
    devices = None if device == "all" else [device]
    specs = expand_cases(session.profile, devices)
    # Whole models (a BERT-large forward, a 7B block) take seconds to minutes even in smoke
    # mode: `slow`, so that `pytest -m "not slow"` (CI) leaves them to `pytest -m performance`.
    params = [pytest.param(s, id=s.name, marks=[pytest.mark.slow] if s.group == "models" else [])
              for s in specs]
    metafunc.parametrize("bs_case", params)


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
    session = bench_session(request.config)

    def run(target: Any, /, **kwargs: Any) -> Any:
        from .harness.measure import measure
        from .harness.runner import CaseSpec, run_case
        settings = kwargs.pop("settings", None) or session.settings
        if session.measuring and request.node.get_closest_marker("energy") is not None:
            settings = settings.replace(energy=True)   # an energy test measures energy too
        from .core.errors import MeasurementInterrupted
        try:
            if isinstance(target, CaseSpec):
                if kwargs:
                    raise TypeError(f"bench(CaseSpec) takes no keyword arguments, got {sorted(kwargs)}")
                result = run_case(target, settings, session.peer_cache)
            else:
                if not isinstance(target, str) and "name" not in kwargs:
                    kwargs["name"] = request.node.name
                result = measure(target, settings=settings, **kwargs)
        except MeasurementInterrupted as stop:  # Ctrl-C: keep the samples taken, then stop as pytest does
            session.record(stop.result)
            raise
        from .core.errors import OutputError
        try:
            session.record(result)
        except OutputError as exc:   # stop the session as -x does: nothing more can be kept
            request.session.shouldfail = f"benchsuite: results file not writable ({exc})"
            pytest.fail(f"benchsuite: {exc}; this result and later ones are not written", pytrace=False)
        return _handle(result)

    return run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_SESSION_KEY, None)
    if state is None:
        return
    state.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
    if session.config.getoption("bs_fail_on_regression") and exitstatus == pytest.ExitCode.OK and (
            state.follow_up_error or (state.follow_up and state.follow_up.regressions)):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
    if state.follow_up is not None:
        if state.follow_up.comparison is not None:
            for row, case in zip(state.follow_up.comparison.rows(), state.follow_up.comparison.cases):
                if case.verdict != "SAME" or case.regression:
                    terminalreporter.write_line(f"  {row[1]:16s} {row[0]}  ratio {row[4]}  {row[6]}",
                                                red=case.regression, green=case.verdict == "FASTER")
        for line in state.follow_up.messages:
            terminalreporter.write_line(f"benchsuite: {line}")
        if state.follow_up.regressions:
            terminalreporter.write_line(f"benchsuite: {state.follow_up.regressions} regression(s)", red=True)
    if state.follow_up_error:
        terminalreporter.write_line(f"benchsuite: error: {state.follow_up_error}", red=True)
