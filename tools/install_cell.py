#!/usr/bin/env python3
"""Write the Colab install cell of every notebook from ``drnet_lite.course.colab_install_cell()``.

    python tools/install_cell.py            # rewrite the cells tagged "install"
    python tools/install_cell.py --check    # exit 1 if a notebook's cell differs

The repository URL lives in one place, ``drnet_lite.course.REPO_URL``: change it
there and run this tool (tests/test_notebooks.py checks that the cells match).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from drnet_lite.course import colab_install_cell  # noqa: E402


def install_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "install" in c.metadata.get("tags", [])]


def main(argv: list[str] | None = None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    wanted, bad = colab_install_cell(), []
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells = install_cells(nb)
        if len(cells) != 1:
            bad.append(f"{path.name}: {len(cells)} cells tagged 'install', expected 1")
            continue
        if cells[0].source != wanted:
            if args.check:
                bad.append(f"{path.name}: the install cell differs from drnet_lite.course.colab_install_cell()")
            else:
                cells[0].source = wanted
                nbformat.write(nb, path)
                print("rewrote", path.name)
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
