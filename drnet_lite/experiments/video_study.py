"""The scene-discriminator study on real video (``video-64`` on the tiles of ``vtest.avi``): its measured rows
and the trade-off figure that notebook 08 draws.

Every row is one trained run scored by :func:`drnet_lite.evaluate_frames.evaluate_frames` on the test frames
(500 clips, 1,000 probe clips): how much the scene leaks into pose (``pose_to_tile_mlp``, chance 11.6%),
whether the decoder reads the pose at all (``pose_effect``), and how well the walkers are drawn where things
moved (``moved_psnr``). The figure puts the leak against the other two, with the floor that where people
walk sets under any pose that draws them (:func:`drnet_lite.evaluate_frames.motion_scene_floor`).
"""
from __future__ import annotations

import os
from typing import Any

from ..assets import STUDY_FOLDER, read_study_csv

#: The rows, kept beside the turntable's (the repository's docs/figures/).
STUDY_ROWS = STUDY_FOLDER / "scene_tradeoff_video.csv"
#: The issue's target for pose -> tile: at most twice chance (12 tiles, chance 11.6%).
LEAK_TARGET = 2 * 0.116
#: The motion floor (notebook 08): a probe names the tile from where things moved alone, 58% (2 x 2 cells)
#: to 66% (4 x 4 cells) of the time.
MOTION_FLOOR = (0.582, 0.656)
#: Moved-pixel PSNR of the people-free per-tile median and of copying the content frame (the test frames).
MEDIAN_MOVED_PSNR, COPY_MOVED_PSNR = 15.07, 8.78

NUMBERS = ("steps", "beta", "dependence_weight", "pose_to_tile_mlp", "pose_effect", "moved_psnr", "whole_psnr", "fresh_C")


def read_video_rows(path: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """The study's rows: ``run``, ``adversary`` and the numbers of :data:`NUMBERS` (floats)."""
    return read_study_csv(STUDY_ROWS if path is None else path, NUMBERS)


def _colour(row: dict[str, Any]) -> str:
    if row["steps"] == 0:
        return "black"
    if row["dependence_weight"] > 0:
        return "tab:red"
    return "tab:green" if row["beta"] == 0 else "tab:blue"


def video_tradeoff_figure(rows: list[dict[str, Any]]):
    """Two panels over the runs' pose -> tile leak (x): ``pose_effect`` (does the decoder read pose?) and the
    moved-pixel PSNR (are the walkers drawn?), with the motion floor shaded and the leak target dotted."""
    import matplotlib.pyplot as plt

    labels = {"black": "untrained", "tab:blue": "the paper's C (beta > 0)", "tab:green": "no adversary (beta 0)",
              "tab:red": "no adversary, + L_dep"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in ((axes[0], "pose_effect", "pose_effect (0: the decoder ignores pose)"),
                           (axes[1], "moved_psnr", "PSNR where things moved (dB)")):
        seen = set()
        for row in rows:
            colour = _colour(row)
            marker = "*" if "shipped" in row["run"] else "o"
            ax.scatter(row["pose_to_tile_mlp"], row[key], color=colour, marker=marker, s=90 if marker == "*" else 36,
                       label=None if colour in seen or ax is axes[1] else labels[colour])
            seen.add(colour)
        ax.axvspan(*MOTION_FLOOR, color="tab:grey", alpha=0.2,
                   label=None if ax is axes[1] else "the motion floor (where people walk)")
        ax.axvline(LEAK_TARGET, color="black", ls=":", lw=1, label=None if ax is axes[1] else "2x chance")
        ax.set_xlim(0, 1.02)
        ax.set_xlabel("pose -> tile, MLP probe (the leak; chance 11.6%)")
        ax.set_ylabel(label)
    axes[1].axhline(MEDIAN_MOVED_PSNR, color="black", ls="--", lw=1, label="the people-free median")
    axes[1].axhline(COPY_MOVED_PSNR, color="tab:grey", ls="--", lw=1, label="copying the content frame")
    axes[0].legend(fontsize=7, loc="upper left")
    axes[1].legend(fontsize=7, loc="lower left")
    axes[0].set_title("the pose is either read and leaky, or clean and ignored")
    axes[1].set_title("only a read pose draws the walkers (star: shipped)")
    fig.tight_layout()
    return fig
