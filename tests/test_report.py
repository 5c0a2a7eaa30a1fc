"""Reports: collecting files and folders, the summary, group and targets tables, bad inputs,
the CLI, and the HTML page as a browser shows it (headless Chromium)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from benchsuite.analysis.history import History
from benchsuite.analysis.report import build_report, collect_runs, render_html, render_markdown
from benchsuite.analysis.targets import evaluate_targets, load_targets
from benchsuite.cli import main
from benchsuite.core.errors import ConfigError, ResultsFileError
from benchsuite.core.results import write_json_atomic

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
    assert "invalid (noise), 2 rows: noise_above_limit: 0.12 > 0.05" in md and "## Environments" in md


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
    from benchsuite.analysis.targets import default_targets_path
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


# --------------------------------------------------------------------------- what a reader sees

def _capture_figures(monkeypatch: pytest.MonkeyPatch) -> list:
    """Keep each matplotlib figure the report draws (it is closed once saved as PNG)."""
    import benchsuite.analysis.report.plots as plots_mod
    figures: list = []
    real = plots_mod._figure_png

    def keep(fig):
        figures.append(fig)
        return real(fig)
    monkeypatch.setattr(plots_mod, "_figure_png", keep)
    return figures


def _legend_labels(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def many_versions_run(run_id: str, timestamp: str, versions: int = 6, cols: tuple = (1000, 1024)) -> dict:
    """softmax swept over rows with `versions` x len(cols) series (the user's 12)."""
    records = []
    for v in range(1, versions + 1):
        for c in cols:
            for rows in (256, 1024, 4096):
                records.append(record("softmax", {"rows": rows, "cols": c, "dtype": "float32"}, impl=f"v{v}",
                                      times=samples(rows / 1024 * 1e-3 * v, seed=rows + v), peers={"numpy": v / 3}))
    return run(*records, run_id=run_id, timestamp=timestamp)


def _report_of(tmp_path: Path, *docs: dict, **kwargs):
    folder = tmp_path / "runs"
    for i, doc in enumerate(docs):
        write_json_atomic(folder / f"{i}.json", doc)
    return build_report(collect_runs([folder]), **kwargs)


def test_latency_legend_lists_every_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from benchsuite.analysis.report import make_plots
    figures = _capture_figures(monkeypatch)
    report = _report_of(tmp_path, many_versions_run("20261123T050000Z-aaaaaa", "2026-11-23T05:00:00Z"))
    plots = make_plots(report)
    latency = [f for f, p in zip(figures, plots) if p.id.startswith("latency-softmax")]
    assert len(latency) == 1
    labels = _legend_labels(latency[0])
    want = {f"cpu v{v} cols={c}" for v in range(1, 7) for c in (1000, 1024)}   # dtype: in the title
    assert set(labels) == want and len(labels) == 12                 # none dropped, none repeated
    assert len(latency[0].axes[0].get_lines()) == 12
    # every series looks different: colour and marker together never repeat
    styles = {(str(line.get_color()), line.get_marker(), line.get_linestyle()) for line in latency[0].axes[0].get_lines()}
    assert len(styles) == 12
    assert "12 series" in next(p.caption for p in plots if p.id == "latency-softmax")


def test_many_series_are_split_into_parts_not_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import benchsuite.analysis.report.plots as plots_mod
    from benchsuite.analysis.report import make_plots
    figures = _capture_figures(monkeypatch)
    # small limits keep the test fast; the splitting is the same at the real ones (36 series, 50 bars)
    monkeypatch.setattr(plots_mod, "_MAX_SERIES", 8)
    monkeypatch.setattr(plots_mod, "_MAX_BARS", 20)
    report = _report_of(tmp_path, many_versions_run("20261123T050000Z-aaaaaa", "2026-11-23T05:00:00Z"),
                        many_versions_run("20261123T060000Z-bbbbbb", "2026-11-23T06:00:00Z"))
    plots = make_plots(report)
    parts = [(f, p) for f, p in zip(figures, plots) if p.id.startswith("latency-softmax")]
    assert len(parts) >= 3 and parts[0][1].id == "latency-softmax"
    labels = [label for f, _ in parts for label in _legend_labels(f)]
    assert len(labels) == len(set(labels)) == 6 * 2 * 2                  # 24 series, each in one legend
    assert all("part" in p.title for _, p in parts)
    # the runs of one series stay in the same part
    for f, _ in parts:
        bases = [label.rsplit(" @", 1)[0] for label in _legend_labels(f)]
        assert all(bases.count(b) == 2 for b in bases)
    # the bar plots are split the same way: every speedup (36 cases x 2 runs) has its bar, once
    speed = [(f, p) for f, p in zip(figures, plots) if p.id.startswith("speedup")]
    assert len(speed) >= 4 and speed[0][1].id == "speedup"
    bars = [t.get_text() for f, _ in speed for t in f.axes[0].get_yticklabels()]
    assert len(bars) == len(set(bars)) == 6 * 2 * 3 * 2
    assert all(len(f.axes[0].get_yticklabels()) <= 20 for f, _ in speed)
    # parts share one scale, so bars compare across them
    assert len({f.axes[0].get_xlim() for f, _ in speed}) == 1


def test_bar_colours_have_a_key(results_dir: Path, monkeypatch: pytest.MonkeyPatch):
    from matplotlib.colors import to_hex
    from benchsuite.analysis.report import make_plots
    figures = _capture_figures(monkeypatch)
    plots = make_plots(build_report(collect_runs([results_dir])))
    checked = set()
    for fig, plot in zip(figures, plots):
        if not (plot.id.startswith("speedup") or plot.id.startswith("roofline")):
            continue
        ax = fig.axes[0]
        bar_colours = {to_hex(b.get_facecolor()) for b in ax.patches}
        legend = ax.get_legend()
        assert legend is not None, plot.id
        keyed = {to_hex(h.get_facecolor()) for h in legend.legend_handles if hasattr(h, "get_facecolor")}
        assert bar_colours <= keyed, (plot.id, bar_colours, keyed)   # every colour drawn is in the key
        checked.add(plot.id)
        texts = [t.get_text() for t in legend.get_texts()]
        if plot.id == "speedup":
            # the matmul is slower than NumPy (0.9x): a red bar, and the key says what red means
            assert "ours slower (< 1x)" in texts and "ours faster (>= 1x)" in texts
            assert any("1x" in t for t in texts)                      # the dashed line too
        else:
            assert {"of spec FLOP/s", "of measured copy bandwidth"} <= set(texts)
    assert checked == {"speedup", "roofline"}


def test_two_runs_label_every_series_and_bar_with_its_run(results_dir: Path, monkeypatch: pytest.MonkeyPatch):
    from benchsuite.analysis.report import make_plots
    figures = _capture_figures(monkeypatch)
    report = build_report(collect_runs([results_dir]))
    plots = make_plots(report)
    by_id = dict(zip((p.id for p in plots), figures))
    bars = [t.get_text() for t in by_id["speedup"].axes[0].get_yticklabels()]
    assert len(bars) == len(set(bars)) == 14                         # 7 cases with a peer, in 2 runs
    assert all(b.endswith((" @aaaaaa", " @bbbbbb")) for b in bars)
    # the two runs of one case sit next to each other
    assert bars[0].rsplit(" @", 1)[0] == bars[1].rsplit(" @", 1)[0]
    roof = [t.get_text() for t in by_id["roofline"].axes[0].get_yticklabels()]
    assert len(roof) == len(set(roof)) and all(r.endswith((" @aaaaaa", " @bbbbbb")) for r in roof)
    series = _legend_labels(by_id["latency-softmax"])
    assert len(series) == len(set(series)) == 4 and all(s.endswith((" @aaaaaa", " @bbbbbb")) for s in series)
    html = render_html(report, plots)
    assert "(@aaaaaa)" in html and "(@bbbbbb)" in html                 # the summary says which run is which
    # one run: no run tags anywhere
    figures.clear()
    single = build_report(collect_runs([results_dir / "a.json"]))
    plots = make_plots(single)
    by_id = dict(zip((p.id for p in plots), figures))
    assert not any("@" in t.get_text() for t in by_id["speedup"].axes[0].get_yticklabels())


def cuda_skips_run() -> dict:
    """A CPU run that also swept CUDA on a machine without it: the same long reason on every
    CUDA case, plus one failure with its own text."""
    records = [record("attention_backward", {"batch": 1, "heads": 4, "seq_len": 256, "head_dim": 64,
                                             "causal": True, "dtype": "bfloat16"}, impl=f"v{v}")
               for v in (1, 2)]
    for case in ("softmax", "layernorm", "rmsnorm", "gelu", "add", "matmul"):
        rec = skipped(case)
        rec["reasons"] = [f"{case}: CUDA is unavailable (no CUDA driver (or driver older than the CUDA runtime))"]
        records.append(rec)
    failed = record("concat", {"parts": 4, "rows": 256, "cols": 1024, "dim": 0, "dtype": "float32"}, status="failed")
    failed.update(reason="error", reasons=[], error="RuntimeError: something specific went wrong in concat")
    records.append(failed)
    return run(*records)


def test_group_table_status_cells_are_short_and_reasons_are_said_once(tmp_path: Path):
    report = _report_of(tmp_path, cuda_skips_run())
    html = render_html(report, plots=[])
    long_text = "CUDA is unavailable (no CUDA driver (or driver older than the CUDA runtime))"
    # visible once (the note above the table); the cells keep the code and the text as a tooltip
    visible = html.replace(f'title="{long_text}"', "")
    assert visible.count(long_text) == 1 and html.count(f'title="{long_text}"') == 6
    assert "<td class=\"text status\" data-sort=\"skipped\" title=" in html
    assert ">skipped (no_cuda)</td>" in html
    assert "6 rows: " + long_text in html
    md = render_markdown(report)
    assert md.count(long_text) == 1 and md.count("| skipped (no_cuda) |") == 6
    # a failure of its own keeps its text, named by its case, not lost in a tooltip only
    assert "RuntimeError: something specific went wrong in concat" in visible


def test_case_names_wrap_only_between_parameters(tmp_path: Path):
    import re
    from benchsuite.analysis.report.html import _CSS
    report = _report_of(tmp_path, cuda_skips_run())
    html = render_html(report, plots=[])
    name_rule = re.search(r"td\.name\{([^}]*)\}", _CSS).group(1)
    assert "break-all" not in _CSS and "word-break:normal" in name_rule and "overflow-wrap:normal" in name_rule
    cells = re.findall(r'<td class="text name"[^>]*>(.*?)</td>', html)
    assert cells
    for cell in cells:
        pieces = cell.split("<wbr>")
        assert all(p.endswith((",", "[")) for p in pieces[:-1]), cell   # break points: after , and [ only
    assert "attention_backward[<wbr>cpu,<wbr>v1,<wbr>batch=1,<wbr>heads=4,<wbr>seq_len=256," in html


def test_not_measured_targets_say_which_profile_measures_them(tmp_path: Path):
    from benchsuite.analysis.targets import default_targets_path, profiles_measuring
    from benchsuite.core.config import load_profile
    targets = load_targets(default_targets_path())
    report = _report_of(tmp_path, sweep_run("20261123T050000Z-aaaaaa", "2026-11-23T05:00:00Z"),
                        targets=targets, targets_source="targets.yaml")
    by_name = {t.target.name: t for t in report.targets}
    gemm = by_name["own fp32 GEMM >= 0.7x NumPy BLAS (CPU)"]
    assert gemm.status == "not_measured" and gemm.measured_by[0] == "cpu_targets"
    assert {"cpu_targets", "quick", "default"} <= set(gemm.measured_by)
    assert gemm.hint().startswith("run --profile cpu_targets")
    cuda = by_name["fused attention bf16 causal >= 0.8x PyTorch SDPA"]
    assert cuda.measured_by == ["default"] and cuda.hint() == "run --profile default on a CUDA device"
    html = render_html(report, plots=[])
    md = render_markdown(report)
    for text in (html, md):
        assert "not measured — run --profile cpu_targets" in text
    assert report.to_dict()["targets"][0]["hint"].startswith("run --profile cpu_targets")
    # a matching result that was not ok is named, with why
    bad = record("matmul", {"m": 1024, "n": 1024, "k": 1024, "batch": 1, "dtype": "float32"}, status="invalid",
                 peers={"numpy": 0.8})
    bad["reasons"] = ["noise_above_limit: 0.29 > 0.1"]
    result = evaluate_targets([by_name[gemm.target.name].target], [("r", [bad])],
                              [load_profile("quick", env={})])[0]
    assert result.status == "not_measured"
    assert result.hint() == ("no ok result: matmul[cpu,v2,m=1024,n=1024,k=1024,batch=1,dtype=float32] invalid "
                             "(noise_above_limit: 0.29 > 0.1); run --profile quick")
    # a shape no profile sweeps says so; a block limited to another device does not count
    (tmp_path / "p.yaml").write_text("name: p\ndevices: [cpu, cuda]\nsweeps:\n"
                                     "  softmax: [{rows: [4096], cols: [4096], dtype: [float32], device: cuda}]\n")
    cpu_softmax = by_name["softmax >= 2x NumPy (CPU)"].target
    assert profiles_measuring(cpu_softmax, [load_profile(tmp_path / "p.yaml", env={})]) == []
    lone = evaluate_targets([cpu_softmax], [], [])[0]
    assert lone.hint() == "no known profile sweeps this shape"


def test_quick_profile_measures_each_cpu_target():
    """After `benchsuite run --profile quick` no CPU target is 'not measured' for want of a
    case: the quick sweep expands to a case every CPU target matches."""
    from benchsuite.analysis.targets import default_targets_path
    from benchsuite.core.config import load_profile
    from benchsuite.harness.runner import expand_cases
    quick = load_profile("quick", env={})
    specs = expand_cases(quick, ["cpu"])
    # The kernel library's CPU targets; the GEMM-at-every-shape ones take the cpu_kernels sweep.
    kernels = expand_cases(load_profile("cpu_kernels", env={}), ["cpu"])
    cpu_targets = [t for t in load_targets(default_targets_path()) if t.device == "cpu"]
    assert len(cpu_targets) >= 3

    def fake(specs):
        return [{"case": s.case, "device": s.device, "implementation": s.version, "params": s.params} for s in specs]
    for t in cpu_targets:
        measured = any(t.matches(r) for r in fake(specs))
        assert measured or any(t.matches(r) for r in fake(kernels)), f"no profile measures {t.name}"
    assert sum(any(t.matches(r) for r in fake(specs)) for t in cpu_targets) >= 3
    # and it stays quick: one target shape per family, on the CPU only
    big = [s for s in specs if s.params.get("rows") == 4096 or s.params.get("m") == 1024]
    assert {s.case for s in big} == {"softmax", "layernorm", "matmul"}
    assert not [s for s in expand_cases(quick, ["cuda"]) if s.params.get("rows") == 4096 or s.params.get("m") == 1024]


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


_LINE_BREAKS_JS = """
const bad = [];
let wrapped = 0;
for (const td of document.querySelectorAll(arguments[0])) {
  const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
  let prevTop = null, prevChar = null, node;
  while ((node = walker.nextNode())) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (prevTop !== null && rect.top > prevTop + 2) {
        wrapped++;
        if (prevChar !== ',' && prevChar !== '[') bad.push(td.textContent + ' after ' + prevChar);
      }
      prevTop = rect.top;
      prevChar = node.data[i];
    }
  }
}
return [wrapped, bad];
"""


def test_html_case_names_wrap_between_parameters_in_chromium(tmp_path: Path):
    """In a narrow window the long case names wrap, and only after a comma or `[`; the CUDA
    skips show their short code, the full reason in the tooltip and once above the table."""
    report = _report_of(tmp_path, cuda_skips_run())
    page = tmp_path / "narrow.html"
    page.write_text(render_html(report, plots=[]))
    from selenium.webdriver.common.by import By
    driver = _browser()
    try:
        driver.set_window_size(760, 1000)
        driver.get(page.as_uri())
        wrapped, bad = driver.execute_script(_LINE_BREAKS_JS, "td.name")
        assert wrapped > 0, "no case name wrapped: the test did not exercise wrapping"
        assert bad == [], bad
        cell = driver.find_element(By.CSS_SELECTOR, "#group-table-0 tr.status-skipped td.status")
        assert cell.text == "skipped (no_cuda)"
        assert cell.get_attribute("title").startswith("CUDA is unavailable (no CUDA driver")
        notes = driver.find_element(By.ID, "group-notes-0")
        assert notes.is_displayed() and "6 rows: CUDA is unavailable" in notes.text
        # the case column is wider than the status column: the reason no longer takes the room
        name_w = driver.find_element(By.CSS_SELECTOR, "#group-table-0 td.name").size["width"]
        assert name_w > cell.size["width"]
    finally:
        driver.quit()
