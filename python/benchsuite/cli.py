"""The `benchsuite` command: info, list, run, report, compare, history, export, import.
Usage and input errors exit 2 with one line naming what is wrong; so does a file or folder
that cannot be written (path and the OS reason), found before the first case where it can be.
A finished run exits 0 (1 with --fail-on-error when a case failed, or --fail-on-regression when
a case regressed against its baseline; 1 when its results stopped being writable part-way);
Ctrl-C keeps every finished case and exits 130. A reader that goes away (`| head`) ends the
output quietly, never the measurement."""
from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from typing import Any, Sequence, TextIO

from .core.errors import (BenchsuiteError, ConfigError, EnvironmentMismatchError, HistoryError,
                          InvalidArgumentError, OutputError, ResultsFileError, RunWriteError)

__all__ = ["main"]


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + message; we want one line
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="benchsuite", description="Performance benchmarks for ML workloads "
                     "with a native C++/CUDA core.")
    sub = parser.add_subparsers(dest="command", metavar="{info,list,run,report,compare,history,export,import}",
                                parser_class=_Parser)
    sub.required = True

    info = sub.add_parser("info", help="what was built and what hardware is here")
    info.add_argument("--json", action="store_true", help="print the environment record as JSON")

    def selection(p: argparse.ArgumentParser) -> None:
        p.add_argument("-k", dest="pattern", metavar="PATTERN",
                       help="only cases whose name contains PATTERN (or matches it as a glob)")
        p.add_argument("--profile", default=None, metavar="NAME",
                       help="configs/NAME.yaml or a path to a profile (default: default)")
        p.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                       help="which devices to include (default: all in the profile)")

    lst = sub.add_parser("list", help="the cases a profile sweeps")
    selection(lst)
    lst.add_argument("--json", action="store_true", help="print the cases as JSON")

    run = sub.add_parser("run", help="measure the cases and write results")
    selection(run)
    run.add_argument("--out", default="bench-results", metavar="DIR",
                     help="folder for the results JSON and Markdown summary (default: bench-results)")
    run.add_argument("--json", dest="json_path", metavar="PATH",
                     help="write the results JSON here (an existing file is refused unless --force)")
    run.add_argument("--force", action="store_true",
                     help="replace an existing file at --json PATH (another run's results)")
    run.add_argument("--smoke", action="store_true", help="one short sample per case")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a profile key, e.g. --set harness.min_samples=20 (repeatable)")
    run.add_argument("--no-peers", action="store_true",
                     help="do not measure the peers (NumPy and PyTorch on CPU, PyTorch on CUDA) for speedup ratios")
    run.add_argument("--fail-on-error", action="store_true",
                     help="exit 1 when a case failed (wrong answer or error)")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--save-baseline", metavar="NAME", help="save this run's ok cases as baseline NAME "
                     "(under .benchsuite/, keyed by this machine's fingerprint)")
    run.add_argument("--compare", metavar="NAME|FILE", help="compare with a baseline name or results file; "
                     "a name with no baseline yet on this machine saves this run as it")
    comparison_options(run)
    run.add_argument("--no-history", action="store_true", help="do not add this run to .benchsuite/history.sqlite")

    report = sub.add_parser("report", help="summarise result files or folders as JSON, Markdown or HTML")
    report.add_argument("results", nargs="+", metavar="RESULTS", help="results files or folders of them")
    report.add_argument("--json", dest="json_out", metavar="OUT", help="write the report model as JSON")
    report.add_argument("--md", dest="md_out", metavar="OUT", help="write Markdown")
    report.add_argument("--html", dest="html_out", metavar="OUT", help="write one self-contained HTML page")
    report.add_argument("--targets", metavar="FILE", help="targets file (default: configs/targets.yaml; "
                        "'none' for no targets table)")
    report.add_argument("--history", nargs="?", const="", metavar="DB",
                        help="add each case's trend from the history (default .benchsuite/history.sqlite)")
    report.add_argument("--trend-metric", default="latency_p50_ms", metavar="METRIC",
                        help="metric of the trend plots (default latency_p50_ms)")

    cmp_ = sub.add_parser("compare", help="verdict per case: candidate run vs baseline")
    cmp_.add_argument("base", metavar="BASE", help="baseline results file, or a saved baseline's name")
    cmp_.add_argument("cand", metavar="CAND", help="candidate results file")
    comparison_options(cmp_)
    cmp_.add_argument("--json", dest="json_out", metavar="OUT",
                      help="where to write the comparison as JSON (default: CAND.compare.json beside CAND)")
    cmp_.add_argument("--md", dest="md_out", metavar="OUT",
                      help="where to write it as Markdown (default: CAND.compare.md)")

    hist = sub.add_parser("history", help="the run history (SQLite): list runs, show a case's trend")
    hist_sub = hist.add_subparsers(dest="history_command", metavar="{list,show,add}", parser_class=_Parser)
    hist_sub.required = True
    for p in (hist_list := hist_sub.add_parser("list", help="stored runs, newest first"),
              hist_show := hist_sub.add_parser("show", help="one case's metric across runs, with change points"),
              hist_add := hist_sub.add_parser("add", help="store result files (or folders) in the history")):
        p.add_argument("--db", metavar="PATH", help="history database (default .benchsuite/history.sqlite)")
    hist_list.add_argument("--limit", type=int, default=50, metavar="N", help="at most N runs (default 50)")
    hist_list.add_argument("--json", action="store_true")
    hist_show.add_argument("case", metavar="CASE", help="a case name, a glob, or a part of a name")
    hist_show.add_argument("--metric", default="latency_p50_ms", metavar="M",
                           help="latency_p50_ms (default), gb_per_s, tflop_per_s, speedup:numpy, ...")
    hist_show.add_argument("--json", action="store_true")
    hist_add.add_argument("results", nargs="+", metavar="RESULTS")

    export = sub.add_parser("export", help="write a run in another tool's format")
    export.add_argument("results", metavar="RESULTS", help="a benchsuite results file")
    export.add_argument("--format", choices=("pytest-benchmark",), default="pytest-benchmark")
    export.add_argument("-o", "--output", required=True, metavar="OUT")

    imp = sub.add_parser("import", help="turn another tool's results into a benchsuite results file")
    imp.add_argument("source", metavar="FILE", help="a pytest-benchmark JSON file (--benchmark-json)")
    imp.add_argument("-o", "--output", required=True, metavar="OUT")
    imp.add_argument("--history", action="store_true", help="also add the imported run to the history")
    return parser


