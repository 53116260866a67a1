"""Student copies (tools/make_student.py) leak nothing and run to their end before anything is written.

A copy leaks when it holds a solution marker: a ``#@title Solution`` cell, a ``*_solution`` name, a line
of a solution cell the notebook's own text does not quote, a kept wrong answer that is the solution
with one slip (most of its tokens are the solution's), or, once executed, a check cell that passes.
Executing every copy top to bottom is done by ``test_notebooks.py::test_notebook_in_a_fresh_runtime``,
which runs the student copy (see there); this file tests the copies' text and the tool.
"""
from __future__ import annotations

import difflib
import importlib.util
import io
import json
import os
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_student)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: A kept wrong answer may share at most this share of its tokens' order with a solution
#: (difflib's ratio on the function bodies, comments and names of the signature left out).
#: Measured: 01's stop-at-the-wall bounce 0.40 and 09's unclamped segments 0.24 are new code;
#: the lecturer-only ones are 0.67 to 0.98 (05's off-by-one 0.67, 06's missing eval() 0.96).
MAX_WRONG_ANSWER_LIKENESS = 0.5


def _code(source: str, tags: list[str] | None = None, **metadata) -> dict:
    return {"cell_type": "code", "id": f"c{abs(hash(source)) % 10**8}",
            "metadata": {**metadata, **({"tags": tags} if tags else {})}, "source": source,
            "outputs": [], "execution_count": None}


def synthetic() -> dict:
    """A notebook in the exercise format: set-up, exercise stub, hidden solution, check, a later use,
    and a wrong answer that is the solution with one slip (lecturer only)."""
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "cells": [
                _code("from drnet_lite.course import expect\n"
                      "from drnet_lite.exercises import check_relative_change, package_if_unsolved, "
                      "reference_relative_change, solution_if_unsolved\nimport torch"),
                _code('def relative_change(codes):\n    """||a - b|| / ||a||."""\n    raise NotImplementedError("write it here")',
                      ["exercise"]),
                _code("#@title Solution\ndef relative_change_solution(codes):\n"
                      "    return float((codes[0] - codes[1]).norm() / codes[0].norm())  # the lecturer's answer\n\n"
                      "relative_change = solution_if_unsolved(relative_change, relative_change_solution)", ["solution"],
                      cellView="form", jupyter={"source_hidden": True}),
                _code("expect(check_relative_change(relative_change))", ["check"]),
                _code("relative_change = package_if_unsolved(relative_change, reference_relative_change)\n"
                      "print(relative_change(torch.tensor([[3.0, 4.0], [0.0, 0.0]])))"),
                {"cell_type": "markdown", "id": "intro", "metadata": {"tags": ["lecturer"]}, "source": "A slip:"},
                _code("def relative_change_wrong(codes):\n    return float((codes[0] - codes[1]).norm() / codes[1].norm())",
                      ["wrong-answer", "lecturer"]),
            ]}


def _text(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _body_tokens(source: str) -> list[str]:
    """The tokens of the first function's body in ``source`` (comments and layout left out)."""
    tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(source.split("\n\n\n")[0]).readline)
              if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                tokenize.ENDMARKER)]
    depth = 0
    for i, token in enumerate(tokens):  # skip the signature: up to the first ':' outside brackets
        depth += token in "([{"
        depth -= token in ")]}"
        if token == ":" and depth == 0:
            return tokens[i + 1:]
    return tokens


def _solution_body(cell: dict) -> str:
    return "\n".join(line for line in _text(cell).splitlines() if not line.startswith("#@title"))


def likeness(wrong: dict, solutions: list[dict]) -> float:
    """How much of a solution a wrong answer reproduces (0: nothing, 1: all of it, in order)."""
    ours = _body_tokens(_text(wrong))
    return max((difflib.SequenceMatcher(None, ours, _body_tokens(_solution_body(s))).ratio() for s in solutions),
               default=0.0)


