"""The Python package's layout, read from the source with `ast` (nothing is imported):

- the modules import each other without a cycle (module-level imports: those that run when a
  module is first imported; imports inside functions run later and may go anywhere);
- no module reaches into another benchsuite module's private names (`module._name`,
  `from .module import _name`); a private module (`_core`, `ops/_convert.py`) is private to
  its package: modules inside that package may import it;
- every benchsuite-internal import names a module, or a name defined in the module, that exists;
- the top level holds the front ends only: the rest lives in core/, harness/, analysis/, ops/, peers/.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "benchsuite"
ROOT = Path(__file__).resolve().parents[1] / "python" / PACKAGE
# The extension module: built, so only its stub is in the source tree.
COMPILED = {f"{PACKAGE}._core"}
TOP_LEVEL_MODULES = {"__init__", "__main__", "cli", "pytest_plugin"}
SUBPACKAGES = {"core", "harness", "analysis", "ops", "peers", "models"}


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    tree: ast.Module
    defined: set[str] = field(default_factory=set)   # names bound at module level
    open_names: bool = False                          # a star import or a module __getattr__

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts]), is_package


def _bound_names(tree: ast.Module) -> tuple[set[str], bool]:
    names: set[str] = set()
    open_names = False
    for node in _module_level(tree, into_classes=False):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            open_names |= node.name == "__getattr__"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    open_names = True
                else:
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names, open_names


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level(tree: ast.AST, into_classes: bool = True):
    """Statements that run when the module is imported: not function bodies, not
    `if TYPE_CHECKING:` blocks (class bodies and module-level if/try/with do run; with
    into_classes False, the statements that bind the module's own names)."""
    stack = list(reversed(getattr(tree, "body", [])))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or (
                isinstance(node, ast.ClassDef) and not into_classes):
            yield node  # the def itself binds a name; its body runs later (or binds class attributes)
            continue
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(reversed(node.orelse))
            continue
        for child_field in ("body", "orelse", "finalbody", "handlers"):
            stack.extend(reversed(getattr(node, child_field, []) or []))


def load_modules() -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name, is_package = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        defined, open_names = _bound_names(tree)
        modules[name] = Module(name, path, is_package, tree, defined, open_names)
    return modules


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


@dataclass(frozen=True)
class Imported:
    """One name an import statement binds, resolved: `module` is the benchsuite module it comes
    from; `name` the attribute taken from it (None when the import binds `module` itself)."""

    module: str
    name: str | None
    line: int


def _resolve(module: Module, node: ast.Import | ast.ImportFrom, known: set[str]) -> list[Imported | None]:
    """Each alias of the statement resolved, in order; None for an alias from outside benchsuite."""
    if isinstance(node, ast.Import):
        return [Imported(alias.name, None, node.lineno)
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + ".") else None for alias in node.names]
    if node.level:
        base = module.package.split(".")
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
        if source != PACKAGE and not source.startswith(PACKAGE + "."):
            return [None] * len(node.names)
    out: list[Imported | None] = []
    for alias in node.names:
        if alias.name == "*":
            out.append(Imported(source, None, node.lineno))
        elif f"{source}.{alias.name}" in known:
            out.append(Imported(f"{source}.{alias.name}", None, node.lineno))
        else:
            out.append(Imported(source, alias.name, node.lineno))
    return out


def _imports(module: Module, known: set[str], everywhere: bool) -> list[Imported]:
    nodes = ast.walk(module.tree) if everywhere else _module_level(module.tree)
    out: list[Imported] = []
    for node in nodes:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.extend(imp for imp in _resolve(module, node, known) if imp is not None)
    return out


def import_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """module -> the benchsuite modules that must run before its import finishes. Importing
    `a.b.c` first runs the packages `a` and `a.b`, except those the importer lives in (they are
    already importing when the importer runs)."""
    known = set(modules) | COMPILED
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, module in modules.items():
        own = set(_parents(name))
        for imp in _imports(module, known, everywhere=False):
            if imp.module not in modules:
                continue
            graph[name].add(imp.module)
            graph[name].update(p for p in _parents(imp.module) if p not in own and p in modules)
        graph[name].discard(name)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, set(c)) for c in components]


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A concrete cycle through the component's first module: a -> b -> ... -> a."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first, so the cycle shown is a short one
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _may_import(importer: str, private_module: str) -> bool:
    """A private module may be imported by the modules of the package it is in."""
    package = private_module.rpartition(".")[0]
    return importer == package or importer.startswith(package + ".")


