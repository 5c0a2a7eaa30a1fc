"""What a native case reports beyond time: its phases (build, compile, first call) before
the steady state, the typed config it ran, and figures of its own (metrics.reported); in
the record (schema 1.3), the Markdown summary and the HTML report. Also the ratio to the
best peer, which both lead with."""
from __future__ import annotations

import pytest

import benchsuite as bs
from benchsuite.analysis.report import build_report, render_html
from benchsuite.analysis.summary import best_peer, render_markdown
from benchsuite.core.results import RunResults

from run_builders import run as run_doc


def _quick() -> bs.HarnessSettings:
    return bs.HarnessSettings(warmup=1, min_samples=3, max_samples=5, min_time=0.0, max_noise=None,
                              min_sample_time=1e-5)


def _churn(scenario: str, pool: bool = True) -> bs.Result:
    return bs.measure("pool_churn", scenario=scenario, pool=pool, buffers=20, bytes=4096, settings=_quick())


def test_a_typed_config_chosen_by_name_is_recorded_with_its_fields():
    r = _churn("mixed")
    assert r.status == "ok", r.error
    assert r.config == {"scenario": "mixed", "size_factors": "0.25,1,4,0.5,2"}
    assert r.params["scenario"] == "mixed"
    uniform = _churn("uniform")
    assert uniform.config["size_factors"] == "1"


def test_an_unknown_config_name_is_an_argument_error_listing_the_choices():
    with pytest.raises(bs.InvalidArgumentError, match=r"scenario='mixd' is not one of: uniform, mixed"):
        bs.measure("pool_churn", scenario="mixd", settings=_quick())
    choices = next(p["choices"] for f in bs._core.case_families() if f["name"] == "pool_churn"
                   for p in f["params"] if p["name"] == "scenario")
    assert choices == ["uniform", "mixed"]


def test_a_profile_sweep_with_an_unknown_choice_is_a_config_error(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\ndevices: [cpu]\nsweeps:\n  pool_churn: {scenario: [uniform, mixd]}\n")
    with pytest.raises(bs.ConfigError) as ei:
        bs.load_profile(str(profile))
    assert "sweeps.pool_churn.scenario" in str(ei.value) and "did you mean 'mixed'?" in str(ei.value)


def test_a_case_reports_its_own_figures_with_unit_and_direction():
    r = _churn("uniform", pool=True)
    hit = r.metrics["reported"]["pool_hit_rate"]
    assert hit["unit"] == "%" and hit["better"] == "higher" and 90 < hit["value"] <= 100
    off = _churn("uniform", pool=False)
    assert "pool_hit_rate" not in off.metrics.get("reported", {})  # no pool: nothing to report
    wait = bs.measure("busy_wait", nanoseconds=50_000, settings=_quick())
    assert wait.metrics["reported"]["expected_time"] == {"value": pytest.approx(5e-5), "unit": "s", "better": None,
                                                         "description": "the busy-wait's set length"}


def test_phases_time_build_compile_and_first_call_apart_from_the_steady_state():
    r = bs.measure("busy_wait", nanoseconds=200_000, settings=_quick())
    p = r.phases
    assert set(p) == {"build_s", "compile_s", "first_call_s", "steady_state_s"}
    assert p["steady_state_s"] == r.stats.median
    assert p["first_call_s"] >= 2e-4 * 0.9  # the first call waits as long as every call
    assert 0 <= p["build_s"] < 0.1 and 0 <= p["compile_s"] < 0.1


def test_records_carry_phases_config_and_reported_and_validate(tmp_path):
    r = _churn("mixed")
    rec = r.to_dict()
    assert rec["config"]["scenario"] == "mixed" and rec["phases"]["first_call_s"] >= 0
    assert rec["metrics"]["reported"]["pool_hit_rate"]["unit"] == "%"
    doc = run_doc(rec)  # validates against the schema
    md = render_markdown(doc)
    assert "## Phases, configs and reported figures" in md
    section = md.split("## Phases, configs and reported figures", 1)[1]
    row = next(line for line in section.splitlines() if line.startswith(f"| `{rec['name']}`"))
    assert "scenario=mixed" in row and "pool_hit_rate" in row and " %" in row and "first call" in row
    html = render_html(build_report([RunResults(path=None, doc=doc)]))
    assert ">reported<" in html and "pool_hit_rate" in html and "scenario=mixed" in html


def test_summary_and_report_lead_with_the_ratio_to_the_best_peer():
    r = bs.measure("busy_wait", nanoseconds=20_000, settings=_quick())
    rec = r.to_dict()
    rec["metrics"]["peers"] = {
        "numpy": {"status": "ok", "reason": None, "median_s": 3e-5, "speedup": 1.5},
        "torch": {"status": "ok", "reason": None, "median_s": 1e-5, "speedup": 0.5},
        "other": {"status": "skipped", "reason": "peer_unsupported: no equivalent", "median_s": None, "speedup": None},
    }
    assert best_peer(rec) == ("torch", 0.5)
    doc = run_doc(rec)
    row = next(line for line in render_markdown(doc).splitlines() if line.startswith(f"| `{rec['name']}`"))
    assert "best torch ×0.50 · numpy ×1.50 · other: peer_unsupported" in row
    html = render_html(build_report([RunResults(path=None, doc=doc)]))
    assert "vs best peer" in html and "0.50x (torch)" in html
