#!/usr/bin/env python3
"""Rewrites CUDA sources into host C++ for the CUDA emulator build (tools/cuda_emu/).

    translate.py OUT_DIR ROOT FILE...

Each FILE (a .cu or .cuh under ROOT) is written to OUT_DIR with the same relative path
(.cu files gain .cpp); OUT_DIR/launch_sites.txt lists every launch (`kernel [file:line]`).
Four rewrites, each keeping the line count so compiler messages point at the original
lines (a #line directive names the original file):
  - `kernel<T><<<grid, block, smem, stream>>>(args)` becomes
    `::emu::launch("kernel<T>", kernel<T>, ::emu::LaunchConfig(grid, block, smem, stream), args)`;
  - `extern __shared__ [__align__(N)] T name[];` becomes a pointer to the block's dynamic
    shared memory;
  - each `__shared__ T a[N], b[M];` is followed by `::emu::poison_shared(&a, sizeof(a));`
    for each name, which fills it with 0xFF bytes (NaN) once per block, as the device leaves
    shared memory uninitialised (a read before the write shows);
  - `defined(__CUDA_ARCH__)` is true and `__CUDA_ARCH__` is 900 (the H100 path).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

IDENT_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:")

EXTERN_SHARED = re.compile(
    r"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s+)?(?P<type>[\w:]+(?:\s+[\w:]+)*?)\s+(?P<name>\w+)\s*\[\s*\]\s*;")


class TranslateError(Exception):
    pass


def kernel_start(text: str, end: int) -> int:
    """Index where the kernel expression ending just before `end` (the `<<<`) begins."""
    i = end
    while i > 0 and text[i - 1].isspace():
        i -= 1
    if i > 0 and text[i - 1] == ">":  # template arguments: match the angle brackets back,
        depth = parens = 0            # ignoring comparisons inside parentheses
        while i > 0:
            i -= 1
            if text[i] == ")":
                parens += 1
            elif text[i] == "(":
                parens -= 1
            elif parens == 0 and text[i] == ">":
                depth += 1
            elif parens == 0 and text[i] == "<":
                depth -= 1
                if depth == 0:
                    break
        if depth != 0:
            raise TranslateError("unbalanced template arguments before <<<")
    while i > 0 and text[i - 1] in IDENT_CHARS:
        i -= 1
    return i


def matching_paren(text: str, open_index: int) -> int:
    depth = 0
    for j in range(open_index, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    raise TranslateError("unbalanced parentheses after >>>")


def rewrite_launches(text: str, where: str, sites: list[str]) -> str:
    """Rewrites every launch; each is named `kernel [file:line]` and listed in `sites`."""
    while True:
        open_at = text.find("<<<")
        if open_at < 0:
            return text
        close_at = text.find(">>>", open_at)
        if close_at < 0:
            raise TranslateError("<<< without >>>")
        start = kernel_start(text, open_at)
        kernel = text[start:open_at]
        config = text[open_at + 3:close_at]
        paren = close_at + 3
        while paren < len(text) and text[paren].isspace():
            paren += 1
        if paren >= len(text) or text[paren] != "(":
            raise TranslateError("a launch's >>> is not followed by its arguments")
        end = matching_paren(text, paren)
        args = text[paren + 1:end]
        name = " ".join(kernel.split())
        if not name:
            raise TranslateError("no kernel name before <<<")
        name = f"{name} [{where}:{text.count(chr(10), 0, open_at) + 1}]"  # lines before are unchanged
        sites.append(name)
        call = f'::emu::launch("{name}", {kernel.strip()}, ::emu::LaunchConfig({config})'
        call += f", {args})" if args.strip() else ")"
        # keep the line count: the newlines of the kernel/config/whitespace go after the call
        dropped = text[start:end + 1].count("\n") - call.count("\n")
        text = text[:start] + call + "\n" * max(dropped, 0) + text[end + 1:]


def rewrite_extern_shared(text: str) -> str:
    return EXTERN_SHARED.sub(
        lambda m: f"{m['type']}* {m['name']} = reinterpret_cast<{m['type']}*>(::emu::dynamic_smem());", text)


SHARED_DECL = re.compile(r"(?<!extern )\b__shared__\b(?:[^;{}()/]|\(\s*\d+\s*\))*;")


def declarator_names(declaration: str) -> list[str]:
    """Names declared by `__shared__ [__align__(N)] T a[X][Y], b[Z];`."""
    body = re.sub(r"__align__\s*\(\s*\d+\s*\)", "", declaration[len("__shared__"):-1])
    depth, parts, current = 0, [], ""
    for ch in body:  # split on top-level commas (template arguments and bounds have their own)
        depth += ch in "[<"
        depth -= ch in "]>"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    names = []
    for part in parts:
        head = part.split("[", 1)[0].split("=", 1)[0].strip()
        match = re.search(r"(\w+)$", head)
        if not match:
            raise TranslateError(f"cannot read the name in {declaration!r}")
        names.append(match.group(1))
    return names


def rewrite_shared(text: str) -> str:
    return SHARED_DECL.sub(
        lambda m: m.group(0) + "".join(f" ::emu::poison_shared(&{n}, sizeof({n}));" for n in declarator_names(m.group(0))),
        text)


def rewrite_arch(text: str) -> str:
    text = re.sub(r"defined\s*\(\s*__CUDA_ARCH__\s*\)", "1", text)
    return re.sub(r"\b__CUDA_ARCH__\b", "900", text)


def translate(source: Path, root: Path, out_dir: Path, sites: list[str]) -> Path:
    text = source.read_text()
    rel = source.relative_to(root)
    try:
        body = rewrite_arch(rewrite_shared(rewrite_extern_shared(rewrite_launches(text, str(rel), sites))))
    except TranslateError as err:
        raise SystemExit(f"{source}: {err}")
    out = out_dir / (str(rel) + (".cpp" if source.suffix == ".cu" else ""))
    write_if_changed(out, f'#line 1 "{source}"\n{body}')
    return out


def write_if_changed(path: Path, content: str) -> None:
    """Untouched outputs keep their timestamps (no rebuild)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != content:
        path.write_text(content)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir, root = Path(argv[0]), Path(argv[1]).resolve()
    sites: list[str] = []
    for name in argv[2:]:
        translate(Path(name).resolve(), root, out_dir, sites)
    # Every launch site, for the coverage check (launch_coverage.py)
    write_if_changed(out_dir / "launch_sites.txt", "".join(f"{s}\n" for s in sorted(sites)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
