"""benchsuite's pytest plugin in real inner pytest runs (loaded through its pytest11
entry point): markers, the bench fixture in smoke and measuring modes, results files,
profiles, CUDA skips, usage errors, and living beside pytest-benchmark."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import benchsuite
from benchsuite.core.results import validate_run

pytest_plugins = ["pytester"]

CUDA, _ = benchsuite.cuda_available()

# Small settings so every inner measurement takes a few hundredths of a second.
SETTINGS = ("benchsuite.HarnessSettings(min_samples=3, max_samples=20, min_time=0.01, "
            "max_noise=None, timeout=5)")

BENCH_TEST = f"""
import benchsuite
import pytest

SETTINGS = {SETTINGS}

@pytest.mark.performance
def test_softmax(bench):
    r = bench("softmax", rows=64, cols=64, settings=SETTINGS)
    assert r.status == "ok"
    assert r.stats is not None
"""


def results_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if not p.name.startswith("."))


def only_record(path: Path, case: str = "softmax") -> dict:
    run = benchsuite.load_results(path)
    validate_run(run.doc)
    assert run.suite == "pytest"
    assert run.status == "complete"
    assert len(run) == 1, [r["name"] for r in run]
    record = run.benchmarks[0]
    assert record["case"] == case
    return record


# ------------------------------------------------------------------------------ markers

def test_markers_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    assert result.ret == 0
    text = result.stdout.str()
    for marker in ("performance", "energy", "hardware", "slow"):
        assert f"@pytest.mark.{marker}:" in text, marker


def test_strict_markers_accepts_performance(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.performance
        @pytest.mark.energy
        @pytest.mark.hardware
        @pytest.mark.slow
        def test_marked():
            pass
    """)
    result = pytester.runpytest_subprocess("--strict-markers")
    result.assert_outcomes(passed=1)


def test_strict_markers_still_rejects_unknown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.perfromance
        def test_typo():
            pass
    """)
    result = pytester.runpytest_subprocess("--strict-markers")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*perfromance*"])


# ------------------------------------------------------------------------------ smoke mode

def test_smoke_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_softmax(bench):
            r = bench("softmax", rows=64, cols=64)
            assert r.status == "ok"
            assert r.measurement["smoke"] is True
            assert r.stats.n == 1
    """)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "bench-results").exists()
    assert results_files(pytester.path) == []


def test_smoke_with_bs_json_writes_smoke_records(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_softmax(bench):
            bench("softmax", rows=64, cols=64)
    """)
    json_path = pytester.path / "smoke.json"
    result = pytester.runpytest_subprocess("--bs-json", str(json_path))
    result.assert_outcomes(passed=1)
    record = only_record(json_path)
    assert record["status"] == "ok"
    assert record["measurement"]["smoke"] is True
    assert record["stats"]["n"] == 1
    assert benchsuite.load_results(json_path).config["smoke"] is True


def test_smoke_deselecting_performance_stays_smoke(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        def test_plain(bench):
            r = bench("softmax", rows=64, cols=64)
            assert r.measurement["smoke"] is True

        @pytest.mark.performance
        def test_perf():
            pass
    """)
    result = pytester.runpytest_subprocess("-m", "not performance")
    result.assert_outcomes(passed=1, deselected=1)
    assert results_files(pytester.path) == []


# ------------------------------------------------------------------------------ measuring

def test_performance_measures_and_writes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BENCH_TEST + """
def test_settings_are_real(bench):
    r = bench("softmax", rows=64, cols=64, settings=SETTINGS)
    assert r.measurement["smoke"] is False
    assert r.stats.n >= SETTINGS.min_samples
    assert r.measurement["min_samples"] == SETTINGS.min_samples
""")
    out = pytester.path / "OUT"
    result = pytester.runpytest_subprocess("-m", "performance", "--bs-out", str(out))
    result.assert_outcomes(passed=1, deselected=1)
    files = results_files(out)
    assert len(files) == 1, files
    record = only_record(files[0])
    assert record["status"] == "ok"
    assert record["device"] == "cpu"
    assert record["params"]["rows"] == 64 and record["params"]["cols"] == 64
    assert record["measurement"]["smoke"] is False
    assert record["stats"]["n"] >= 3
    assert files[0].with_suffix(".md").is_file()
    assert record["name"] in files[0].with_suffix(".md").read_text(encoding="utf-8")
    assert not (pytester.path / "bench-results").exists()
    result.stdout.fnmatch_lines(["*benchsuite (measure*1 results*"])


def test_profile_min_samples_used_when_measuring(pytester: pytest.Pytester) -> None:
    """Without settings=..., a measuring run uses the profile's harness settings."""
    pytester.makepyfile("""
        import pytest
        from benchsuite.core.config import load_profile

        @pytest.mark.performance
        def test_softmax(bench):
            r = bench("softmax", rows=64, cols=64)
            assert r.measurement["smoke"] is False
            assert r.stats.n >= load_profile("quick").harness.min_samples
    """)
    json_path = pytester.path / "run.json"
    result = pytester.runpytest_subprocess("-m", "performance", "--bs-profile", "quick",
                                           "--bs-json", str(json_path))
    result.assert_outcomes(passed=1)
    record = only_record(json_path)
    assert record["stats"]["n"] >= record["measurement"]["min_samples"]


