"""The notebooks as a student meets them: one install cell, one setup call, no outcome asserts,
exercises whose stubs run and whose checkers work in place, and a fresh runtime that has nothing.

The two slow tests execute notebooks with nbclient in quick mode:

- ``test_checkers_work_in_place``: per notebook, the setup cells and the exercise
  run once as shipped (stub, hidden solution, check: must pass), then once with
  the notebook's own wrong answer in the stub's place (the check must fail).
- ``test_notebook_in_a_fresh_runtime``: every notebook top to bottom in a new
  empty ``HOME`` with no ``DRNET_DATA``: MNIST is downloaded for real, from a
  local HTTP server on 127.0.0.1 that serves the MNIST files found through
  ``$DRNET_MNIST_SOURCE`` (else ``$DRNET_DATA``, which CI sets).
"""
from __future__ import annotations

import ast
import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path

import nbformat
import pytest

from drnet_lite.course import colab_install_cell
from drnet_lite.data.mnist import MNIST_FILES, find_raw_folder
from drnet_lite.exercises import is_stub

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NAMES = [p.name for p in NOTEBOOKS]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _tagged(nb, tag: str) -> list:
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_install_cell_is_the_generated_one(path):
    cells = [c for c in _read(path).cells if c.cell_type == "code"]
    assert "install" in cells[0].metadata.get("tags", []), f"{path.name}: the first code cell must be the install cell"
    assert cells[0].source == colab_install_cell(), f"{path.name}: run `python tools/install_cell.py`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_one_setup_call_and_no_outcome_asserts(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    calls = [c for c in code if re.search(r"^course = setup\(", c.source, flags=re.M)]
    assert len(calls) == 1 and "setup" in calls[0].metadata.get("tags", [])
    for cell in code:
        assert "NBVAL_CHECK_OUTPUT" not in cell.source
        if "install" in cell.metadata.get("tags", []):
            continue
        tree = ast.parse(cell.source)
        asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
        assert not asserts, f"{path.name}: an assert in a teaching cell (use expect): {cell.source[:80]!r}"


def test_nothing_points_outside_the_repository():
    for path in NOTEBOOKS + [REPO / "README.md", REPO / "assets" / "README.md"]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "DRNET.md" not in text and "shared's notes" not in text, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_exercise_is_a_runnable_stub_with_a_hidden_solution(path):
    nb = _read(path)
    (stub,), (solution,), (check,) = _tagged(nb, "exercise"), _tagged(nb, "solution"), _tagged(nb, "check")
    assert nb.cells.index(stub) + 1 == nb.cells.index(solution) and nb.cells.index(solution) + 1 == nb.cells.index(check)
    namespace: dict = {}
    exec(compile(stub.source, f"<{path.name} stub>", "exec"), namespace)  # the stub cell runs...
    name = re.match(r"def (\w+)\(", stub.source).group(1)
    with pytest.raises(NotImplementedError):  # ...and its function raises
        namespace[name](*([None] * namespace[name].__code__.co_argcount))
    assert solution.metadata["jupyter"]["source_hidden"] is True  # JupyterLab hides it
    assert solution.metadata["cellView"] == "form" and solution.source.startswith("#@title")  # so does Colab
    assert f"{name} = solution_if_unsolved({name}, {name}_solution)" in solution.source
    assert check.source.startswith("expect(check_") and f"({name})" in check.source
    assert _tagged(nb, "wrong-answer"), f"{path.name}: show one wrong answer and its hint"


def test_the_stub_source_is_recognised(tmp_path):
    nb = _read(next(p for p in NOTEBOOKS if p.name.startswith("01_")))
    (stub,) = _tagged(nb, "exercise")
    module = tmp_path / "stub_module.py"
    module.write_text(stub.source)
    import importlib.util

    spec = importlib.util.spec_from_file_location("stub_module", module)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    assert is_stub(loaded.bounce_positions)


# ------------------------------------------------------------------ executing notebooks (quick mode)

def _kernel_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DRNET_MODE", None)
    env["DRNET_QUICK"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _execute(nb, cwd: Path, env: dict[str, str], allow_errors: bool = False, timeout: int = 600):
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(env=env)
    return nb


def _errors(cell) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", []) if o.get("output_type") == "error"]


@pytest.fixture(scope="module")
def mnist_source() -> Path:
    value = os.environ.get("DRNET_MNIST_SOURCE") or os.environ.get("DRNET_DATA")
    folder = find_raw_folder(value) if value else None
    if folder is None:
        pytest.skip("needs the MNIST files to serve: set DRNET_MNIST_SOURCE or DRNET_DATA")
    return folder


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_checkers_work_in_place(path, mnist_source, tmp_path):
    """Shipped exercise passes its check; the notebook's wrong answer in the stub's place fails it."""
    nb = _read(path)
    setup_cells = _tagged(nb, "setup")
    (stub,), (solution,), (check,) = _tagged(nb, "exercise"), _tagged(nb, "solution"), _tagged(nb, "check")
    wrong = _tagged(nb, "wrong-answer")[0]
    name = re.match(r"def (\w+)\(", stub.source).group(1)
    wrong_name = re.search(r"^def (\w+)\(", wrong.source, flags=re.M).group(1)
    substituted = nbformat.v4.new_code_cell(wrong.source + f"\n{name} = {wrong_name}  # the wrong answer, as if typed in")
    def copy(cell):  # a fresh cell id: the solution and the check appear twice
        return nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata))

    cells = [copy(c) for c in setup_cells + [stub, solution, check]] + [substituted, copy(solution), copy(check)]
    small = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    _execute(small, path.parent, _kernel_env(DRNET_DATA=str(mnist_source)), allow_errors=True)
    shipped_check, wrong_check = small.cells[len(setup_cells) + 2], small.cells[-1]
    assert all(not _errors(c) for c in small.cells[:-1]), [(_errors(c), c.source[:60]) for c in small.cells if _errors(c)]
    assert any("AssertionError" in e for e in _errors(wrong_check)), \
        f"{path.name}: the check passed a wrong answer ({wrong_name})"
    assert "Not yet" in "".join(o.get("text", "") for o in wrong_check.outputs if o.get("output_type") == "stream")
    assert "Correct" in "".join(o.get("text", "") for o in shipped_check.outputs if o.get("output_type") == "stream")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def mirror(mnist_source):
    """A local HTTP server on 127.0.0.1 serving the four MNIST files; yields its URL and a request log."""
    served: list[str] = []

    class Handler(_Quiet):
        def do_GET(self):  # noqa: N802
            served.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(mnist_source)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_in_a_fresh_runtime(path, mirror, tmp_path):
    """Top to bottom, quick mode, empty HOME, no DRNET_DATA: MNIST comes from the mirror, weights from assets/."""
    url, served = mirror
    home = tmp_path / "home"
    home.mkdir()
    env = _kernel_env(HOME=str(home), DRNET_MNIST_MIRROR=url)
    for key in ("DRNET_DATA", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR", "IPYTHONDIR"):
        env.pop(key, None)
    # matplotlib's font cache would be rebuilt in every empty HOME (seconds each): share one across these runs
    env["MPLCONFIGDIR"] = str(Path(os.environ.get("PYTEST_MPLCONFIGDIR", tmp_path.parent / "mplconfig")))
    before = len(served)
    nb = _execute(_read(path), path.parent, env)
    fetched = {p.strip("/") for p in served[before:]}
    assert fetched == set(MNIST_FILES), f"{path.name} downloaded {sorted(fetched)}"
    assert all((home / ".cache" / "drnet_lite" / "MNIST" / "raw" / f).is_file() for f in MNIST_FILES)
    setup_out = "".join(o.get("text", "") for c in _tagged(nb, "setup") for o in c.get("outputs", []))
    assert "mode quick" in setup_out and "device" in setup_out
    json.dumps(nb)  # executed fine
