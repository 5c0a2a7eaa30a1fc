"""Regression verdicts: the statistical rule's error rates on synthetic noisy samples, each
verdict on constructed runs, the other metrics, environment checks and the CLI's exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchsuite.analysis.compare import Thresholds, compare_records, compare_runs, compare_samples
from benchsuite.cli import main
from benchsuite.core.errors import EnvironmentMismatchError, InvalidArgumentError
from benchsuite.core.results import write_json_atomic

from run_builders import environment, record, run, samples


def noisy(rng: np.random.Generator, median: float, n: int = 30, cv: float = 0.05) -> np.ndarray:
    """Per-iteration times as a loaded machine gives them: log-normal spread plus a few slow outliers."""
    x = median * rng.lognormal(0.0, cv, n)
    slow = rng.random(n) < 0.03
    x[slow] *= rng.uniform(1.2, 2.0, slow.sum())
    return x


TRIALS = 300


def test_a_a_comparisons_rarely_say_slower():
    rng = np.random.default_rng(20261123)
    verdicts = [compare_samples(noisy(rng, 1e-3), noisy(rng, 1e-3), seed=i).verdict for i in range(TRIALS)]
    false_slower = verdicts.count("SLOWER") / TRIALS
    assert false_slower < 0.05, f"A/A said SLOWER in {false_slower:.1%} of trials"
    assert verdicts.count("SAME") / TRIALS > 0.8  # and it does say SAME, not just AMBIGUOUS


def test_a_a_with_heavy_noise_still_rarely_says_slower():
    rng = np.random.default_rng(7)
    verdicts = [compare_samples(noisy(rng, 1e-3, n=20, cv=0.2), noisy(rng, 1e-3, n=20, cv=0.2), seed=i).verdict
                for i in range(TRIALS)]
    assert verdicts.count("SLOWER") / TRIALS < 0.05


def test_injected_15_percent_slowdown_is_detected():
    rng = np.random.default_rng(11)
    verdicts = [compare_samples(noisy(rng, 1e-3), noisy(rng, 1.15e-3), seed=i).verdict for i in range(TRIALS)]
    detected = verdicts.count("SLOWER") / TRIALS
    assert detected > 0.95, f"a 15% slowdown was detected in only {detected:.1%} of trials"


def test_speedup_is_faster_and_small_changes_are_same():
    rng = np.random.default_rng(3)
    assert compare_samples(noisy(rng, 1e-3), noisy(rng, 0.8e-3)).verdict == "FASTER"
    # a real but practically negligible 2% change: significant, yet SAME under the 10% threshold
    r = compare_samples(noisy(rng, 1e-3, n=200, cv=0.01), noisy(rng, 1.02e-3, n=200, cv=0.01))
    assert r.p_value < 0.05 and r.verdict == "SAME"
    assert 1.0 < r.ci_low < r.ratio < r.ci_high < 1.05


def test_too_noisy_to_tell_is_ambiguous():
    rng = np.random.default_rng(5)
    r = compare_samples(noisy(rng, 1e-3, n=6, cv=0.5), noisy(rng, 1.1e-3, n=6, cv=0.5))
    assert r.verdict == "AMBIGUOUS"
    assert compare_samples([1e-3] * 3, [1e-3] * 3).verdict == "AMBIGUOUS"  # too few samples


def test_thresholds_parse_and_errors():
    t = Thresholds.parse("time=5%,energy=0.02,accuracy=1%,memory=20%")
    assert (t.time, t.energy, t.accuracy, t.memory) == (0.05, 0.02, 0.01, 0.20)
    assert Thresholds.parse(None) == Thresholds(time=0.10, energy=0.05, accuracy=0.01, memory=0.10)
    with pytest.raises(InvalidArgumentError, match="speed"):
        Thresholds.parse("speed=5%")
    with pytest.raises(InvalidArgumentError, match="time='fast'"):
        Thresholds.parse("time=fast")


def test_record_level_verdicts_and_other_metrics():
    base = record(times=samples(1e-3, seed=1), energy_j=2.0, peak_memory=1000, accuracy=0.98)
    same = record(times=samples(1e-3, seed=2), energy_j=2.0, peak_memory=1000, accuracy=0.98)
    c = compare_records(base, same)
    assert c.verdict == "SAME" and not c.regression and c.method == "mann_whitney+bootstrap"
    worse = record(times=samples(1e-3, seed=3), energy_j=2.5, peak_memory=1300, accuracy=0.95)
    c = compare_records(base, worse)
    assert c.verdict == "SAME" and c.regression
    by_metric = {m.metric: m.verdict for m in c.changes}
    assert by_metric == {"joules_per_iter": "WORSE", "peak_memory_bytes": "WORSE", "accuracy": "WORSE"}
    slower = record(times=samples(1.3e-3, seed=4))
    assert compare_records(base, slower).verdict == "SLOWER"


def test_invalid_baseline_and_candidate_are_not_comparable():
    ok = record(times=samples(1e-3, seed=1))
    bad = record(times=samples(1e-3, seed=2), status="invalid")
    c = compare_records(bad, ok)
    assert c.verdict == "NOT_COMPARABLE" and "baseline result is invalid" in c.reason
    c = compare_records(ok, bad)
    assert c.verdict == "NOT_COMPARABLE" and "candidate result is invalid" in c.reason


def test_without_samples_the_confidence_intervals_decide():
    base = record(times=samples(1e-3, seed=1), keep_samples=False)
    slower = record(times=samples(1.5e-3, seed=2), keep_samples=False)
    c = compare_records(base, slower)
    assert c.method == "ci_overlap" and c.verdict == "SLOWER"


def test_compare_runs_matches_by_name_and_lists_one_sided_cases():
    a = record("softmax", times=samples(1e-3, seed=1))
    b = record("layernorm", times=samples(2e-3, seed=2))
    c = record("rmsnorm", times=samples(2e-3, seed=3))
    base = run(a, b, run_id="20261123T050000Z-base00")
    cand = run(record("softmax", times=samples(1.4e-3, seed=4)), c, run_id="20261123T060000Z-cand00")
    cmp_ = compare_runs(base, cand)
    verdicts = {case.name.split("[")[0]: case for case in cmp_.cases}
    assert verdicts["softmax"].verdict == "SLOWER" and verdicts["softmax"].regression
    assert verdicts["rmsnorm"].reason == "not in the baseline"
    assert verdicts["layernorm"].reason == "not in the candidate run"
    assert cmp_.counts()["NOT_COMPARABLE"] == 2 and len(cmp_.regressions) == 1
    md = cmp_.to_markdown()
    assert "| softmax[cpu,v2,rows=1024,cols=1024,dtype=float32] | SLOWER |" in md
    json.dumps(cmp_.to_dict())  # JSON-ready


def test_different_environments_are_refused_or_flagged():
    base = run(record(times=samples(1e-3, seed=1)), env=environment(driver="550.54"))
    cand = run(record(times=samples(1e-3, seed=2)), env=environment(driver="560.10"), run_id="20261123T060000Z-c")
    with pytest.raises(EnvironmentMismatchError, match="driver_version"):
        compare_runs(base, cand)
    cmp_ = compare_runs(base, cand, allow_environment_mismatch=True)
    assert cmp_.environment_differences and all(c.flagged for c in cmp_.cases)
    # the host name is not part of the fingerprint
    moved = run(record(times=samples(1e-3, seed=3)), env=dict(environment(driver="550.54"), host="other"),
                run_id="20261123T070000Z-d")
    assert compare_runs(base, moved).environment_differences == []


def write(path: Path, doc: dict) -> str:
    write_json_atomic(path, doc)
    return str(path)


def test_cli_compare_exit_codes_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture):
    base = write(tmp_path / "base.json", run(record(times=samples(1e-3, seed=1))))
    same = write(tmp_path / "same.json", run(record(times=samples(1e-3, seed=2)), run_id="20261123T060000Z-s"))
    slow = write(tmp_path / "slow.json", run(record(times=samples(1.2e-3, seed=3)), run_id="20261123T070000Z-x"))
    assert main(["compare", base, same, "--fail-on-regression"]) == 0
    assert json.loads((tmp_path / "same.compare.json").read_text())["counts"]["SAME"] == 1   # beside CAND
    assert "| SAME |" in (tmp_path / "same.compare.md").read_text()
    assert main(["compare", base, slow]) == 0                        # regression reported, not failing
    assert main(["compare", base, slow, "--fail-on-regression", "--json", str(tmp_path / "c.json"),
                 "--md", str(tmp_path / "c.md")]) == 1
    out = capsys.readouterr().out
    assert "SLOWER" in out and "softmax[cpu,v2,rows=1024,cols=1024,dtype=float32]" in out
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["regressions"] == 1 and data["cases"][0]["verdict"] == "SLOWER"
    assert "SLOWER" in (tmp_path / "c.md").read_text()
    # a larger threshold makes the 20% slowdown acceptable
    assert main(["compare", base, slow, "--fail-on-regression", "--threshold", "time=30%"]) == 0
    assert main(["compare", base, slow, "--threshold", "time=lots"]) == 2
    assert "time='lots'" in capsys.readouterr().err


def test_cli_compare_refuses_other_machines_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture):
    base = write(tmp_path / "a.json", run(record(times=samples(1e-3, seed=1)), env=environment("Intel Xeon")))
    cand = write(tmp_path / "b.json", run(record(times=samples(1e-3, seed=2)), run_id="20261123T060000Z-b"))
    assert main(["compare", base, cand]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cpu_model" in err and "--allow-env-mismatch" in err
    assert main(["compare", base, cand, "--allow-env-mismatch"]) == 0
    assert "environments differ" in capsys.readouterr().out


def test_cli_compare_bad_files_name_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture):
    good = write(tmp_path / "good.json", run(record(times=samples(1e-3, seed=1))))
    truncated = tmp_path / "trunc.json"
    truncated.write_text(Path(good).read_text()[:200])
    assert main(["compare", good, str(truncated)]) == 2
    assert "trunc.json" in capsys.readouterr().err
    broken = json.loads(Path(good).read_text())
    broken["benchmarks"][0]["stats"]["median"] = "fast"
    write(tmp_path / "broken.json", broken)
    assert main(["compare", good, str(tmp_path / "broken.json")]) == 2
    err = capsys.readouterr().err
    assert "broken.json" in err and "benchmarks[0].stats.median" in err
    assert main(["compare", "no-such-baseline", good]) == 2
    assert "no-such-baseline" in capsys.readouterr().err
