"""environment.yml and pyproject.toml name every third-party module that the package and the notebooks
import; environment.yml resolves from conda-forge alone."""
from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: import name -> (conda-forge package, PyPI distribution)
DISTRIBUTIONS = {
    "torch": ("pytorch", "torch"),
    "numpy": ("numpy", "numpy"),
    "matplotlib": ("matplotlib", "matplotlib"),
    "ipywidgets": ("ipywidgets", "ipywidgets"),
    "IPython": ("ipython", "ipython"),
    "tqdm": ("tqdm", "tqdm"),
    "PIL": ("pillow", "pillow"),
    "av": ("av", "av"),
}
#: Imported only inside ``try: ... except``, and never required (the package works without them).
OPTIONAL = {"torchvision"}


def notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    lines = [line for cell in cells if cell["cell_type"] == "code" for line in "".join(cell["source"]).splitlines()]
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)  # magics, shell


def imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(top-level module, inside a try block) of every absolute import in ``tree``."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name.split(".")[0], guarded) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded or (isinstance(node, ast.Try) and child in node.body))
    visit(tree, False)
    return found


def third_party_imports() -> dict[str, list[tuple[str, bool]]]:
    """module -> [(file, guarded)] over drnet_lite/ and the notebooks' code cells."""
    sources = {str(p.relative_to(REPO)): p.read_text() for p in sorted((REPO / "drnet_lite").rglob("*.py"))}
    sources.update({str(p.relative_to(REPO)): notebook_code(p) for p in sorted((REPO / "notebooks").glob("*.ipynb"))})
    found: dict[str, list[tuple[str, bool]]] = {}
    for name, text in sources.items():
        for module, guarded in imports(ast.parse(text, name)):
            if module not in sys.stdlib_module_names and module not in ("drnet_lite", "__future__"):
                found.setdefault(module, []).append((name, guarded))
    return found


def conda_packages() -> tuple[list[str], list[str]]:
    """(channels, conda package names) of environment.yml (its simple layout: two lists)."""
    text = (REPO / "environment.yml").read_text()
    channels = re.findall(r"^  - (\S+)$", text.split("dependencies:")[0], re.M)
    packages = re.findall(r"^  - ([A-Za-z0-9_.-]+)", text.split("dependencies:")[1], re.M)
    return channels, packages


def pyproject_distributions() -> set[str]:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"]) + [d for extra in project["optional-dependencies"].values() for d in extra]
    return {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in names}


def test_the_scan_sees_the_imports_it_should():
    found = third_party_imports()
    assert {"torch", "numpy", "av", "ipywidgets"} <= set(found)
    assert any(name.startswith("notebooks/") for name, _ in found["IPython"])


def test_every_imported_module_is_named_in_environment_yml_and_pyproject():
    found = third_party_imports()
    unknown = sorted(set(found) - set(DISTRIBUTIONS) - OPTIONAL)
    assert not unknown, f"add these imports to DISTRIBUTIONS, environment.yml and pyproject.toml: {unknown} ({found})"
    _, conda = conda_packages()
    pip = pyproject_distributions()
    for module in found:
        if module in OPTIONAL:
            continue
        conda_name, pip_name = DISTRIBUTIONS[module]
        assert conda_name in conda, f"{module} (imported by {found[module][0][0]}) is not in environment.yml as {conda_name}"
        assert pip_name in pip, f"{module} (imported by {found[module][0][0]}) is not in pyproject.toml as {pip_name}"


def test_optional_modules_are_only_tried():
    for module, places in third_party_imports().items():
        if module in OPTIONAL:
            assert all(guarded for _, guarded in places), f"{module} is imported outside a try block: {places}"


def test_conda_forge_alone_with_av():
    channels, packages = conda_packages()
    assert channels == ["conda-forge", "nodefaults"]
    assert "av" in packages and "pytorch" in packages and "torchvision" not in packages
    assert "pytorch" not in channels
