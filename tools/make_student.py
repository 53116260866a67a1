"""Student copies of the notebooks: the same notebooks with every solution cell removed.

    python tools/make_student.py                 # notebooks/*.ipynb -> student/notebooks/
    python tools/make_student.py --out DIR a.ipynb b.ipynb

The exercise format (set by the notebooks): an exercise cell tagged ``exercise`` holds a stub that
raises ``NotImplementedError``; the next cell, tagged ``solution`` (hidden in JupyterLab by
``jupyter.source_hidden`` and on Colab by ``cellView: form``), holds the solution and lets it stand
in for the stub. Cells tagged ``lecturer`` (a wrong answer that is the solution with one slip,
and the text that introduces it) are for the lecturer's copy only. In a student copy each
solution cell, and each run of lecturer cells, becomes a short note (a markdown cell with an
``id``), outputs are cleared, and nothing else changes, so lecturer and student copies cannot
drift apart: both come from the one source, and ``make student`` rebuilds the copies.

A cell after a check that needs the exercise's function takes
``package_if_unsolved(f, reference_f)``: while the student's function is still the stub, the
package's own implementation stands in and says so in one line, and the checks say "not written
yet" without failing, so "Run all" reaches the end of a copy before anything is written.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
LECTURER_TAG = "lecturer"
NOTE = ("*The solution of the exercise above is in the lecturer's copy. "
        "Write yours in the cell above and run the check below.*")
LECTURER_NOTE = ("*In the lecturer's copy a common wrong answer runs here, with the hint the check gives for it. "
                 "Try a slip of your own in the exercise cell: the check names the usual ones.*")


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_solution(cell: dict) -> bool:
    return SOLUTION_TAG in tags(cell)


def is_lecturer_only(cell: dict) -> bool:
    return LECTURER_TAG in tags(cell)


def note_cell(text: str, tag: str, replaces: dict) -> dict:
    """A markdown note standing where ``replaces`` was; its id is derived from that cell's (stable across rebuilds)."""
    seed = replaces.get("id") or hashlib.sha1(json.dumps(replaces, sort_keys=True).encode()).hexdigest()[:12]
    return {"cell_type": "markdown", "id": f"{seed}-{tag}"[:64], "metadata": {"tags": [tag]}, "source": [text]}


def student_notebook(notebook: dict) -> dict:
    """A student copy of a notebook (a dict as in the ``.ipynb`` JSON): solution cells replaced by a note,
    each run of lecturer-only cells by another, every output and execution count cleared."""
    cells: list[dict] = []
    for cell in notebook["cells"]:
        if is_solution(cell):
            cells.append(note_cell(NOTE, "solution-removed", cell))
            continue
        if is_lecturer_only(cell):
            if not (cells and LECTURER_TAG + "-removed" in tags(cells[-1])):
                cells.append(note_cell(LECTURER_NOTE, LECTURER_TAG + "-removed", cell))
            continue
        cell = json.loads(json.dumps(cell))
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    copy = dict(notebook)
    copy["cells"] = cells
    return copy


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_student(sources: list[Path], out: Path) -> list[Path]:
    written = []
    for source in sources:
        notebook = json.loads(source.read_text())
        copy = student_notebook(notebook)
        target = out / source.name
        write_atomic(target, json.dumps(copy, indent=1, ensure_ascii=False) + "\n")
        removed = sum(is_solution(c) for c in notebook["cells"])
        lecturer = sum(is_lecturer_only(c) for c in notebook["cells"])
        exercises = sum(EXERCISE_TAG in tags(c) for c in notebook["cells"])
        print(f"{target}: {exercises} exercise(s), {removed} solution cell(s) and {lecturer} lecturer-only cell(s) removed")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "student" / "notebooks")
    args = parser.parse_args(argv)
    sources = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not sources:
        print("no notebooks found", file=sys.stderr)
        return 1
    missing = [str(p) for p in sources if not p.is_file()]
    if missing:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 1
    make_student(sources, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
