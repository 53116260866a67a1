"""Draw the trade-offs of the scene-discriminator study: on the turntable, every measured run's pose -> toy leak
against the viewpoint kept in pose and against unseen-toy swaps (rows: docs/figures/scene_tradeoff_turntable.csv);
with ``--video``, on real video, the pose -> tile leak against pose_effect and the moved-pixel PSNR
(rows: docs/figures/scene_tradeoff_video.csv).

    python tools/scene_tradeoff.py --out docs/figures/scene_tradeoff_turntable.png
    python tools/scene_tradeoff.py --video --out docs/figures/scene_tradeoff_video.png
"""
from __future__ import annotations

import argparse

from drnet_lite.experiments import video_study
from drnet_lite.experiments.turntable import STUDY_ROWS, read_study_rows, tradeoff_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", action="store_true", help="the real-video study instead of the turntable's")
    parser.add_argument("--rows", default=None, help="the rows (CSV; default: the repository's)")
    parser.add_argument("--out", default=None, help="the PNG (default: docs/figures/scene_tradeoff_<turntable|video>.png)")
    args = parser.parse_args()
    if args.video:
        fig = video_study.video_tradeoff_figure(video_study.read_video_rows(args.rows or video_study.STUDY_ROWS))
    else:
        fig = tradeoff_figure(read_study_rows(args.rows or STUDY_ROWS))
    args.out = args.out or f"docs/figures/scene_tradeoff_{'video' if args.video else 'turntable'}.png"
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