def test_bs_json_writes_exactly_there(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BENCH_TEST)
    json_path = pytester.path / "sub" / "mine.json"
    result = pytester.runpytest_subprocess("-m", "performance", "--bs-json", str(json_path))
    result.assert_outcomes(passed=1)
    assert json_path.is_file()
    record = only_record(json_path)
    assert record["status"] == "ok"
    assert results_files(pytester.path) == [json_path]
    assert not (pytester.path / "bench-results").exists()


def test_bs_profile_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BENCH_TEST)
    json_path = pytester.path / "run.json"
    result = pytester.runpytest_subprocess("-m", "performance", "--bs-profile", "quick",
                                           "--bs-json", str(json_path))
    result.assert_outcomes(passed=1)
    run = benchsuite.load_results(json_path)
    assert run.config["profile"] == "quick"
    assert run.config["smoke"] is False


def test_cuda_case_skipped_without_cuda(pytester: pytest.Pytester) -> None:
    if CUDA:
        pytest.skip("a CUDA device is usable here; this checks the no-GPU path")
    pytester.makepyfile(f"""
        import benchsuite

        def test_cuda(bench):
            bench("softmax", device="cuda", settings={SETTINGS})
            raise AssertionError("bench() should have skipped")
    """)
    json_path = pytester.path / "run.json"
    result = pytester.runpytest_subprocess("-rs", "--bs-json", str(json_path))
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*no_cuda*"])
    run = benchsuite.load_results(json_path)
    assert [(r["status"], r["reason"]) for r in run] == [("skipped", "no_cuda")]


def test_failed_case_fails_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_bad(bench):
            def boom():
                raise RuntimeError("kaboom")
            bench(boom)
    """)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*kaboom*"])


# ------------------------------------------------------------------------------ usage errors

def test_unknown_profile_is_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("--bs-profile", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "nope" in result.stderr.str() + result.stdout.str()
    assert "Traceback" not in result.stderr.str()


# ------------------------------------------------------------------------------ pytest-benchmark

def test_coexists_with_pytest_benchmark(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_benchmark")
    pytester.makepyfile(BENCH_TEST + """
def test_pytest_benchmark(benchmark):
    assert benchmark(lambda: sum(range(100))) == 4950
""")
    bs_json = pytester.path / "bs.json"
    pb_json = pytester.path / "pb.json"
    result = pytester.runpytest_subprocess(
        "--bs-json", str(bs_json), "--bs-mode", "measure", f"--benchmark-json={pb_json}",
        "--benchmark-min-rounds=3", "--benchmark-max-time=0.05", "--benchmark-warmup=off")
    result.assert_outcomes(passed=2)

    record = only_record(bs_json)
    assert record["status"] == "ok"
    pb = json.loads(pb_json.read_text(encoding="utf-8"))
    names = [b["name"] for b in pb["benchmarks"]]
    assert names == ["test_pytest_benchmark"]
    assert pb["benchmarks"][0]["stats"]["rounds"] >= 1


def test_benchmark_disable_still_works(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_benchmark")
    pytester.makepyfile(BENCH_TEST + """
def test_pytest_benchmark(benchmark):
    assert benchmark(lambda: sum(range(100))) == 4950
""")
    bs_json = pytester.path / "bs.json"
    result = pytester.runpytest_subprocess("--benchmark-disable", "--bs-json", str(bs_json))
    result.assert_outcomes(passed=2)
    record = only_record(bs_json)
    assert record["status"] == "ok"


def test_energy_marker_measures_energy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(f"""
        import benchsuite, pytest
        SETTINGS = {SETTINGS}

        @pytest.mark.energy
        def test_energy(bench):
            bench("softmax", rows=64, cols=64, settings=SETTINGS)

        @pytest.mark.performance
        def test_time_only(bench):
            bench("softmax", rows=64, cols=128, settings=SETTINGS)
    """)
    json_path = pytester.path / "e.json"
    result = pytester.runpytest_subprocess("-m", "energy or performance", "--bs-json", str(json_path),
                                           "--bs-no-history")
    result.assert_outcomes(passed=2)
    records = {r["params"]["cols"]: r for r in json.loads(json_path.read_text())["benchmarks"]}
    energy = records[64]["metrics"]["energy"]
    # asked for: measured where a counter is readable, otherwise unavailable with the reason why
    assert energy["source"] in ("rapl", "unavailable")
    assert energy["reason"] != "energy was not measured"
    assert records[128]["metrics"].get("energy", {}).get("reason") in (None, "energy was not measured")


# ------------------------------------------------------------------------------ where results go

# A callable, not a registered case: these tests are about files, not kernels.
CALLABLE_TESTS = f"""
import benchsuite, pytest
SETTINGS = {SETTINGS}

