"""Draw the turntable trade-off of the scene-discriminator study: every measured run's pose -> toy leak against
the viewpoint kept in pose and against unseen-toy swaps (rows: docs/figures/scene_tradeoff_turntable.csv).

    python tools/scene_tradeoff.py --out docs/figures/scene_tradeoff_turntable.png
"""
from __future__ import annotations

import argparse

from drnet_lite.experiments.turntable import STUDY_ROWS, read_study_rows, tradeoff_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=str(STUDY_ROWS), help="the rows (CSV; default: the repository's)")
    parser.add_argument("--out", default="docs/figures/scene_tradeoff_turntable.png")
    args = parser.parse_args()
    fig = tradeoff_figure(read_study_rows(args.rows))
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