def comparison_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", metavar="SPEC", default=None,
                   help="minimum practical effects, e.g. time=10%%,energy=5%%,accuracy=1%%,memory=10%% (the defaults)")
    p.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a case regressed")
    p.add_argument("--allow-env-mismatch", action="store_true",
                   help="compare runs from different machines or builds anyway (every verdict is flagged)")


def _profile(args: argparse.Namespace) -> Any:
    from .core.config import load_profile, parse_override
    overrides = dict(parse_override(text) for text in getattr(args, "set", []))
    return load_profile(args.profile or "default", overrides=overrides or None)


def _devices(args: argparse.Namespace, profile: Any) -> list[str]:
    return list(profile.devices) if args.device == "all" else [args.device]


def _cmd_info(args: argparse.Namespace) -> int:
    from .core.environment import capture_environment
    env = capture_environment()
    if args.json:
        print(json.dumps(env, indent=2))
        return 0
    build = env["build"]
    cuda = build["cuda"]
    print(f"benchsuite {build['version']} ({build['build_type']}, {build['cxx_compiler']}, "
          f"OpenMP {'on' if build['openmp']['enabled'] else 'off'})")
    if cuda.get("emulator"):
        built = "emulator (kernels compiled for the host and run on the CPU; timings are not a GPU's)"
    elif cuda["enabled"]:
        built = f"on, sm {','.join(cuda['architectures'])}, nvcc {cuda['compiler_version']}"
    else:
        built = "off"
    print(f"  CUDA build: {built}")
    cpu = env["cpu"]
    print(f"  CPU: {cpu['model']}, {cpu['logical_cores']} logical cores, "
          f"features {' '.join(cpu['features']) or '-'}, governor {cpu['governor'] or 'n/a'}")
    print(f"  memory: {env['memory']['total_bytes'] / 2**30:.1f} GiB")
    if env["gpus"]:
        for g in env["gpus"]:
            print(f"  GPU {g['index']}: {g['name']} (sm_{g['compute_capability'].replace('.', '')}, "
                  f"{g['sm_count']} SMs, {g['memory_total_bytes'] / 2**30:.0f} GiB, "
                  f"L2 {g['l2_cache_bytes'] / 2**20:.0f} MiB, driver {g['driver_version']}, "
                  f"CUDA runtime {g['cuda_runtime_version']})")
    else:
        print(f"  GPU: none usable ({env['cuda']['reason']})")
    from .harness.energy import energy_status
    for device in ["cpu"] + (["cuda:0"] if env["gpus"] else []):
        status = energy_status(device)
        print(f"  energy ({device}): " + (status["source"] if status["available"] else "unavailable")
              + (f" ({status['reason']})" if status.get("reason") else ""))
    git = env["git"]
    if git:
        print(f"  git: {git['commit'][:12]}{' (dirty)' if git['dirty'] else ''}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .harness.runner import expand_cases
    profile = _profile(args)
    specs = expand_cases(profile, _devices(args, profile), args.pattern)
    if args.json:
        print(json.dumps([s.to_dict() for s in specs], indent=2))
        return 0
    for s in specs:
        note = f"  {s.version_description}" if s.version_description else ""
        print(f"{s.name}{note}")
    print(f"{len(specs)} cases (profile {profile.name})", file=sys.stderr)
    return 0


def _format_result(result: Any) -> str:
    if result.stats is not None:
        tp = result.metrics.get("throughput", {})
        rate = ""
        if tp.get("tflop_per_s"):
            rate = f"  {tp['tflop_per_s'] * 1e3:.4g} GFLOP/s"
        elif tp.get("gb_per_s"):
            rate = f"  {tp['gb_per_s']:.4g} GB/s"
        peers = "".join(f"  {name} x{entry['speedup']:.2f}" for name, entry in
                        result.metrics.get("peers", {}).items() if entry.get("speedup"))
        return f"{result.status:7s} {result.stats.median * 1e3:10.4g} ms  ±{result.stats.noise:.1%}{rate}{peers}"
    return f"{result.status:7s} ({result.reason})"


def _check_run_outputs(args: argparse.Namespace, smoke: bool) -> Any:
    """Before the first case, everything that can be known about where the run will write:
    the results file or folder, the history, the baseline folder, and the --compare baseline
    (loaded and validated; returned, or None when it will be saved from this run)."""
    from .analysis.followup import check_follow_up
    from .core.environment import capture_environment
    from .core.results import check_output_file, check_writable_dir, existing_results
    if args.json_path:
        target = check_output_file(args.json_path, "results file")
        if target.suffix == ".md":
            raise UsageError(f"--json {args.json_path}: the Markdown summary is written beside the results with "
                             "the suffix .md; name the results file PATH.json")
        there = existing_results(target)
        if there and not args.force:
            raise OutputError(target, f"already holds {there}; not overwriting another run's results "
                              "(pass --force to replace it, or name another file)", errno=errno.EEXIST)
        check_output_file(target.with_suffix(".md"), "Markdown summary")
    else:
        check_writable_dir(args.out, "results folder")
    return check_follow_up(capture_environment(print_warnings=False), save_as=args.save_baseline,
                           compare_with=args.compare, history=not args.no_history, smoke=smoke)


def _cmd_run(args: argparse.Namespace) -> int:
    from .core.settings import HarnessSettings
    from .harness.runner import expand_cases, run_suite
    profile = _profile(args)
    specs = expand_cases(profile, _devices(args, profile), args.pattern)
    if not specs:
        raise UsageError(f"no cases match -k {args.pattern!r} in profile {profile.name}")
    settings = HarnessSettings.smoke_settings() if args.smoke else profile.harness
    from .analysis.compare import Thresholds, print_table
    thresholds = Thresholds.parse(args.threshold)
    baseline = _check_run_outputs(args, settings.smoke)
    show = not args.quiet
    progress = None
    if show and sys.stdout.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True)
    task = progress.add_task("starting", total=len(specs)) if progress else None
    measuring = False

    def before(i: int, n: int, spec: Any) -> None:
        nonlocal measuring
        measuring = True
        if progress:
            from rich.markup import escape  # case names hold [..] that rich would read as markup
            progress.update(task, description=escape(spec.name[:70]))

    def after(i: int, n: int, result: Any) -> None:
        if progress:
            progress.advance(task)
            progress.console.print(f"{result.name:70s} {_format_result(result)}", highlight=False,
                                   markup=False)
        elif show:
            print(f"[{i + 1}/{n}] {result.name} {_format_result(result)}", flush=True)

    try:
        if progress:
            progress.start()
        done = run_suite(specs, profile, args.out, settings=settings, suite="cli",
                         json_path=args.json_path, on_result=after, before_case=before,
                         peers=not args.no_peers, overwrite=args.force)
    except OutputError as exc:
        if measuring:
            exc.exit_status = 1     # found part-way: the cases written so far are kept
        elif exc.errno == errno.EEXIST:   # another run took the path since the check above
            raise OutputError(exc.path, f"{exc.reason} (pass --force to replace it)", exc.what, exc.errno) from None
        raise
    finally:
        if progress:
            progress.stop()
    counts = done.by_status()
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    print(f"results: {done.json_path}")
    print(f"summary: {done.markdown_path}")
    from .analysis.followup import follow_up
    try:
        outcome = follow_up(done.doc, done.json_path, save_as=args.save_baseline, compare_with=args.compare,
                            thresholds=thresholds,
                            allow_environment_mismatch=args.allow_env_mismatch, history=not args.no_history,
                            baseline=baseline)
    except OutputError as exc:      # the run is measured and written; only a follow-up failed
        exc.exit_status = 1
        raise
    if outcome.comparison is not None and not args.quiet:
        print_table(outcome.comparison)
    for line in outcome.messages:
        print(line)
    if args.fail_on_error and counts.get("failed"):
        return 1
    return 1 if args.fail_on_regression and outcome.regressions else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .analysis.report import build_report, collect_runs, render_markdown, write_report
    from .analysis.targets import default_targets_path, load_targets
    from .core.results import check_output_file
    runs = collect_runs(args.results)
    for out, what in ((args.json_out, "JSON report"), (args.md_out, "Markdown report"), (args.html_out, "HTML report")):
        if out:
            check_output_file(out, what)
    targets, source = None, None
    if args.targets != "none":
        path = args.targets or default_targets_path()
        if path is not None:
            targets, source = load_targets(path), str(path)
    history = None
    if args.history is not None:
        from .analysis.history import History, default_history_path
        db = args.history or default_history_path()
        if not os.path.exists(db):
            raise UsageError(f"--history {db}: no such history database")
        history = History(db)
    from .core.fields import metric
    metric(args.trend_metric)
    report = build_report(runs, targets, source, history, trend_metric=args.trend_metric)
    written = write_report(report, args.json_out, args.md_out, args.html_out)
    if not written:
        print(render_markdown(report), end="")
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .analysis.baseline import resolve_baseline
    from .analysis.compare import Thresholds, compare_runs, print_table
    from .core.results import check_output_file, load_results, write_json_atomic, write_text_atomic
    cand = load_results(args.cand)
    base = resolve_baseline(args.base, cand.environment)
    if base is None:
        raise UsageError(f"BASE={args.base!r}: no such file, and no baseline of that name for the candidate's "
                         "machine (see .benchsuite/baselines/)")
    stem = os.path.splitext(args.cand)[0]   # by default the verdicts go beside the candidate run
    json_out, md_out = args.json_out or f"{stem}.compare.json", args.md_out or f"{stem}.compare.md"
    for out in (json_out, md_out):
        check_output_file(out, "comparison")
    comparison = compare_runs(base.doc, cand.doc, Thresholds.parse(args.threshold),
                              allow_environment_mismatch=args.allow_env_mismatch,
                              baseline_label=args.base, candidate_label=args.cand)
    print_table(comparison)
    write_json_atomic(json_out, comparison.to_dict(), what="comparison")
    write_text_atomic(md_out, comparison.to_markdown(), what="comparison")
    print(f"wrote {json_out}\nwrote {md_out}")
    return 1 if args.fail_on_regression and comparison.regressions else 0