def private_uses(modules: dict[str, Module]) -> list[str]:
    """`path:line: module._name` for each use of another benchsuite module's private name."""
    known = set(modules) | COMPILED
    found: list[str] = []

    def where(module: Module, line: int) -> str:
        return f"{module.path.relative_to(ROOT.parent)}:{line}"

    for name, module in modules.items():
        bound: dict[str, str] = {}   # local name -> the benchsuite module it is
        for node in ast.walk(module.tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for alias, imp in zip(node.names, _resolve(module, node, known)):
                if imp is None:
                    continue
                if imp.name is None and alias.name != "*":
                    if isinstance(node, ast.Import) and alias.asname is None:
                        bound[alias.name.split(".")[0]] = PACKAGE
                    else:
                        bound[alias.asname or alias.name] = imp.module
                if imp.module == name:
                    continue
                if imp.name is not None and _is_private(imp.name):
                    found.append(f"{where(module, imp.line)}: from {imp.module} import {imp.name}")
                elif (imp.name is None and _is_private(imp.module.rpartition(".")[2])
                      and not _may_import(name, imp.module)):
                    found.append(f"{where(module, imp.line)}: imports the private module {imp.module}")

        def module_of(expr: ast.expr) -> str | None:
            if isinstance(expr, ast.Name):
                return bound.get(expr.id)
            if isinstance(expr, ast.Attribute):
                parent = module_of(expr.value)
                if parent is not None and f"{parent}.{expr.attr}" in known:
                    return f"{parent}.{expr.attr}"
            return None

        for node in ast.walk(module.tree):
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                owner = module_of(node.value)
                submodule = f"{owner}.{node.attr}"
                if owner is not None and owner != name and not (submodule in known
                                                                and _may_import(name, submodule)):
                    found.append(f"{where(module, node.lineno)}: {owner}.{node.attr}")
    return found


def unresolved_imports(modules: dict[str, Module]) -> list[str]:
    """`path:line: what` for each benchsuite-internal import (anywhere) naming nothing that exists."""
    known = set(modules) | COMPILED
    found: list[str] = []
    for module in modules.values():
        for imp in _imports(module, known, everywhere=True):
            where = f"{module.path.relative_to(ROOT.parent)}:{imp.line}"
            if imp.module not in known:
                found.append(f"{where}: no module {imp.module}")
            elif imp.name is not None and imp.module in modules:
                target = modules[imp.module]
                if imp.name not in target.defined and not target.open_names:
                    found.append(f"{where}: {imp.module} has no {imp.name}")
    return found


def test_package_found():
    modules = load_modules()
    assert PACKAGE in modules and f"{PACKAGE}.cli" in modules, f"no package source at {ROOT}"


def test_no_import_cycles():
    cycles = find_cycles(import_graph(load_modules()))
    assert not cycles, "import cycles (module-level imports):\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_names_across_modules():
    uses = private_uses(load_modules())
    assert not uses, "private names of other modules used (make them public):\n" + "\n".join(uses)


def test_internal_imports_resolve():
    missing = unresolved_imports(load_modules())
    assert not missing, "imports naming nothing in the package:\n" + "\n".join(missing)


def test_top_level_holds_front_ends_only():
    top_modules = {p.stem for p in ROOT.glob("*.py")}
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert top_modules == TOP_LEVEL_MODULES, (
        f"top-level modules {sorted(top_modules - TOP_LEVEL_MODULES)} belong in a subpackage "
        f"({', '.join(sorted(SUBPACKAGES))}); missing: {sorted(TOP_LEVEL_MODULES - top_modules)}")
    assert packages == SUBPACKAGES, f"subpackages: {sorted(packages)}, expected {sorted(SUBPACKAGES)}"


# The checkers themselves, on small made-up graphs and sources.

def test_find_cycles_names_the_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def _fake(sources: dict[str, str]) -> dict[str, Module]:
    modules = {}
    for name, source in sources.items():
        is_package = name in (PACKAGE, f"{PACKAGE}.sub")
        tree = ast.parse(source)
        defined, open_names = _bound_names(tree)
        rel = name.split(".")[1:] + (["__init__"] if is_package else [])
        modules[name] = Module(name, ROOT.joinpath(*rel).with_suffix(".py"), is_package, tree, defined, open_names)
    return modules


def test_checkers_on_made_up_modules():
    modules = _fake({
        PACKAGE: "from . import _core\nfrom .sub import _helpers, a\n",
        f"{PACKAGE}.sub": "",
        f"{PACKAGE}.sub._helpers": "shared = 1\n",
        f"{PACKAGE}.sub.a": "from . import b\nfrom .b import _hidden, shown\n"
                            "def f():\n    from .. import sub\n    return b._secret\n",
        f"{PACKAGE}.sub.b": "from . import _helpers\nfrom .a import f\n_hidden = 1\nshown = 2\n"
                            "if TYPE_CHECKING:\n    from ..missing import x\n",
    })
    graph = import_graph(modules)
    assert graph[f"{PACKAGE}.sub.a"] == {f"{PACKAGE}.sub.b"}   # not the function-level import
    assert find_cycles(graph) == [[f"{PACKAGE}.sub.a", f"{PACKAGE}.sub.b", f"{PACKAGE}.sub.a"]]
    uses = private_uses(modules)
    assert [u.split(": ", 1)[1] for u in uses] == [f"imports the private module {PACKAGE}.sub._helpers",
                                                   f"from {PACKAGE}.sub.b import _hidden", f"{PACKAGE}.sub.b._secret"]
    assert [u.split(": ", 1)[1] for u in unresolved_imports(modules)] == [f"no module {PACKAGE}.missing"]