@pytest.mark.performance
def test_a(bench):
    bench(lambda: sum(range(100)), settings=SETTINGS)

@pytest.mark.performance
def test_b(bench):
    bench(lambda: sum(range(200)), settings=SETTINGS)

@pytest.mark.performance
def test_c(bench):
    bench(lambda: sum(range(300)), settings=SETTINGS)
"""


def assert_usage_error(result: pytest.RunResult, *parts: str) -> str:
    """pytest's exit 4, one `ERROR: benchsuite:` line naming the parts, no test run, no traceback."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, (result.ret, result.stdout.str(), result.stderr.str())
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, result.stderr.str()
    assert lines[0].startswith("ERROR: benchsuite: "), lines[0]
    for part in parts:
        assert part in lines[0], (part, lines[0])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "passed" not in result.stdout.str() and "failed" not in result.stdout.str()
    return lines[0]


def test_unwritable_result_paths_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CALLABLE_TESTS)
    (pytester.path / "afile").write_text("not a folder")
    (pytester.path / "folder").mkdir()
    for option, value, reason in (("--bs-json", "afile/x.json", "Not a directory"),
                                  ("--bs-out", "afile", "Not a directory"),
                                  ("--bs-out", "afile/sub", "Not a directory"),
                                  ("--bs-json", "folder", "Is a directory")):
        result = pytester.runpytest_subprocess("-m", "performance", option, str(pytester.path / value))
        assert_usage_error(result, "afile" if "afile" in value else "folder", reason)
    # smoke mode writes too when --bs-json is given: checked as well
    result = pytester.runpytest_subprocess("--bs-json", str(pytester.path / "afile" / "x.json"))
    assert_usage_error(result, "Not a directory")


def test_read_only_places_are_usage_errors(pytester: pytest.Pytester) -> None:
    from test_cli_reliability import UNPRIVILEGED
    if UNPRIVILEGED is None:
        pytest.skip("running as root without setpriv: modes are not enforced")
    pytester.makepyfile(CALLABLE_TESTS)
    ro = pytester.path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        command = [*UNPRIVILEGED, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "performance"]
        assert_usage_error(pytester.run(*command, "--bs-json", str(ro / "x.json")), str(ro), "Permission denied")
        assert_usage_error(pytester.run(*command, "--bs-out", str(ro / "out")), str(ro / "out"), "Permission denied")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("BENCHSUITE_DIR", str(ro / "state"))
            line = assert_usage_error(pytester.run(*command, "--bs-out", str(pytester.path / "OUT")),
                                      "Permission denied")
        assert "history database" in line
    finally:
        ro.chmod(0o755)


def test_existing_bs_json_is_not_replaced_without_bs_force(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CALLABLE_TESTS)
    json_path = pytester.path / "r.json"
    first = pytester.runpytest_subprocess("-m", "performance", "--bs-json", str(json_path), "--bs-no-history")
    first.assert_outcomes(passed=3)
    before = json_path.read_bytes()
    run_id = benchsuite.load_results(json_path).run_id
    second = pytester.runpytest_subprocess("-m", "performance", "--bs-json", str(json_path), "--bs-no-history")
    assert_usage_error(second, str(json_path), run_id, "--bs-force")
    assert json_path.read_bytes() == before
    third = pytester.runpytest_subprocess("-m", "performance", "--bs-json", str(json_path), "--bs-no-history",
                                          "--bs-force")
    third.assert_outcomes(passed=3)
    assert benchsuite.load_results(json_path).run_id != run_id


def test_missing_compare_baseline_is_a_usage_error_before_any_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CALLABLE_TESTS)
    result = pytester.runpytest_subprocess("-m", "performance", "--bs-compare", str(pytester.path / "nope.json"))
    assert_usage_error(result, "nope.json", "no such results file")
    assert not (pytester.path / "bench-results").exists()


def test_full_disk_part_way_stops_the_session(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import errno, os
        from benchsuite.core import results

        _real, _calls = results._replace_atomically, []

        def _replace(target, data, exclusive=False):   # the disk fills after two writes
            _calls.append(target)
            if len(_calls) > 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
            _real(target, data, exclusive)

        results._replace_atomically = _replace
    """)
    pytester.makepyfile(CALLABLE_TESTS)
    json_path = pytester.path / "r.json"
    result = pytester.runpytest_subprocess("-m", "performance", "--bs-json", str(json_path), "--bs-no-history")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)              # test_c never runs
    result.stdout.fnmatch_lines([f"*{json_path}: cannot write results file: No space left on device*"])
    assert "INTERNALERROR" not in result.stdout.str()
    kept = benchsuite.load_results(json_path)
    assert [r["name"].split("[")[0] for r in kept.benchmarks] == ["test_a"]