def _cmd_history(args: argparse.Namespace) -> int:
    from .analysis.history import History, default_history_path, level_changes
    db = args.db or default_history_path()
    if args.history_command == "list" and args.limit < 1:
        raise UsageError(f"--limit={args.limit}: must be at least 1")
    if args.history_command == "list" and not os.path.exists(db):   # no history yet: nothing stored
        if args.json:
            print("[]")
        print(f"0 runs in {db} (no history yet: runs are added by `benchsuite run` or "
              "`benchsuite history add RESULTS`)", file=sys.stderr)
        return 0
    if args.history_command == "show" and not os.path.exists(db):
        raise UsageError(f"history database {db} does not exist yet: runs are added by `benchsuite run` "
                         "or `benchsuite history add RESULTS`")
    store = History(db)
    if args.history_command == "add":
        from .analysis.report import collect_runs
        for run in collect_runs(args.results):
            added = store.add(run.doc, source=run.path)
            print(f"{run.run_id}: {'added' if added else 'already stored'} ({run.path})")
        return 0
    if args.history_command == "list":
        runs = store.runs(args.limit)
        if args.json:
            print(json.dumps(runs, indent=2))
            return 0
        for r in runs:
            commit = (r["git_commit"] or "-")[:10] + ("+" if r["git_dirty"] else "")
            print(f"{r['run_id']}  {r['timestamp_utc']}  {r['suite']:8s} {r['status']:11s} {r['cases']:5d} cases  "
                  f"profile {r['profile'] or '-':10s} git {commit:11s} machine {r['fingerprint']}")
        print(f"{len(runs)} runs in {store.path}", file=sys.stderr)
        return 0
    names = store.case_names(args.case)
    if not names:
        raise UsageError(f"CASE={args.case!r}: no stored case matches (see `benchsuite history list`)")
    shown = []
    for name in names:
        points = store.series(name, args.metric)        # every stored run, with or without a value
        valued, cps = level_changes(points)
        shown.append((name, points, {valued[i].run_id for i in cps}))
    if args.json:
        print(json.dumps([{"case": n, "metric": args.metric,
                           "change_points": [i for i, p in enumerate(pts) if p.run_id in starts],
                           "points": [p.__dict__ for p in pts]} for n, pts, starts in shown], indent=2))
        return 0
    for name, points, starts in shown:
        print(f"{name}  ({args.metric})")
        previous = None
        for p in points:
            value = "-" if p.value is None else f"{p.value:.5g}"
            mark = ""
            if p.run_id in starts and previous:
                mark = f"  <- change point ({p.value / previous - 1:+.1%})"
            print(f"  {p.timestamp_utc}  {p.run_id}  {(p.git_commit or '-')[:10]:10s}  {p.status:8s} {value:>12s}{mark}")
            if p.value:
                previous = p.value
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .core.interop import export_file
    from .core.results import check_output_file, load_results
    run = load_results(args.results)
    check_output_file(args.output, "export")
    export_file(run.doc, args.output)
    print(f"wrote {args.output} (pytest-benchmark format)")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from .core.interop import load_pytest_benchmark
    from .core.results import check_output_file, check_writable_dir, write_json_atomic
    doc = load_pytest_benchmark(args.source)
    check_output_file(args.output, "imported results")
    store = None
    if args.history:            # checked before anything is written
        from .analysis.history import History
        store = History()
        check_writable_dir(store.path.parent, "history database")
    write_json_atomic(args.output, doc, what="imported results")
    print(f"wrote {args.output} ({len(doc['benchmarks'])} benchmarks, run {doc['run_id']})")
    if store is not None:
        store.add(doc, source=str(args.output))
        print(f"history: run {doc['run_id']} added to {store.path}")
    return 0