def leaks(source: dict, copy: dict) -> list[str]:
    """Every solution marker in ``copy`` (the student copy of ``source``); [] when it leaks nothing."""
    found = []
    solutions = [c for c in source["cells"] if make_student.is_solution(c)]
    quoted = "\n".join(_text(c) for c in source["cells"]  # what the notebook's own text shows
                       if not make_student.is_solution(c) and not _tags(c) & {"lecturer", "wrong-answer"})
    text = "\n".join(_text(c) for c in copy["cells"])
    for cell in copy["cells"]:
        if _tags(cell) & {"solution", "lecturer"}:
            found.append(f"a cell tagged {sorted(_tags(cell) & {'solution', 'lecturer'})}")
        if "#@title Solution" in _text(cell):
            found.append(f"a solution cell: {_text(cell)[:60]!r}")
        for name in re.findall(r"\b\w+_solution\b", _text(cell)):
            found.append(f"the solution's name {name}")
        if "wrong-answer" in _tags(cell) and likeness(cell, solutions) > MAX_WRONG_ANSWER_LIKENESS:
            found.append(f"a wrong answer that is the solution with one slip ({likeness(cell, solutions):.2f}): "
                         f"{_text(cell)[:60]!r}")
    for solution in solutions:
        for line in _text(solution).splitlines():
            line = line.split("#")[0].strip()
            if len(line) >= 20 and line not in quoted and line in text:
                found.append(f"a line of the solution: {line!r}")
    return found


def test_make_student_removes_solutions_and_lecturer_cells_and_gives_notes_ids():
    source = synthetic()
    copy = make_student.student_notebook(source)
    assert leaks(source, copy) == []
    notes = [c for c in copy["cells"] if _tags(c) & {"solution-removed", "lecturer-removed"}]
    assert [sorted(_tags(c)) for c in notes] == [["solution-removed"], ["lecturer-removed"]]  # two lecturer cells, one note
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", c["id"]) for c in copy["cells"])
    assert len({c["id"] for c in copy["cells"]}) == len(copy["cells"])
    assert make_student.student_notebook(source) == copy  # the same ids on every rebuild
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(json.dumps(copy), as_version=4))  # no "missing id" warning, valid cells


def test_the_leak_test_can_fail():
    """Each marker on its own makes ``leaks`` report: the test below is not vacuous."""
    source = synthetic()
    good = make_student.student_notebook(source)
    solution = source["cells"][2]
    wrong = source["cells"][6]
    kept_solution = dict(good, cells=good["cells"] + [solution])
    renamed = dict(solution, metadata={}, source=_text(solution).replace("#@title Solution\n", ""))
    untagged = dict(good, cells=good["cells"] + [renamed])  # 10's exercise (a) before it was tagged
    near = dict(good, cells=good["cells"] + [dict(wrong, metadata={"tags": ["wrong-answer"]})])
    line = dict(good, cells=good["cells"] + [_code("def f(codes):\n    return float((codes[0] - codes[1]).norm() / codes[0].norm())")])
    for bad, what in [(kept_solution, "solution cell"), (untagged, "solution's name"),
                      (near, "one slip"), (line, "line of the solution")]:
        assert any(what in problem for problem in leaks(source, bad)), what


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_copy_leaks_nothing(path):
    source = json.loads(path.read_text())
    copy = make_student.student_notebook(source)
    assert leaks(source, copy) == []
    stubs = [c for c in source["cells"] if make_student.EXERCISE_TAG in _tags(c)]
    assert stubs and [c for c in copy["cells"] if make_student.EXERCISE_TAG in _tags(c)] == stubs
    assert all("id" in c for c in copy["cells"]), f"{path.name}: a cell without an id"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_function_cell_after_a_stub_is_an_exercise(path):
    """An exercise nobody tagged keeps its solution in the copy: every stub is tagged ``exercise`` and
    followed by a tagged solution."""
    cells = json.loads(path.read_text())["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code" and re.search(r"raise NotImplementedError\(\"write \w+ here\"\)", _text(cell)):
            assert "exercise" in _tags(cell) and "solution" in _tags(cells[i + 1]), f"{path.name}: {_text(cell)[:60]!r}"


def test_synthetic_copy_runs_to_its_end_with_the_package_standing_in(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    source = synthetic()
    outputs = {}
    for which, notebook in (("lecturer", source), ("student", make_student.student_notebook(source))):
        nb = nbformat.reads(json.dumps(notebook), as_version=4)
        client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute(env={**os.environ, "PYTHONPATH": str(ROOT), "DRNET_QUICK": "1"})  # strict: a failed check raises
        outputs[which] = ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in nb.cells if c.cell_type == "code"]
    lecturer, student = outputs["lecturer"], outputs["student"]
    assert lecturer[3].startswith("Correct!") and lecturer[4].strip() == "1.0"
    assert student[2].startswith("Not written yet: relative_change still raises NotImplementedError")
    assert "relative_change is still the stub: the cells below use the package's" in student[3]
    assert student[3].strip().endswith("1.0")
