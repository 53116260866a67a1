#!/usr/bin/env python3
"""Strip outputs, execution counts and widget state from notebooks, in place.

    python3 tools/strip_notebooks.py notebooks/*.ipynb          # strip
    python3 tools/strip_notebooks.py --check notebooks/*.ipynb  # exit 1 if any is not stripped

Notebooks are committed without outputs so that diffs show only what changed
in the sources. Kept: cell sources, cell ids, tags and other cell metadata such
as ``jupyter.source_hidden``, and the notebook's kernelspec. Removed: outputs,
execution counts, per-cell execution timings, output collapse/scroll flags, the
notebook-level ``widgets`` state and the Python version in ``language_info``
(it changes with whoever ran the notebook last). The file is written the way Jupyter
writes it (nbformat's JSON layout), so a stripped notebook saved again by
Jupyter without running it does not change. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

#: Cell-level metadata keys that only describe a run or the output area.
CELL_METADATA_DROP = ("execution", "ExecuteTime", "collapsed", "scrolled")
#: Notebook-level metadata keys that hold run state.
NOTEBOOK_METADATA_DROP = ("widgets",)


def strip_notebook(nb: dict) -> dict:
    """Return ``nb`` (modified in place) without outputs, counts and run state."""
    metadata = nb.get("metadata", {})
    for key in NOTEBOOK_METADATA_DROP:
        metadata.pop(key, None)
    if isinstance(metadata.get("language_info"), dict):
        metadata["language_info"].pop("version", None)
    for cell in nb.get("cells", []):
        metadata = cell.get("metadata", {})
        for key in CELL_METADATA_DROP:
            metadata.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def dumps(nb: dict) -> str:
    """Serialise like nbformat does: indent 1, sorted keys, non-ASCII kept, final newline."""
    return json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False) + "\n"


def process(path: Path, check: bool) -> bool:
    """Strip one notebook; return True if it was (or, with ``check``, would be) changed."""
    text = path.read_text(encoding="utf-8")
    stripped = dumps(strip_notebook(json.loads(text)))
    if stripped == text:
        return False
    if not check:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(stripped)
        os.replace(tmp, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help=".ipynb files to strip in place")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not stripped")
    args = parser.parse_args(argv)
    changed = []
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():  # e.g. an unmatched glob "notebooks/*.ipynb"
            print(f"skipping {path}: not an .ipynb file", file=sys.stderr)
            continue
        try:
            if process(path, args.check):
                changed.append(path)
        except (OSError, json.JSONDecodeError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 2
    verb = "not stripped" if args.check else "stripped"
    for path in changed:
        print(f"{verb}: {path}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
