"""The package's floors hold: no import cycles, and no library module imports the notebooks' setup.

The imports are read from the source (``ast``), at module level and inside
functions alike, so an import tucked into a function to dodge a cycle still
counts. Imports under ``if TYPE_CHECKING:`` do not run and do not count.
Importing ``drnet_lite.a.b`` from outside ``drnet_lite.a`` also runs
``drnet_lite/a/__init__.py``, so that is an edge too.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "drnet_lite"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
#: The top floor: what sets up notebooks and the command line. Nothing below may import these.
TOP = ("course", "cli", "exercises", "__main__")
#: The floors of README's "How the code is laid out", bottom to top. A module may import its own
#: floor and those below, never above; a name covers its subpackage ("data" is data/ and data/*.py).
FLOORS = (
    ("base", ("device", "atomic", "assets", "precision", "checkpoint", "losses", "leak_losses", "layers", "models")),
    ("data", ("data",)),
    ("parts", ("metrics", "viz", "figures", "judge", "swap", "predict", "runs", "loop", "distributed",
               "pose_explorer")),
    ("training and generic evaluation", ("train", "train_lstm", "evaluate_frames")),
    ("experiments", ("experiments",)),
    ("across datasets", ("presets", "evaluate_prediction", "ablations", "widgets")),
    ("top", TOP),
)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST):
    """Every Import/ImportFrom node, skipping ``if TYPE_CHECKING:`` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported(name: str, path: Path, known: set[str], package: str = PACKAGE) -> set[str]:
    """The package's modules that importing ``name`` runs (besides the root package)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name.split(".")[0] == package)
            continue
        if node.level:
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            stem = ".".join(base + ([node.module] if node.module else []))
        elif (node.module or "").split(".")[0] == package:
            stem = node.module
        else:
            continue
        targets.add(stem)
        targets.update(f"{stem}.{a.name}" for a in node.names if f"{stem}.{a.name}" in known)
    edges = set()
    for target in targets:
        parts = target.split(".")
        for i in range(2, len(parts) + 1):  # a.b.c runs a.b's __init__ and a.b.c
            prefix = ".".join(parts[:i])
            if prefix in known and not (name + ".").startswith(prefix + ".") and prefix != name:
                edges.add(prefix)
    return edges


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """``{module: the package's modules it imports}``, e.g. ``"drnet_lite.train" -> {"drnet_lite.models", ...}``."""
    found = modules(root)
    known = set(found)
    return {name: imported(name, path, known, root.name) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def is_top(name: str) -> bool:
    rest = name.split(".")[1:]
    return bool(rest) and rest[0] in TOP


def test_the_finder_sees_a_cycle_closed_inside_a_function(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("import os\n\n\ndef later():\n    from .sub.c import x\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..d import y\n\n\n"
                                          "def f():\n    import pkg.a\n")
    (package / "d.py").write_text("from .sub import c\n")
    graph = import_graph(package)
    assert graph["pkg.b"] == {"pkg.sub", "pkg.sub.c"}  # a function's import, and the package it runs first
    assert graph["pkg.sub.c"] == {"pkg.a"}  # TYPE_CHECKING imports never run
    assert graph["pkg.d"] == {"pkg.sub", "pkg.sub.c"}  # "from .sub import c": the module c
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]


def test_the_graph_reads_this_package():
    graph = import_graph()
    assert f"{PACKAGE}.models" in graph and f"{PACKAGE}.data" in graph
    assert graph[f"{PACKAGE}.data"], "drnet_lite.data imports its sources"


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles (modules that import each other, directly or round a loop):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_no_library_module_imports_the_top_floor():
    graph = import_graph()
    bad = sorted(f"{name} imports {target}" for name, targets in graph.items() if not is_top(name)
                 for target in targets if is_top(target))
    assert not bad, ("library modules import the notebooks' setup or the command line (move what they need "
                     "down, e.g. to drnet_lite.device):\n" + "\n".join(bad))


def floor(name: str) -> int | None:
    """The floor index of a module (None: not in :data:`FLOORS`; the root package: -1)."""
    rest = name.split(".")[1:]
    if not rest:
        return -1
    for i, (_, names) in enumerate(FLOORS):
        if rest[0] in names:
            return i
    return None


def test_every_module_has_a_floor():
    missing = sorted(name for name in import_graph() if floor(name) is None)
    assert not missing, ("modules on no floor: add each to FLOORS in tests/test_layout.py and to the table in "
                         "README.md (How the code is laid out):\n" + "\n".join(missing))


def test_no_module_imports_a_floor_above_its_own():
    graph = import_graph()
    bad = sorted(f"{name} ({FLOORS[floor(name)][0]}) imports {target} ({FLOORS[floor(target)][0]})"
                 for name, targets in graph.items() for target in targets
                 if floor(name) is not None and floor(target) is not None and floor(target) > floor(name))
    assert not bad, "imports from a higher floor:\n" + "\n".join(bad)


def test_experiments_do_not_import_each_other():
    graph = import_graph()
    prefix = f"{PACKAGE}.experiments."
    bad = sorted(f"{name} imports {target}" for name, targets in graph.items() if name.startswith(prefix)
                 for target in targets if target.startswith(prefix))
    assert not bad, "each dataset's experiment stands alone (shared code goes down a floor):\n" + "\n".join(bad)
