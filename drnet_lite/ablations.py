"""The paper's ablations, run back to back and scored the same way: one table.

Each ablation removes one ingredient of DRNet from a preset, everything else
equal, and is trained for the same number of steps:

* ``full``: the preset as it is, L = L_rec + alpha L_sim + beta L_adv;
* ``no-adversary``: beta = 0, nothing keeps content out of the pose vector
  but its size;
* ``pose-dim-2``: a 2-number pose vector (the adversary stays on): a tight
  bottleneck can hold a position but hardly a digit;
* ``no-similarity``: alpha = 0, nothing asks content to be the same across
  the frames of a clip;
* ``no-content-normalization``: the content vector is no longer normalised
  over the batch, so nothing stops it from collapsing to a constant.

Every row is scored by :func:`drnet_lite.experiments.moving_mnist.evaluate` on the fixed test
set: swap content accuracy, how often the swap shows the pose clip's digit,
window SSIM, the digit read back from pose vectors (near chance = no leak) and
a fresh scene discriminator (about 50% = pose does not identify the clip).
A lecturer can give one ablation to each table of students
(``run_ablations(names=["no-adversary"])``) and collect the rows.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterable

from .experiments.moving_mnist import evaluate
from .judge import load_judge
from .models import DRNet
from .runs import RUN_FILES
from .train import TrainConfig, fit
from .presets import PRESETS, preset

ABLATIONS: dict[str, dict[str, Any]] = {
    "full": {},
    "no-adversary": {"adversarial_weight": 0.0},
    "pose-dim-2": {"pose_dim": 2},
    "no-similarity": {"similarity_weight": 0.0},
    "no-content-normalization": {"normalize_content": False},
}

#: The three the paper's argument rests on, run back to back by notebook 05's full mode.
MAIN_ABLATIONS = ("no-adversary", "pose-dim-2", "no-similarity")

#: (column title, metrics key) of the table, in order.
COLUMNS = [
    ("swap accuracy", "swap_accuracy"), ("shows pose digit", "swap_shows_pose_digit"),
    ("window SSIM", "swap_window_ssim"), ("digit from pose (MLP)", "pose_to_digit_mlp"),
    ("probe chance", "probe_chance"), ("digit from content (MLP)", "content_to_digit_mlp"),
    ("fresh C", "fresh_scene_discriminator_accuracy"),
]


def run_ablations(base: str = "mnist-lite", names: Iterable[str] | None = None, out_root: str | os.PathLike | None = None,
                  data_root: str | os.PathLike | None = None, pairs: int = 500, probe_clips: int = 2000,
                  progress: bool = True, overwrite: bool = False, **overrides: Any) -> list[dict[str, Any]]:
    """Train and score each ablation of preset ``base``; one row (dict) per ablation.

    Args:
        names: which of :data:`ABLATIONS` (default: all, in order).
        out_root: run folders go to ``out_root/<name>`` (None: in memory only); a folder
            that already holds a run is refused before any training starts, unless ``overwrite``.
        overrides: flat settings applied to every run (e.g. ``steps=3000``).
    Each row holds ``name``, ``steps``, ``seconds`` (wall time of the training) and the
    :data:`COLUMNS` numbers (see :func:`score`).
    """
    names = list(ABLATIONS) if names is None else list(names)
    unknown = [n for n in names if n not in ABLATIONS]
    if unknown:
        raise ValueError(f"unknown ablation(s) {unknown}; choose from {list(ABLATIONS)}")
    configs = {name: preset(base, **{**overrides, **ABLATIONS[name]}) for name in names}  # bad settings fail here, before any training
    source = next(iter(configs.values())).data.source if configs else "moving-mnist"
    if source != "moving-mnist":
        usable = sorted(name for name in PRESETS if PRESETS[name]().data.source == "moving-mnist")
        raise ValueError(f"ablations are scored by reading digits (the digit judge), so they need a Moving MNIST "
                         f"preset ({', '.join(usable)}); {base!r} trains on {source} data")
    if out_root is not None and not overwrite:
        # the rule of runs.open_run (a folder holding a run's files), checked for every run before the first trains
        taken = [name for name in names if any((Path(out_root) / name / f).exists() for f in RUN_FILES)]
        if taken:
            raise ValueError(f"{out_root} already holds run(s) {taken}: pick another folder (--out on the command "
                             "line, out_root in Python), pass overwrite (--overwrite), or delete them first")
    judge = load_judge()
    rows = []
    for name, config in configs.items():
        start = time.perf_counter()
        result = fit(config, None if out_root is None else Path(out_root) / name, data_root=data_root, progress=progress,
                     overwrite=overwrite)
        rows.append(score(name, result.model, config, result.step, time.perf_counter() - start, judge,
                          data_root=data_root, pairs=pairs, probe_clips=probe_clips))
    return rows


def score(name: str, model: DRNet, config: TrainConfig, steps: int, seconds: float, judge: Any = None,
          data_root: str | os.PathLike | None = None, pairs: int = 500, probe_clips: int = 2000) -> dict[str, Any]:
    """One row of the table for a model trained ``steps`` steps in ``seconds``: ``name``, ``steps``,
    ``seconds`` and the :data:`COLUMNS` numbers of
    :func:`drnet_lite.experiments.moving_mnist.evaluate` on the fixed test set."""
    metrics = evaluate(model, config.data, load_judge() if judge is None else judge, root=data_root,
                       pairs=pairs, probe_clips=probe_clips)
    return {"name": name, "steps": steps, "seconds": round(seconds, 1),
            **{key: metrics[key] for _, key in COLUMNS}}


def ablation_table(rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`run_ablations` as a Markdown table (shares in percent)."""
    head = "| ablation | steps | train s | " + " | ".join(title for title, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * (3 + len(COLUMNS))]
    for row in rows:
        cells = [row["name"], f"{row['steps']:,}", f"{row['seconds']:.0f}"]
        cells += [f"{row[key]:.3f}" if key == "swap_window_ssim" else f"{100 * row[key]:.1f}%" for _, key in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
