"""Notebook 08's numbers, read in words: what a real-video DRNet's scores say it has and has not learned.

Each function takes the dictionaries the package computes
(:func:`drnet_lite.evaluate_frames.reconstruction_scores`,
:func:`drnet_lite.evaluate_frames.scene_probes`,
:func:`drnet_lite.evaluate_prediction.prediction_curves`) and returns sentences
that state a comparison and its verdict, so a notebook's text follows the model
it is shown: a better model changes the numbers and the verdicts, not the code.

The tests they apply:

* **Pose draws the people** only if, on the pixels that moved between the content
  frame and the target, the reconstruction beats both copying the content frame
  (people in their old places) and the scene's median (no people at all). Beating
  copying alone can come from blurring the people away.
* **Pose is free of the scene** when a probe reads the scene from pose near
  chance, and a fresh scene discriminator on frozen pose pairs stays near 50%.
* **Prediction** is compared step by step with the oracle (the decoder fed the
  true future poses) and with copying the last observed frame.
"""
from __future__ import annotations

from typing import Mapping, Sequence

#: Differences smaller than this (dB) are read as "the same".
SAME_DB = 0.1
#: A probe or a discriminator within this many points of chance reads as "at chance".
NEAR_CHANCE = 0.05
#: A ``pose_effect`` below this reads as "the decoder ignores the pose".
IGNORED = 0.05


def _vs(a: float, b: float) -> str:
    return "above" if a > b + SAME_DB else ("below" if a < b - SAME_DB else "level with")


def read_reconstruction(scores: Mapping[str, float]) -> list[str]:
    """Sentences on ``reconstruction_scores``: does the pose draw the people, and how sharp is the scene."""
    rec, copy = scores["reconstruction_moved_psnr"], scores["content_frame_baseline_moved_psnr"]
    lines = [f"Moved pixels ({scores['moved_pixel_share']:.1%} of a frame): reconstruction {rec:.2f} dB, "
             f"copying the content frame {copy:.2f} dB"
             + (f", the people-free scene median {scores['scene_median_baseline_moved_psnr']:.2f} dB."
                if "scene_median_baseline_moved_psnr" in scores else ".")]
    median = scores.get("scene_median_baseline_moved_psnr")
    if rec <= copy + SAME_DB:
        lines.append("-> The reconstruction does not beat copying the content frame where things moved: "
                     "no sign that the pose draws the people.")
    elif median is not None and rec <= median + SAME_DB:
        lines.append(f"-> It beats copying by {rec - copy:.1f} dB but not the guess with no people at all "
                     f"({rec - median:+.1f} dB): removing the people scores as well, so these numbers do not "
                     "show that the pose draws them.")
    elif median is not None:
        lines.append(f"-> It beats copying by {rec - copy:.1f} dB and the people-free median by {rec - median:.1f} dB: "
                     "the pose puts something of the people where the target has them.")
    else:
        lines.append(f"-> It beats copying by {rec - copy:.1f} dB (no people-free baseline for this source).")
    whole, whole_copy = scores["reconstruction_psnr"], scores["content_frame_baseline_psnr"]
    same = scores.get("same_frame_reconstruction_psnr")
    lines.append(f"Whole frame: reconstruction {whole:.2f} dB, {_vs(whole, whole_copy)} copying the content frame "
                 f"({whole_copy:.2f} dB)" + (f"; same-frame reconstruction {same:.2f} dB." if same is not None else "."))
    if whole < whole_copy - SAME_DB:
        lines.append("-> The redrawn still scene is blurrier than the scene itself: copying wins on the "
                     "pixels that did not move, which are most of them.")
    effect = scores.get("pose_effect")
    if effect is not None:
        lines.append(f"Changing only the pose changes the decoded frame by {effect:.1%} of what truly changed (pose_effect).")
        lines.append("-> The decoder ignores the pose: every column of a swap matrix is the same picture." if effect < IGNORED
                     else "-> The decoded frame follows the pose.")
    return lines


def read_probes(probes: Mapping[str, float]) -> list[str]:
    """Sentences on ``scene_probes``: does content identify the scene, and is pose free of it."""
    chance = probes.get("scene_probe_chance")
    lines = []
    if chance is not None:
        content = max(probes["content_to_scene_linear"], probes["content_to_scene_mlp"])
        pose = max(probes["pose_to_scene_linear"], probes["pose_to_scene_mlp"])
        lines.append(f"Scene ({int(probes['scene_classes'])} classes, chance {chance:.1%}) read by the better of a "
                     f"linear and an MLP probe: from content {content:.1%}, from pose {pose:.1%}.")
        if pose > chance + NEAR_CHANCE:
            lines.append(f"-> The pose vector still identifies the scene ({pose:.1%} against chance {chance:.1%}): "
                         "it is not free of content, as disentanglement asks.")
        else:
            lines.append("-> The pose vector does not identify the scene: the probe is at chance.")
    fresh = probes["fresh_scene_discriminator_accuracy"]
    lines.append(f"A fresh scene discriminator on frozen pose pairs: {fresh:.1%} (50% = pose does not tell clips apart).")
    if fresh > 0.5 + NEAR_CHANCE:
        lines.append("-> It tells same-clip pairs from shuffled ones: the adversary has not cleaned the pose.")
    return lines


def read_prediction(curves: Mapping[str, Mapping[str, Sequence[float]]], metric: str = "psnr") -> list[str]:
    """Sentences on ``prediction_curves``: the LSTM against the oracle and against copying the last frame."""
    lstm, oracle, copy = (list(curves[m][metric]) for m in ("lstm", "oracle", "copy_last"))
    horizon = len(lstm)
    gap = max(abs(a - b) for a, b in zip(lstm, oracle))
    lines = [f"{metric.upper()} at t+1 / t+{horizon}: LSTM {lstm[0]:.2f} / {lstm[-1]:.2f}, oracle {oracle[0]:.2f} / "
             f"{oracle[-1]:.2f}, copy last frame {copy[0]:.2f} / {copy[-1]:.2f}."]
    if gap < SAME_DB:
        lines.append(f"-> The LSTM equals the oracle at every step (largest gap {gap:.2f}): either its poses are the true "
                     "ones, or the decoder draws nearly the same frame whatever pose it is fed. The swap matrix tells "
                     "which: if its columns all look alike, it is the second, and these curves cannot show whether "
                     "the LSTM predicts well.")
    else:
        worst = max(range(horizon), key=lambda k: oracle[k] - lstm[k])
        lines.append(f"-> The LSTM is {oracle[worst] - lstm[worst]:.2f} below the oracle at its worst step (t+{worst + 1}): "
                     "that is the cost of predicting the poses instead of knowing them.")
    wins = [k + 1 for k in range(horizon) if lstm[k] > copy[k] + SAME_DB]
    if not wins:
        lines.append(f"-> Copying the last frame beats the LSTM at every step ({copy[0] - lstm[0]:.1f} at t+1, "
                     f"{copy[-1] - lstm[-1]:.1f} at t+{horizon}): on this footage most pixels stand still, and the "
                     "model's redrawn frame is further from the truth than the last frame is.")
    else:
        lines.append(f"-> The LSTM beats copying the last frame at {len(wins)} of {horizon} steps, first at t+{wins[0]}.")
    return lines


__all__ = ["read_prediction", "read_probes", "read_reconstruction"]
