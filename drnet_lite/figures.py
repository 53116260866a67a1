"""The architecture picture of notebook 00 (drawn with matplotlib; ``assets/figures/architecture.png``).

    python -m drnet_lite.figures assets/figures/architecture.png

One DRNet step, as the picture shows it: content frame x_c -> E_c -> h_c, pose frame
x_p -> E_p -> h_p, the decoder draws D(h_c, h_p) ~ x_p (L_rec); h_c of two frames of one
clip must agree (L_sim); the scene discriminator C reads pairs of pose vectors
(same clip or not) and E_p is trained to leave it at 1/2 (L_adv).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

#: (x, y, text, colour) of every box, in axis units (the axes span 0..12 x 0..6)
_BOXES = {
    "x_c": (0.9, 4.6, "content frame\n$x_c$ (time $t$)", "#dddddd"),
    "x_p": (0.9, 1.4, "pose frame\n$x_p$ (time $t'$)", "#dddddd"),
    "E_c": (3.3, 4.6, "content\nencoder $E_c$", "#9ecae1"),
    "E_p": (3.3, 1.4, "pose\nencoder $E_p$", "#fdae6b"),
    "h_c": (5.6, 4.6, "$h_c$\n(what)", "#c6dbef"),
    "h_p": (5.6, 1.4, "$h_p$\n(where)", "#fdd0a2"),
    "D": (8.0, 3.0, "decoder $D$", "#a1d99b"),
    "out": (10.6, 3.0, "$D(h_c, h_p)$\n$\\approx x_p$", "#dddddd"),
    "C": (8.0, 0.5, "scene\ndiscriminator $C$", "#fcbba1"),
}
_ARROWS = [("x_c", "E_c"), ("x_p", "E_p"), ("E_c", "h_c"), ("E_p", "h_p"), ("h_c", "D"), ("h_p", "D"), ("D", "out"),
           ("h_p", "C")]
_NOTES = [
    (10.6, 4.25, "$L_{rec}$: pixel MSE to $x_p$"),
    (4.45, 5.6, "$L_{sim}$: $h_c$ of two frames of one clip agree"),
    (10.35, 0.5, "$L_{adv}$: same clip or not?\n$E_p$ keeps $C$ at 1/2"),
]


def architecture_figure():
    """A matplotlib Figure of the two encoders, the decoder, the scene discriminator and the three losses."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig = Figure(figsize=(12, 6), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.2, 12.6)
    ax.set_ylim(-0.2, 6.2)
    ax.axis("off")
    w, h = 1.9, 1.0
    for x, y, text, colour in _BOXES.values():
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", facecolor=colour,
                                    edgecolor="#444444"))
        ax.text(x, y, text, ha="center", va="center", fontsize=11)
    for start, end in _ARROWS:
        (x0, y0), (x1, y1) = _BOXES[start][:2], _BOXES[end][:2]
        dx = w / 2 if x1 > x0 else 0
        ax.add_patch(FancyArrowPatch((x0 + dx, y0), (x1 - dx if x1 > x0 else x1, y1 + (h / 2 if y1 < y0 and x1 == x0 else 0)),
                                     arrowstyle="-|>", mutation_scale=14, color="#333333", shrinkA=2, shrinkB=2))
    for x, y, text in _NOTES:
        ax.text(x, y, text, ha="center", va="center", fontsize=10, style="italic", color="#7f2704")
    ax.text(0.15, 6.0, "DRNet (Denton & Birodkar, 2017): one frame = content (what) + pose (where)",
            fontsize=13, weight="bold", va="center")
    return fig


def save_architecture(path: str | os.PathLike) -> Path:
    """Draw :func:`architecture_figure` into a PNG at ``path`` (written atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    architecture_figure().savefig(tmp, format="png")
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    print(save_architecture(sys.argv[1] if len(sys.argv) > 1 else "assets/figures/architecture.png"))
