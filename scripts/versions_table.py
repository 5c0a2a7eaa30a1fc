"""Print the Markdown table of every registered op version (docs/versions.md is this
script's output): python scripts/versions_table.py"""
from __future__ import annotations

from collections import OrderedDict

import benchsuite as bs

ALL_DTYPES = {"float32", "float16", "bfloat16", "int8", "int32", "int64", "uint8", "float64"}


def main() -> None:
    ops: "OrderedDict[str, dict[str, list[str]]]" = OrderedDict()
    for v in bs.ops.versions():
        entry = ops.setdefault(v["op"], {"cpu": [], "cuda": []})
        dtypes = ("" if v["dtypes"] == ["float32"] else " (all dtypes)" if set(v["dtypes"]) == ALL_DTYPES
                  else f" ({', '.join(v['dtypes'])})")
        entry[v["device"]].append(f"**{v['version']}**{' (reference)' if v['reference'] else ''}: "
                                  f"{v['description']}{dtypes}")
    print("| op | CPU versions | CUDA versions |")
    print("|---|---|---|")
    for op, entry in ops.items():
        print(f"| `{op}` | {'<br>'.join(entry['cpu']) or '-'} | {'<br>'.join(entry['cuda']) or '-'} |")


if __name__ == "__main__":
    main()
