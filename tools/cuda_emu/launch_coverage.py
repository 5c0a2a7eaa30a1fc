#!/usr/bin/env python3
"""Which CUDA launch sites the tests never reached, under the emulator build.

    BENCHSUITE_EMU_LAUNCH_LOG=launches.log pytest tests     # with the emulator build installed
    python tools/cuda_emu/launch_coverage.py launches.log [--sites FILE] [--allow PATTERN ...]

The emulator build installs the list of every launch site (`kernel [file:line]`, written by
tools/cuda_emu/translate.py) as benchsuite/emu_launch_sites.txt; each emulated process
appends "count site" lines to the log at exit. Prints the counts and each site never
launched; exits 1 when one is not covered by an --allow pattern (fnmatch, matched
against the site), so that a kernel no test runs cannot pass CI unseen.
"""
from __future__ import annotations

import argparse
import fnmatch
import sys
from collections import Counter
from pathlib import Path


def installed_sites() -> Path:
    import benchsuite

    path = Path(benchsuite.__file__).resolve().parent / "emu_launch_sites.txt"
    if not path.exists():
        raise SystemExit(f"{path} is missing: the installed benchsuite is not an emulator build "
                         "(BENCHSUITE_CUDA_EMULATOR=ON pip install .)")
    return path


def read_log(path: Path) -> Counter:
    counts: Counter = Counter()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        count, _, site = line.partition(" ")
        if not count.isdigit() or not site:
            raise SystemExit(f"{path}:{number}: expected 'count site', got {line!r}")
        counts[site] += int(count)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", type=Path, help="the BENCHSUITE_EMU_LAUNCH_LOG file")
    parser.add_argument("--sites", type=Path, help="launch-site list (default: the installed package's)")
    parser.add_argument("--allow", action="append", default=[], metavar="PATTERN",
                        help="sites that may stay unlaunched (fnmatch pattern; repeatable)")
    args = parser.parse_args(argv)
    if not args.log.exists():
        print(f"launch_coverage: log={args.log} does not exist (was BENCHSUITE_EMU_LAUNCH_LOG set?)", file=sys.stderr)
        return 2
    sites = [s for s in (args.sites or installed_sites()).read_text().splitlines() if s.strip()]
    counts = read_log(args.log)
    never = [s for s in sites if counts[s] == 0]
    unexpected = [s for s in never if not any(fnmatch.fnmatchcase(s, p) for p in args.allow)]
    print(f"CUDA launch sites: {len(sites)}, launched by the tests: {len(sites) - len(never)}, "
          f"launches: {sum(counts[s] for s in sites)}")
    for site in never:
        print(f"  never launched{'' if site in unexpected else ' (allowed)'}: {site}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
