"""The CLI when its surroundings fail: a reader that goes away (`| head`), outputs that cannot
be written (a file where a folder should be, read-only folders, a full disk), a results file
that belongs to another run, and a --compare baseline that is missing or damaged. Each is
one line naming the path and the reason, found before the first case where it can be, and
never costs a measurement that could be kept."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import benchsuite
from benchsuite.cli import main
from benchsuite.core import results as results_module
from benchsuite.core.errors import OutputError
from benchsuite.core.results import RunWriter, new_run, write_json_atomic

from run_builders import record, run

TIMEOUT = 120
# Three CPU cases of the quick profile, one short sample each: a whole run takes seconds.
CASES = ("run", "--profile", "quick", "-k", "gelu", "--device", "cpu", "--smoke", "--no-peers")


def cli(cwd: Path, *args: str, prefix: tuple[str, ...] = (), **kwargs) -> subprocess.CompletedProcess:
    if "stdout" not in kwargs:
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run([*prefix, sys.executable, "-m", "benchsuite", *args], cwd=cwd, text=True,
                          timeout=TIMEOUT, **kwargs)


def expected_cases(cwd: Path) -> list[str]:
    proc = cli(cwd, "list", "--json", *CASES[1:7])
    assert proc.returncode == 0, proc.stderr
    names = [c["name"] for c in json.loads(proc.stdout)]
    assert len(names) >= 2
    return names


def error_line(proc: subprocess.CompletedProcess, status: int, *parts: str) -> str:
    """Exit `status`, one `benchsuite: error:` line (warnings about a busy machine aside),
    no traceback, naming every part."""
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "warning:" not in line]
    assert len(lines) == 1, proc.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


def nothing_measured(proc: subprocess.CompletedProcess, cwd: Path) -> None:
    assert "[1/" not in proc.stdout, proc.stdout
    assert not (cwd / "bench-results").exists()


# A root user writes through read-only modes; without the capability that allows it, root is
# held to them like anyone else (setpriv drops it from the bounding set for the child only).
def _unprivileged_prefix() -> tuple[str, ...] | None:
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search")
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else None


UNPRIVILEGED = _unprivileged_prefix()
needs_permissions = pytest.mark.skipif(UNPRIVILEGED is None,
                                       reason="running as root without setpriv: modes are not enforced")


@pytest.fixture
def read_only(tmp_path: Path):
    """A read-only folder (mode 0555) that is made writable again afterwards."""
    made: list[Path] = []

    def make(path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o555)
        made.append(path)
        return path

    yield make
    for path in made:
        path.chmod(0o755)


def valid_run_file(path: Path, run_id: str = "20261123T050000Z-aaaaaa") -> Path:
    write_json_atomic(path, run(record(), record("layernorm"), run_id=run_id))
    return path


# ------------------------------------------------------------------------------ 3: broken pipes

def test_run_into_a_closed_pipe_measures_and_writes_everything(tmp_path: Path) -> None:
    names = expected_cases(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)                    # the reader is gone before the first line: every write is EPIPE
    try:
        proc = cli(tmp_path, *CASES, "--json", "r.json", stdout=write_end,
                   stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    done = benchsuite.load_results(tmp_path / "r.json")
    assert done.status == "complete"
    assert [b["name"] for b in done.benchmarks] == names
    assert (tmp_path / "r.md").is_file()


def test_run_piped_into_head(tmp_path: Path) -> None:
    """`benchsuite run | head -1`: the pipe closes after the first progress line."""
    names = expected_cases(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "benchsuite", *CASES, "--json", "r.json"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    proc.stdout.close()
    try:
        status = proc.wait(TIMEOUT)
    finally:
        proc.kill()
    err = proc.stderr.read()
    proc.stderr.close()
    assert first.startswith("[1/"), first
    assert status == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert [b["name"] for b in benchsuite.load_results(tmp_path / "r.json").benchmarks] == names


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["info"], ["info", "--json"]],
                         ids=["list", "list-json", "info", "info-json"])
def test_list_and_info_end_quietly_when_the_reader_is_gone(tmp_path: Path, args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = cli(tmp_path, *args, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    assert "Broken pipe" not in proc.stderr


def test_a_closed_stdout_is_quiet_too(tmp_path: Path) -> None:
    proc = cli(tmp_path, "list", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
               preexec_fn=lambda: os.close(1))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------ 4: write errors

def test_out_naming_a_file_is_found_before_measuring(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    for out in ("afile", "afile/sub"):
        proc = cli(tmp_path, *CASES, "--out", out)
        error_line(proc, 2, out, "Not a directory")
        nothing_measured(proc, tmp_path)


def test_json_naming_a_folder(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    proc = cli(tmp_path, *CASES, "--json", "folder")
    error_line(proc, 2, "folder", "Is a directory")
    nothing_measured(proc, tmp_path)


@needs_permissions
def test_read_only_output_folders_are_found_before_measuring(tmp_path: Path, read_only) -> None:
    read_only(tmp_path / "ro")
    cases = [(("--out", "ro/results"), {}, ("ro/results", "results folder")),
             (("--json", "ro/r.json"), {}, ("ro", "results file")),
             ((), {"BENCHSUITE_DIR": str(tmp_path / "ro" / "state")}, ("ro/state", "history database"))]
    for args, env, parts in cases:
        proc = cli(tmp_path, *CASES, *args, prefix=UNPRIVILEGED, env={**os.environ, **env})
        error_line(proc, 2, *parts, "Permission denied")
        nothing_measured(proc, tmp_path)


@needs_permissions
def test_read_only_baseline_folder_is_found_before_measuring(tmp_path: Path, read_only) -> None:
    state = tmp_path / "state"
    read_only(state / "baselines")
    env = {**os.environ, "BENCHSUITE_DIR": str(state)}
    # not a smoke run (a smoke run cannot be a baseline): the check must come before measuring
    args = [a for a in CASES if a != "--smoke"]
    proc = cli(tmp_path, *args, "--save-baseline", "main", prefix=UNPRIVILEGED, env=env)
    error_line(proc, 2, str(state / "baselines"), "cannot write baseline", "Permission denied")
    nothing_measured(proc, tmp_path)
    proc = cli(tmp_path, *args, "--compare", "main", prefix=UNPRIVILEGED, env=env)  # no 'main' yet: would save
    error_line(proc, 2, "Permission denied")
    nothing_measured(proc, tmp_path)


@needs_permissions
def test_read_only_working_directory(tmp_path: Path, read_only) -> None:
    cwd = read_only(tmp_path / "cwd")
    proc = cli(cwd, *CASES, "--no-history", prefix=UNPRIVILEGED)
    error_line(proc, 2, "bench-results", "Permission denied")
    # the history's default place is ./.benchsuite as well
    env = {k: v for k, v in os.environ.items() if k != "BENCHSUITE_DIR"}
    proc = cli(cwd, *CASES, "--out", str(tmp_path / "out"), prefix=UNPRIVILEGED, env=env)
    error_line(proc, 2, ".benchsuite", "history database", "Permission denied")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.json"))


def test_report_into_a_folder(tmp_path: Path) -> None:
    valid_run_file(tmp_path / "a.json")
    (tmp_path / "adir").mkdir()
    for option in ("--md", "--html", "--json"):
        proc = cli(tmp_path, "report", "a.json", option, "adir")
        error_line(proc, 2, "adir", "Is a directory")
        assert proc.stdout == ""


@needs_permissions
def test_export_import_and_compare_into_read_only_folders(tmp_path: Path, read_only) -> None:
    valid_run_file(tmp_path / "a.json")
    ro = read_only(tmp_path / "ro")
    proc = cli(tmp_path, "export", "a.json", "-o", "ro/e.json", prefix=UNPRIVILEGED)
    error_line(proc, 2, "ro", "cannot write export", "Permission denied")
    assert cli(tmp_path, "export", "a.json", "-o", "pb.json").returncode == 0
    proc = cli(tmp_path, "import", "pb.json", "-o", "ro/i.json", prefix=UNPRIVILEGED)
    error_line(proc, 2, "ro", "Permission denied")
    ro.chmod(0o755)
    valid_run_file(ro / "cand.json", run_id="20261123T060000Z-bbbbbb")
    ro.chmod(0o555)
    proc = cli(tmp_path, "compare", "a.json", "ro/cand.json", prefix=UNPRIVILEGED)   # writes beside CAND
    error_line(proc, 2, "ro", "cannot write comparison", "Permission denied")
    assert proc.stdout == ""                       # checked before comparing, not after the table


def test_export_and_import_onto_a_file_as_folder(tmp_path: Path) -> None:
    valid_run_file(tmp_path / "a.json")
    (tmp_path / "afile").write_text("x")
    error_line(cli(tmp_path, "export", "a.json", "-o", "afile/e.json"), 2, "afile", "Not a directory")
    assert cli(tmp_path, "export", "a.json", "-o", "pb.json").returncode == 0
    error_line(cli(tmp_path, "import", "pb.json", "-o", "afile/i.json"), 2, "afile", "Not a directory")


def _fill_disk_after(monkeypatch: pytest.MonkeyPatch, writes: int) -> list[Path]:
    """Every atomic write after the first `writes` fails as a full disk does."""
    real = results_module._replace_atomically
    calls: list[Path] = []

    def replace(target: Path, data: bytes, exclusive: bool = False) -> None:
        calls.append(target)
        if len(calls) > writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        real(target, data, exclusive)

    monkeypatch.setattr(results_module, "_replace_atomically", replace)
    return calls


def test_disk_full_mid_run_keeps_written_cases_and_names_the_rest(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    names = [s.name for s in benchsuite.list_cases("gelu", "quick", ["cpu"])]
    assert len(names) >= 2
    _fill_disk_after(monkeypatch, 2)          # the empty run, then the first case; the second fails
    status = main([*CASES, "--json", "r.json", "--no-history"])
    out, err = capsys.readouterr()
    assert status == 1, err
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if "warning:" not in line]
    assert "r.json: cannot write results file: No space left on device" in lines[0]
    assert f"{len(names) - 1} case(s) were not written" in lines[0]
    assert [line.split("not written: ", 1)[1] for line in lines[1:]] == names[1:]
    kept = benchsuite.load_results(tmp_path / "r.json")       # the file as last written: valid
    assert [b["name"] for b in kept.benchmarks] == names[:1]
    assert kept.status == "running"
    assert f"[1/{len(names)}]" in out and f"[2/{len(names)}]" not in out   # measuring stopped


def test_disk_full_when_the_run_is_done_exits_1(tmp_path: Path, monkeypatch, capsys) -> None:
    """The results are written; the Markdown summary is not: exit 1, not 2 (it is no usage error)."""
    monkeypatch.chdir(tmp_path)
    n = len(benchsuite.list_cases("gelu", "quick", ["cpu"]))
    _fill_disk_after(monkeypatch, 1 + n + 1)    # start, each case, the final status; the summary fails
    status = main([*CASES, "--json", "r.json", "--no-history"])
    err = capsys.readouterr().err
    assert status == 1, err
    assert "r.md: cannot write" in err and "No space left on device" in err and "Traceback" not in err
    assert benchsuite.load_results(tmp_path / "r.json").status == "complete"


def test_output_error_names_path_and_reason() -> None:
    exc = OutputError.from_os(OSError(errno.EROFS, "whatever", "/x/y.json"), what="results file")
    assert str(exc) == f"/x/y.json: cannot write results file: {os.strerror(errno.EROFS)}"
    assert exc.exit_status == 2 and exc.errno == errno.EROFS


# ------------------------------------------------------------------------------ 5: clobbering

def test_existing_results_file_is_not_replaced_without_force(tmp_path: Path) -> None:
    before = valid_run_file(tmp_path / "here.json").read_bytes()
    proc = cli(tmp_path, *CASES, "--json", "here.json")
    error_line(proc, 2, "here.json", "20261123T050000Z-aaaaaa", "--force")
    nothing_measured(proc, tmp_path)
    assert (tmp_path / "here.json").read_bytes() == before
    proc = cli(tmp_path, *CASES, "--json", "here.json", "--force")
    assert proc.returncode == 0, proc.stderr
    assert benchsuite.load_results(tmp_path / "here.json").run_id != "20261123T050000Z-aaaaaa"


def test_two_writers_of_one_path(tmp_path: Path) -> None:
    """The race the check before measuring cannot see: the file is created exclusively, and a
    writer never rewrites a file another process has put in its place."""
    path = tmp_path / "r.json"
    env, config = run()["environment"], run()["config"]
    first = RunWriter(path, new_run("cli", env, config), exclusive=True)
    with pytest.raises(OutputError) as ei:
        RunWriter(path, new_run("cli", env, config), exclusive=True)
    assert ei.value.errno == errno.EEXIST and first.run["run_id"] in str(ei.value)
    assert benchsuite.load_results(path).run_id == first.run["run_id"]
    second = RunWriter(path, new_run("cli", env, config), exclusive=True, replace_existing=True)   # --force
    with pytest.raises(OutputError, match="another process replaced"):
        first.add(record())
    second.add(record())
    assert benchsuite.load_results(path).run_id == second.run["run_id"]
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]            # no temp files left


# ------------------------------------------------------------------------------ 6: the --compare baseline

def test_missing_or_damaged_compare_baseline_is_found_before_measuring(tmp_path: Path) -> None:
    args = [a for a in CASES if a != "--smoke"]
    proc = cli(tmp_path, *args, "--compare", "nope.json")
    error_line(proc, 2, "nope.json", "no such results file")
    nothing_measured(proc, tmp_path)
    (tmp_path / "bad.json").write_text("{")
    error_line(cli(tmp_path, *args, "--compare", "bad.json"), 2, "bad.json", "invalid JSON")
    # a stored baseline that is damaged
    from benchsuite.core.environment import capture_environment, fingerprint_id
    fp = fingerprint_id(capture_environment(print_warnings=False))
    stored = Path(os.environ["BENCHSUITE_DIR"]) / "baselines" / fp / "main.json"
    stored.parent.mkdir(parents=True)
    stored.write_text('{"schema_version": "1.1"}')
    proc = cli(tmp_path, *args, "--compare", "main")
    error_line(proc, 2, str(stored), "stored baseline 'main'")
    nothing_measured(proc, tmp_path)


def test_smoke_run_cannot_become_a_baseline_found_before_measuring(tmp_path: Path) -> None:
    for option in ("--save-baseline", "--compare"):       # --compare NAME with no NAME yet saves the run
        proc = cli(tmp_path, *CASES, option, "main")
        error_line(proc, 2, "'main'", "smoke run")
        nothing_measured(proc, tmp_path)


def test_bad_threshold_is_found_before_measuring(tmp_path: Path) -> None:
    proc = cli(tmp_path, *CASES, "--compare", "main", "--threshold", "time=lots")
    error_line(proc, 2, "lots")
    nothing_measured(proc, tmp_path)