class _QuietStream:
    """stdout or stderr that, once its reader has gone (`| head` closed the pipe: EPIPE) or it
    cannot be written (a full disk under `> file`), stops writing instead of raising: the
    output is a view of the work, and losing it must never stop a measurement."""

    def __init__(self, stream: TextIO | None, name: str) -> None:
        self._stream = stream
        self._name = name
        self.broken = stream is None           # started with the stream closed (`>&-`)

    def _failed(self, exc: OSError) -> None:
        self.broken = True
        if not isinstance(exc, BrokenPipeError) and self._name == "stdout":
            try:    # say once why the output stopped; a closed pipe needs no words
                sys.__stderr__.write(f"benchsuite: {self._name}: {os.strerror(exc.errno) if exc.errno else exc}; "
                                     "output stopped, the work goes on\n")
            except (OSError, AttributeError, ValueError):
                pass

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self._stream.write(text)
            except OSError as exc:
                self._failed(exc)
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except OSError as exc:
                self._failed(exc)

    def isatty(self) -> bool:
        return not self.broken and self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def silence(self) -> None:
        """After a broken pipe: point the file descriptor at /dev/null, so the interpreter's
        last flush of what is still buffered cannot print 'Exception ignored ... BrokenPipeError'
        (the Python documentation's advice for SIGPIPE)."""
        try:
            fd = self._stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
        except (OSError, AttributeError, ValueError):
            return
        try:
            os.dup2(devnull, fd)
        except OSError:
            pass
        finally:
            os.close(devnull)


