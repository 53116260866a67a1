"""drnet_lite.exercises is one small package: a module per notebook, one shared helper module,
and every check a notebook calls importable from the package itself."""
from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import drnet_lite.exercises as exercises

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "drnet_lite" / "exercises"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_LINES = 300


def _code(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _modules() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


def test_every_check_a_notebook_calls_is_exported_by_the_package():
    assert NOTEBOOKS, "no notebooks found"
    for notebook in NOTEBOOKS:
        used = set(re.findall(r"expect\(\s*(?:not\s+)?(check_\w+)\(", _code(notebook)))  # the one form of a check
        assert used, f"{notebook.name} calls no check"
        for name in used:
            assert name in exercises.__all__, f"{notebook.name} calls {name}, which drnet_lite.exercises does not export"
            assert callable(getattr(exercises, name))


def test_notebooks_import_checks_from_the_package_only():
    for notebook in NOTEBOOKS:
        sources = re.findall(r"^\s*from (drnet_lite\.exercises\S*) import", _code(notebook), flags=re.M)
        assert sources, f"{notebook.name} imports nothing from drnet_lite.exercises"
        assert set(sources) == {"drnet_lite.exercises"}, f"{notebook.name} imports from {sorted(set(sources))}"


def test_one_module_per_notebook_each_exported():
    numbers = {notebook.name[:2] for notebook in NOTEBOOKS}
    assert {p.stem for p in _modules()} == {"__init__", "_common"} | {f"nb{n}" for n in numbers}
    for number in numbers:
        module = importlib.import_module(f"drnet_lite.exercises.nb{number}")
        assert module.__doc__ and module.__doc__.startswith(f"Notebook {number} "), module.__name__
        assert module.__all__, f"{module.__name__} exports nothing"
        for name in module.__all__:
            assert getattr(exercises, name) is getattr(module, name), f"{name} of {module.__name__} is not re-exported"
    for name in exercises.__all__:
        assert name.startswith(("check_", "reference_")) or name in {"is_stub", "solution_if_unsolved", "package_if_unsolved", "UNWRITTEN", "Unwritten"}, name
        assert hasattr(exercises, name), name


def test_every_module_is_small():
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_LINES, f"{path.name} has {lines} lines (at most {MAX_LINES})"


def test_only_common_prints_verdicts():
    """The verdict printers (_correct, _wrong) live in _common; no module keeps a twin of them."""
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        twins = defined & {"_correct", "_wrong", "_say"}
        if path.stem == "_common":
            assert twins == {"_correct", "_wrong"}
        else:
            assert not twins, f"{path.name} defines {sorted(twins)}; use drnet_lite.exercises._common"
