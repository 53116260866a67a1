"""Every notebook of the series has the parts a student looks for: a Colab link to itself, learning
goals at the top, and a summary with "try this next" at the bottom."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COLAB = "https://colab.research.google.com/github/drnet-lite/drnet_lite/blob/main/notebooks/{name}"


def _markdown(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def test_the_series_is_all_here():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(11)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_colab_link_goals_summary_and_next_steps(path):
    cells = _markdown(path)
    first, last = cells[0], cells[-1]
    assert first.startswith(f"# {path.name[:2]} · "), f"{path.name}: the first cell is the numbered title"
    assert COLAB.format(name=path.name) in first, f"{path.name}: the Colab badge must open this notebook"
    assert "earning goals" in first, f"{path.name}: learning goals belong in the first cell"
    assert last.startswith("## Summary"), f"{path.name}: the last markdown cell is the summary"
    assert "Try this next" in last, f"{path.name}: the summary ends with what to try next"


def _readme_lab_seconds() -> dict[str, int]:
    """The lab column of the README's *Measured times* table, by notebook number."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = re.findall(r"^\| `(\d\d)_[a-z_]+`[^|]*\| [^|]*\| ([\d,]+) s \|", readme, flags=re.M)
    return {number: int(seconds.replace(",", "")) for number, seconds in rows}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_header_states_the_measured_lab_minutes(path):
    """The header says how long lab mode takes, and it is the README's measured figure (at most 5 minutes)."""
    seconds = _readme_lab_seconds()[path.name[:2]]
    assert seconds <= 300, f"{path.name}: lab mode took {seconds} CPU s, over the 5 minutes of a lab"
    minutes = "under a minute" if seconds < 60 else f"about {round(seconds / 60)} minutes"
    first = _markdown(path)[0]
    assert f"*Lab mode (`MODE = \"lab\"` in the setup cell): {minutes} on one CPU thread (measured: {seconds:,} CPU s;" \
        in first, f"{path.name}: the header must state the README's lab figure ({seconds:,} CPU s)"
