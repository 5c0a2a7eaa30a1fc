"""Reports: collecting files and folders, the summary, group and targets tables, bad inputs,
the CLI, and the HTML page as a browser shows it (headless Chromium)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from benchsuite.cli import main
from benchsuite.errors import ConfigError, ResultsFileError
from benchsuite.history import History
from benchsuite.report import build_report, collect_runs, render_html, render_markdown
from benchsuite.results import write_json_atomic
from benchsuite.targets import evaluate_targets, load_targets

from run_builders import record, run, samples, skipped

TARGETS = """
targets:
  - name: softmax fast enough
    case: softmax
    device: cpu
    params: {rows: 4096}
    metric: gb_per_s
    op: ">="
    value: 5
  - name: softmax beats numpy
    case: softmax
    implementation: [v2]
    metric: speedup:numpy
    op: ">="
    value: 5
  - {case: attention, metric: tflop_per_s, op: ">=", value: 1}
"""


def sweep_run(run_id: str, timestamp: str, scale: float = 1.0) -> dict:
    """A run with a swept softmax (rows), two versions, a GEMM with a roofline fraction, a copy
    case, a skipped CUDA case and an invalid one."""
    records = []
    for impl, speed in (("v1", 4.0), ("v2", 1.0)):
        for rows in (256, 1024, 4096):
            t = rows / 1024 * 1e-3 * speed * scale
            records.append(record("softmax", {"rows": rows, "cols": 1024, "dtype": "float32"}, impl=impl,
                                  times=samples(t, seed=rows), bytes_moved=rows * 1024 * 8,
                                  peers={"numpy": 6.0 / speed}))
    records.append(record("matmul", {"m": 512, "n": 512, "k": 512, "dtype": "float32"}, times=samples(2e-3),
                          flops=2 * 512**3, bytes_moved=None, fraction=0.8, peers={"numpy": 0.9}))
    records.append(record("copy", {"n": 1 << 24}, impl="v1", times=samples(5e-3), bytes_moved=2 * 4 * (1 << 24)))
    records.append(skipped("softmax"))
    records.append(record("layernorm", times=samples(1e-3), status="invalid"))
    return run(*records, run_id=run_id, timestamp=timestamp)


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    write_json_atomic(folder / "a.json", sweep_run("20261123T050000Z-aaaaaa", "2026-11-23T05:00:00Z"))
    write_json_atomic(folder / "b.json", sweep_run("20261123T060000Z-bbbbbb", "2026-11-23T06:00:00Z", 1.1))
    # a comparison written beside the runs is not a run and is skipped when scanning the folder
    write_json_atomic(folder / "b.compare.json", {"kind": "benchsuite-comparison", "cases": []})
    return folder


def test_collect_folder_and_files_in_time_order(results_dir: Path):
    runs = collect_runs([results_dir])
    assert [r.run_id for r in runs] == ["20261123T050000Z-aaaaaa", "20261123T060000Z-bbbbbb"]
    again = collect_runs([results_dir / "b.json", results_dir])       # named twice: read once
    assert len(again) == 2


@pytest.mark.parametrize("content, field, words", [
    ('{"schema_version": "1.0", "run_id": ', None, "invalid JSON"),
    ("", None, "empty"),
    ('{"schema_version": "0.1"}', "schema_version", "not supported"),
])
def test_bad_files_name_the_file_and_field(tmp_path: Path, content: str, field: str | None, words: str):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(ResultsFileError) as exc:
        collect_runs([bad])
    assert str(bad) in str(exc.value) and words in str(exc.value)
    assert exc.value.field == field


def test_hand_broken_record_names_its_field(results_dir: Path):
    doc = json.loads((results_dir / "a.json").read_text())
    doc["benchmarks"][2]["metrics"]["latency_p50_ms"] = -1
    (results_dir / "a.json").write_text(json.dumps(doc))
    with pytest.raises(ResultsFileError) as exc:
        collect_runs([results_dir])
    assert exc.value.field == "benchmarks[2].metrics.latency_p50_ms" and "a.json" in str(exc.value)


def test_summary_groups_and_targets(results_dir: Path, tmp_path: Path):
    (tmp_path / "targets.yaml").write_text(TARGETS)
    targets = load_targets(tmp_path / "targets.yaml")
    report = build_report(collect_runs([results_dir]), targets, "targets.yaml")
    s = report.summary()
    assert s["runs"] == 2 and s["cases"] == 20
    assert s["statuses"] == {"ok": 16, "skipped": 2, "failed": 0, "invalid": 2}
    assert s["devices"] == ["cpu", "cuda:0"] and s["groups"] == ["ops"]
    by_name = {t.target.name: t for t in report.targets}
    fast = by_name["softmax fast enough"]
    # best softmax at rows=4096 is v2 in the first run: 4096*1024*8 bytes in 4 ms
    assert fast.status == "pass" and fast.current == pytest.approx(4096 * 1024 * 8 / 4e-3 / 1e9, rel=0.05)
    assert fast.run_id == "20261123T050000Z-aaaaaa" and "v2" in fast.record
    assert by_name["softmax beats numpy"].status == "pass"
    assert by_name["attention tflop_per_s >= 1"].status == "not_measured"
    failing = evaluate_targets(load_targets(tmp_path / "targets.yaml")[:1], [("r", [record(
        "softmax", {"rows": 4096}, times=samples(1.0), bytes_moved=1e6)])])
    assert failing[0].status == "fail"
    md = render_markdown(report)
    assert "| target | scope | bound | current | result | best record |" in md
    assert "| softmax fast enough | softmax cpu rows=4096 | gb_per_s >= 5 |" in md
    assert "## ops" in md and "vs numpy" in md and "6.00x" in md
    assert "of measured copy bandwidth" in md and "80% of spec FLOP/s" in md
    assert "invalid (noise_above_limit" in md and "## Environments" in md


@pytest.mark.parametrize("text, key", [
    ("targets: [{case: softmax, metric: speed, op: '>=', value: 1}]", "targets[0].metric"),
    ("targets: [{case: softmax, metric: gb_per_s, op: '=>', value: 1}]", "targets[0].op"),
    ("targets: [{case: softmax, metric: gb_per_s, op: '>='}]", "targets[0].value"),
    ("targets: [{case: softmax, metric: gb_per_s, op: '>=', value: 1, colour: red}]", "targets[0].colour"),
    ("nothing: here", "targets"),
])
def test_targets_file_errors_name_the_key(tmp_path: Path, text: str, key: str):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_targets(path)
    assert exc.value.key == key and str(path) in str(exc.value)


def test_bundled_targets_file_loads():
    from benchsuite.targets import default_targets_path
    path = default_targets_path()
    assert path is not None and len(load_targets(path)) >= 8


def test_cli_report_writes_every_format(results_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "out"
    assert main(["report", str(results_dir), "--json", str(out / "r.json"), "--md", str(out / "r.md"),
                 "--html", str(out / "r.html")]) == 0
    printed = capsys.readouterr().out
    assert printed.count("wrote") == 3
    data = json.loads((out / "r.json").read_text())
    assert data["kind"] == "benchsuite-report" and data["summary"]["cases"] == 20
    assert len(data["environments"]) == 2 and data["targets"]          # bundled targets, not measured here
    assert all(t["status"] == "not_measured" for t in data["targets"])
    html = (out / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "src='data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html            # self-contained
    assert main(["report", str(results_dir), "--targets", "none"]) == 0
    assert "## ops" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no such results file" in capsys.readouterr().err


def test_report_with_history_adds_trends(results_dir: Path, tmp_path: Path):
    history = History(tmp_path / "h.sqlite")
    for run_ in collect_runs([results_dir]):
        history.add(run_.doc)
    report = build_report(collect_runs([results_dir]), history=history)
    assert report.trends and all(len(t["points"]) == 2 for t in report.trends.values())
    assert "## Trends" in render_markdown(report)


def _browser():
    if os.environ.get("BENCHSUITE_REQUIRE_BROWSER"):
        import selenium  # noqa: F401  (CI installs the [test] extra: a missing selenium is an error there)
    pytest.importorskip("selenium", reason="selenium is in the [test] extra")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        why = "headless Chromium not installed (apt-get install chromium chromium-driver; .ci/run does)"
        if os.environ.get("BENCHSUITE_REQUIRE_BROWSER"):
            pytest.fail(why)
        pytest.skip(why)
    options = Options()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def test_html_report_in_headless_chromium(results_dir: Path, tmp_path: Path):
    history = History(tmp_path / "h.sqlite")
    for run_ in collect_runs([results_dir]):
        history.add(run_.doc)
    (tmp_path / "targets.yaml").write_text(TARGETS)
    report = build_report(collect_runs([results_dir]), load_targets(tmp_path / "targets.yaml"), "targets.yaml",
                          history=history)
    page = tmp_path / "report.html"
    page.write_text(render_html(report))
    from selenium.webdriver.common.by import By
    driver = _browser()
    try:
        driver.get(page.as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
        figures = driver.find_elements(By.CSS_SELECTOR, "figure.plot")
        ids = {f.get_attribute("id") for f in figures}
        assert {"plot-latency-softmax", "plot-roofline", "plot-speedup"} <= ids
        assert any(i.startswith("plot-trend-") for i in ids)
        for fig in figures:
            img = fig.find_element(By.TAG_NAME, "img")
            driver.execute_script("arguments[0].scrollIntoView();", img)
            loaded = driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth;", img)
            assert loaded and loaded > 200, f"{fig.get_attribute('id')} did not load"
            assert img.is_displayed() and img.size["width"] > 200 and img.size["height"] > 80
        # sortable tables: sorting the p50 column of the first group puts the rows in order
        table = driver.find_element(By.ID, "group-table-0")
        headers = table.find_elements(By.TAG_NAME, "th")
        p50 = next(i for i, h in enumerate(headers) if h.text.startswith("p50 ms"))
        headers[p50].click()
        values = driver.execute_script(
            "return Array.from(arguments[0].tBodies[0].rows).map(r => r.cells[arguments[1]].dataset.sort)"
            ".filter(v => v !== '').map(Number);", table, p50)
        assert values == sorted(values) and len(values) >= 18
        headers[p50].click()
        values = driver.execute_script(
            "return Array.from(arguments[0].tBodies[0].rows).map(r => r.cells[arguments[1]].dataset.sort)"
            ".filter(v => v !== '').map(Number);", table, p50)
        assert values == sorted(values, reverse=True)
        targets = driver.find_element(By.ID, "targets-table").text
        assert "pass" in targets and "not measured" in targets
    finally:
        driver.quit()