def _fail(message: str) -> None:
    print(f"benchsuite: error: {message}", file=sys.stderr)


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
        commands = {"info": _cmd_info, "list": _cmd_list, "run": _cmd_run, "report": _cmd_report,
                    "compare": _cmd_compare, "history": _cmd_history, "export": _cmd_export, "import": _cmd_import}
        return commands[args.command](args)
    except UsageError as exc:
        _fail(str(exc))
        return 2
    except RunWriteError as exc:
        _fail(str(exc))
        for name in exc.not_written:
            print(f"benchsuite: not written: {name}", file=sys.stderr)
        return exc.exit_status
    except OutputError as exc:
        _fail(str(exc))
        return exc.exit_status
    except (ConfigError, InvalidArgumentError, ResultsFileError, EnvironmentMismatchError, HistoryError) as exc:
        _fail(str(exc))
        return 2
    except KeyboardInterrupt:
        print("benchsuite: interrupted; finished cases are kept in the results file", file=sys.stderr)
        return 130
    except BenchsuiteError as exc:
        _fail(str(exc))
        return 1
    except OSError as exc:   # a file system error no check foresaw: still one line, path and reason
        _fail(str(OutputError.from_os(exc, exit_status=1)))
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    out, err = _QuietStream(sys.stdout, "stdout"), _QuietStream(sys.stderr, "stderr")
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err   # type: ignore[assignment]
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = saved
        for stream in (out, err):
            if stream.broken and stream._stream is not None:
                stream.silence()


if __name__ == "__main__":
    sys.exit(main())
