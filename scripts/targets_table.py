"""Print the targets table of a results file: for each case, our time and throughput, each
peer's, the ratio, and the fraction of the roofline (GEMM: of the FLOP/s peak the record names,
spec on CUDA and measured on the CPU; memory-bound ops: of the `copy` case's bandwidth measured
in the same run).

    python scripts/targets_table.py results/<run_id>.json
"""
from __future__ import annotations

import sys

import benchsuite as bs


def main(path: str) -> None:
    run = bs.load_results(path)
    copy = next((b for b in run.benchmarks if b["case"] == "copy" and b["stats"]), None)
    copy_bw = copy["metrics"]["throughput"]["bytes_per_s"] if copy else None
    print(f"Run {run.run_id} on {run.environment['cpu']['model']} "
          f"({', '.join(g['name'] for g in run.environment['gpus']) or 'no GPU'}); "
          f"copy bandwidth {copy_bw / 1e9:.1f} GB/s\n" if copy_bw else "")
    print("| case | ours (ms) | throughput | peer | peer (ms) | speedup | fraction of roofline |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for b in run.benchmarks:
        if b["case"] == "copy" or not b["stats"]:
            continue
        m = b["metrics"]
        tp = m["throughput"]
        if tp["flop_per_s"]:
            rate = f"{tp['flop_per_s'] / 1e9:.1f} GFLOP/s"
            frac = m["fraction_of_peak"]["compute"]
            roof = f"{frac:.0%} of {m['fraction_of_peak']['peak_source'] or 'spec'} FLOP/s" if frac is not None else "-"
        else:
            rate = f"{tp['gb_per_s']:.2f} GB/s"
            roof = f"{tp['bytes_per_s'] / copy_bw:.0%} of copy" if copy_bw else "-"
        for name, peer in (m.get("peers") or {"-": {}}).items():
            median = peer.get("median_s")
            speedup = peer.get("speedup")
            print(f"| `{b['name']}` | {b['stats']['median'] * 1e3:.3f} | {rate} | {name} | "
                  f"{median * 1e3:.3f} | {speedup:.2f}x | {roof} |" if median else
                  f"| `{b['name']}` | {b['stats']['median'] * 1e3:.3f} | {rate} | {name} | - | - | {roof} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/targets_table.py RESULTS.json")
    main(sys.argv[1])
