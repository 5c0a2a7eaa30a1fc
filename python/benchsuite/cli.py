"""The `benchsuite` command: info, list, run. Usage and input errors exit 2 with one
line naming what is wrong; a finished run exits 0 (1 with --fail-on-error when a case
failed); Ctrl-C keeps every finished case and exits 130."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from .errors import BenchsuiteError, ConfigError, InvalidArgumentError, ResultsFileError

__all__ = ["main"]


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + message; we want one line
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="benchsuite", description="Performance benchmarks for ML workloads "
                     "with a native C++/CUDA core.")
    sub = parser.add_subparsers(dest="command", metavar="{info,list,run}", parser_class=_Parser)
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
    run.add_argument("--json", dest="json_path", metavar="PATH", help="write the results JSON here")
    run.add_argument("--smoke", action="store_true", help="one short sample per case")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a profile key, e.g. --set harness.min_samples=20 (repeatable)")
    run.add_argument("--no-peers", action="store_true",
                     help="do not measure the peers (NumPy on CPU, PyTorch on CUDA) for speedup ratios")
    run.add_argument("--fail-on-error", action="store_true",
                     help="exit 1 when a case failed (wrong answer or error)")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _profile(args: argparse.Namespace) -> Any:
    from .config import load_profile, parse_override
    overrides = dict(parse_override(text) for text in getattr(args, "set", []))
    return load_profile(args.profile or "default", overrides=overrides or None)


def _devices(args: argparse.Namespace, profile: Any) -> list[str]:
    return list(profile.devices) if args.device == "all" else [args.device]


def _cmd_info(args: argparse.Namespace) -> int:
    from .environment import capture_environment
    env = capture_environment()
    if args.json:
        print(json.dumps(env, indent=2))
        return 0
    build = env["build"]
    cuda = build["cuda"]
    print(f"benchsuite {build['version']} ({build['build_type']}, {build['cxx_compiler']}, "
          f"OpenMP {'on' if build['openmp']['enabled'] else 'off'})")
    print(f"  CUDA build: {'on, sm ' + ','.join(cuda['architectures']) + ', nvcc ' + str(cuda['compiler_version']) if cuda['enabled'] else 'off'}")
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
    git = env["git"]
    if git:
        print(f"  git: {git['commit'][:12]}{' (dirty)' if git['dirty'] else ''}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .runner import expand_cases
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


def _cmd_run(args: argparse.Namespace) -> int:
    from .config import HarnessSettings
    from .runner import expand_cases, run_suite
    profile = _profile(args)
    specs = expand_cases(profile, _devices(args, profile), args.pattern)
    if not specs:
        raise UsageError(f"no cases match -k {args.pattern!r} in profile {profile.name}")
    settings = HarnessSettings.smoke_settings() if args.smoke else profile.harness
    show = not args.quiet
    progress = None
    if show and sys.stdout.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True)
    task = progress.add_task("starting", total=len(specs)) if progress else None

    def before(i: int, n: int, spec: Any) -> None:
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
                         peers=not args.no_peers)
    finally:
        if progress:
            progress.stop()
    counts = done.by_status()
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    print(f"results: {done.json_path}")
    print(f"summary: {done.markdown_path}")
    return 1 if args.fail_on_error and counts.get("failed") else 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return {"info": _cmd_info, "list": _cmd_list, "run": _cmd_run}[args.command](args)
    except UsageError as exc:
        print(f"benchsuite: error: {exc}", file=sys.stderr)
        return 2
    except (ConfigError, InvalidArgumentError, ResultsFileError) as exc:
        print(f"benchsuite: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("benchsuite: interrupted; finished cases are kept in the results file", file=sys.stderr)
        return 130
    except BenchsuiteError as exc:
        print(f"benchsuite: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
