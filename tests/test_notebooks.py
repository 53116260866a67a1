"""The notebooks as a student meets them: one install cell, one setup call, no outcome asserts,
exercises whose stubs run and whose checkers work in place, and a fresh runtime that has nothing.

The two slow tests execute notebooks with nbclient in quick mode:

- ``test_checkers_work_in_place``: per notebook, the setup cells and the exercise
  run once as shipped (stub, hidden solution, check: must pass), then once with
  the notebook's own wrong answer in the stub's place (the check must fail).
- ``test_notebook_in_a_fresh_runtime``: every notebook's student copy (no
  solutions: "Run all" before the student has written anything) top to bottom
  in a new empty ``HOME`` with no ``DRNET_DATA``: MNIST is downloaded for real, from a
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


def _exercises(nb) -> list[tuple]:
    """(stub, solution, check, name) of every exercise: three cells in a row, tagged in that order."""
    out = []
    for stub in _tagged(nb, "exercise"):
        i = nb.cells.index(stub)
        solution, check = nb.cells[i + 1], nb.cells[i + 2]
        assert "solution" in solution.metadata.get("tags", []) and "check" in check.metadata.get("tags", []), \
            f"exercise {stub.source[:40]!r}: the next cells must be its solution and its check"
        out.append((stub, solution, check, re.match(r"def (\w+)\(", stub.source).group(1)))
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_exercise_is_a_runnable_stub_with_a_hidden_solution(path):
    nb = _read(path)
    exercises = _exercises(nb)
    assert exercises and len(exercises) == len(_tagged(nb, "solution")) == len(_tagged(nb, "check"))
    for stub, solution, check, name in exercises:
        namespace: dict = {}
        exec(compile(stub.source, f"<{path.name} stub>", "exec"), namespace)  # the stub cell runs...
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

    def copy(cell):  # a fresh cell id: the solution and the check appear twice
        return nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata))

    cells, shipped, wrong = list(map(copy, setup_cells)), [], []
    for stub, solution, check, name in _exercises(nb):
        cells += [copy(stub), copy(solution), copy(check)]
        shipped.append(len(cells) - 1)
        check_name = re.match(r"expect\((check_\w+)\(", check.source).group(1)
        for answer in _tagged(nb, "wrong-answer"):
            if f"{check_name}(" not in answer.source:
                continue
            wrong_name = re.search(r"^def (\w+)\(", answer.source, flags=re.M).group(1)
            cells += [nbformat.v4.new_code_cell(answer.source + f"\n{name} = {wrong_name}  # the wrong answer, as if typed in"),
                      copy(solution), copy(check)]
            wrong.append((len(cells) - 1, wrong_name))
    assert wrong, f"{path.name}: no wrong answer calls an exercise's check"
    small = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    _execute(small, path.parent, _kernel_env(DRNET_DATA=str(mnist_source)), allow_errors=True)
    failing = {index for index, _ in wrong}
    assert all(not _errors(c) for i, c in enumerate(small.cells) if i not in failing), \
        [(_errors(c), c.source[:60]) for c in small.cells if _errors(c)]
    for index, wrong_name in wrong:
        assert any("AssertionError" in e for e in _errors(small.cells[index])), \
            f"{path.name}: the check passed a wrong answer ({wrong_name})"
        assert "Not yet" in _stream(small.cells[index])
    for index in shipped:
        assert "Correct" in _stream(small.cells[index])


def _stream(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


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


def _student_copy(path: Path):
    """The student copy of a notebook, as ``make student`` writes it (tools/make_student.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_student", REPO / "tools" / "make_student.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return nbformat.reads(json.dumps(tool.student_notebook(json.loads(path.read_text()))), as_version=4)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_in_a_fresh_runtime(path, mirror, tmp_path):
    """The student copy top to bottom ("Run all" before anything is written), quick mode, empty HOME, no
    DRNET_DATA: MNIST comes from the mirror, weights from assets/. Every check says the exercise is not
    written yet (none passes: that would be a solution left in the copy), and every later cell that needs
    an exercise's function runs on the package's, saying so. The lecturer's copy differs only in its
    solution and lecturer-only cells, which test_checkers_work_in_place runs; one run per notebook keeps
    CI short."""
    url, served = mirror
    home = tmp_path / "home"
    home.mkdir()
    # 08 without opencv-doc would download vtest.avi from GitHub: the tests never leave 127.0.0.1 (the mirror
    # has no such file, so the notebook says so and uses its synthetic clip; tests/test_vtest_download.py
    # covers the download itself)
    env = _kernel_env(HOME=str(home), DRNET_MNIST_MIRROR=url, DRNET_VTEST_URL=url + "vtest.avi")
    for key in ("DRNET_DATA", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR", "IPYTHONDIR"):
        env.pop(key, None)
    # matplotlib's font cache would be rebuilt in every empty HOME (seconds each): share one across these runs
    env["MPLCONFIGDIR"] = str(Path(os.environ.get("PYTEST_MPLCONFIGDIR", tmp_path.parent / "mplconfig")))
    before = len(served)
    nb = _execute(_student_copy(path), path.parent, env)
    for check in _tagged(nb, "check"):
        assert "Not written yet" in _stream(check) and "Correct" not in _stream(check), (path.name, _stream(check))
    for cell in nb.cells:
        if cell.cell_type == "code" and "package_if_unsolved(" in cell.source:
            assert "is still the stub: the cells below use the package's" in _stream(cell), cell.source[:80]
    fetched = {p.strip("/") for p in served[before:]}
    assert fetched == set(MNIST_FILES), f"{path.name} downloaded {sorted(fetched)}"
    assert all((home / ".cache" / "drnet_lite" / "MNIST" / "raw" / f).is_file() for f in MNIST_FILES)
    setup_out = "".join(o.get("text", "") for c in _tagged(nb, "setup") for o in c.get("outputs", []))
    assert "mode quick" in setup_out and "device" in setup_out
    json.dumps(nb)  # executed fine
