"""Measured disentanglement of a trained DRNet on a fixed, seeded Moving MNIST test set (the Moving MNIST part;
the metrics every source gets are in :mod:`drnet_lite.evaluate_frames`).

* Swap fidelity: PSNR/SSIM of ``D(E_c(A), E_p(B))`` against the exact target
  (A's digits at B's positions), whole frame and on the digit windows.
* Swap content accuracy: the digit judge reads each digit of the swapped frame
  at its target position; the share that matches A's labels.
* Leakage probes on frozen encoders: digit identity from pose vectors
  (near chance = no leak), digit position from content vectors (R^2 near 0 =
  no leak), each with a linear probe and a small MLP; and a freshly trained
  scene discriminator on frozen pose vectors (about 50% = pose does not
  identify the clip).
"""
from __future__ import annotations

import dataclasses
import itertools
import os
from pathlib import Path
from typing import Any

import torch

from . import atomic
from .device import device_of, to_cpu
from .data import Clips, MovingMNIST, MovingMNISTConfig
from .evaluate_frames import fit_probe as _fit_probe, fresh_scene_discriminator  # noqa: F401
from .judge import DigitJudge, read_digits
from .losses import scene_discriminator_loss, shuffled_partner
from .metrics import (best_pairing_scores, shift_tolerant_box_ssim, shift_tolerant_window_ssim, summarize,
                      swap_targets, window_scores)
from .models import DRNet, SceneDiscriminator
from .swap import reconstruct

TEST_SEED = 2017


def test_config(data: MovingMNISTConfig) -> MovingMNISTConfig:
    """The same distribution as ``data`` but drawn from MNIST test digits."""
    return dataclasses.replace(data, split="test")


def fixed_swap_pairs(data: MovingMNIST, count: int, seed: int = TEST_SEED):
    """Content frames (time 0 of clips A) and pose frames (a random time of clips B), seeded."""
    g = torch.Generator().manual_seed(seed)
    content = data.sample(count, generator=g, times=torch.zeros(count, 1, dtype=torch.long))
    times = torch.randint(0, data.config.seq_len, (count, 1), generator=g)
    pose = data.sample(count, generator=g, times=times)
    return content, pose


@torch.inference_mode()
def score_swaps(output: torch.Tensor, content: Clips, pose: Clips, judge: DigitJudge, config: MovingMNISTConfig) -> dict[str, torch.Tensor]:
    """Per-pair scores of swapped frames ``output`` (N, C, S, S) for content clips A and pose frames B.

    ``content`` and ``pose`` hold one frame per clip (their ground truth is
    used: A's digits, B's positions). Returns (N,) tensors: ``psnr``,
    ``ssim``, ``window_psnr``, ``window_ssim`` against the best-paired exact
    target, ``window_ssim_within_2px`` (the same with the target drawn up to
    2 px off, best shift: a diagnostic, see
    :func:`~drnet_lite.metrics.shift_tolerant_window_ssim`), ``correct``
    (share of digits the judge reads as A's), and ``shows_pose_digit``
    (share read as B's digits); per box (N, K): ``correct_per_digit``,
    ``window_ssim_per_digit`` and ``window_ssim_within_2px_per_digit`` (each box
    with its own best shift); ``wrong_slot``, the share of boxes that show A's
    digit meant for another box, and ``pairing_not_identity`` (1 where the best
    pairing is not digit k at position k; always 0 with per-digit channels).
    """
    perms = [tuple(range(config.num_digits))] if config.channels == "per-digit" else list(itertools.permutations(range(config.num_digits)))
    perm_index = torch.tensor(perms, device=content.labels.device)
    positions = pose.positions[:, 0]
    targets = swap_targets(content.digits, positions, config.image_size, config.channels)
    scores = best_pairing_scores(output, targets, positions, config.digit_size, config.channels)
    expected = torch.gather(content.labels, 1, perm_index[scores["pairing"]])
    paired_digits = torch.gather(content.digits, 1, perm_index[scores["pairing"]][:, :, None, None].expand_as(content.digits))
    scores["window_ssim_within_2px"] = shift_tolerant_window_ssim(output, paired_digits, positions, config.image_size,
                                                                  config.channels, radius=2)
    scores["window_ssim_per_digit"] = windows_exact = window_scores(output, targets[scores["pairing"], torch.arange(len(output))],
                                                                   positions, config.digit_size, config.channels)["ssim_per_digit"]
    scores["window_ssim_within_2px_per_digit"] = torch.maximum(windows_exact, shift_tolerant_box_ssim(
        output, paired_digits, positions, config.image_size, config.channels, radius=2))
    reading = read_digits(judge, output, positions, config.digit_size, config.channels)
    scores["correct_per_digit"] = (reading == expected).float()
    scores["correct"] = scores["correct_per_digit"].mean(1)
    scores["shows_pose_digit"] = (reading == pose.labels).float().mean(1)
    # a box that shows one of A's digits, but the one the pairing sends to another box
    other = torch.zeros_like(reading, dtype=torch.bool)
    for j in range(1, config.num_digits):
        other |= reading == expected.roll(j, dims=1)
    scores["wrong_slot"] = (other & (reading != expected)).float().mean(1)
    scores["pairing_not_identity"] = (scores["pairing"] != 0).float()
    return scores


def _rows(clips: Clips, sl: slice) -> Clips:
    return Clips(*(getattr(clips, f.name)[sl] for f in dataclasses.fields(Clips)))


@torch.inference_mode()
def evaluate_swaps(model: DRNet, data: MovingMNIST, judge: DigitJudge, count: int = 500, seed: int = TEST_SEED,
                   batch: int = 250) -> dict[str, float]:
    """Swap fidelity and content accuracy on ``count`` fixed (A, B) pairs."""
    content, pose = fixed_swap_pairs(data, count, seed)
    rows: dict[str, list[torch.Tensor]] = {}
    for start in range(0, count, batch):
        sl = slice(start, start + batch)
        a, b = _rows(content, sl), _rows(pose, sl)
        output = reconstruct(model, a.frames[:, 0], b.frames[:, 0]).to(a.frames.device)  # scored where the data is
        for key, value in score_swaps(output, a, b, judge, data.config).items():
            rows.setdefault(key, []).append(value.float().cpu())
    cat = {k: torch.cat(v) for k, v in rows.items()}
    per_digit: dict[str, float] = {}
    if data.config.num_digits > 1:
        for k in range(data.config.num_digits):
            per_digit[f"swap_accuracy_digit_{k}"] = float(cat["correct_per_digit"][:, k].mean())
            per_digit[f"swap_window_ssim_digit_{k}"] = float(cat["window_ssim_per_digit"][:, k].mean())
            per_digit[f"swap_window_ssim_within_2px_digit_{k}"] = float(cat["window_ssim_within_2px_per_digit"][:, k].mean())
        per_digit["swap_wrong_slot"] = float(cat["wrong_slot"].mean())
        per_digit["swap_pairing_not_identity"] = float(cat["pairing_not_identity"].mean())
    return {**per_digit,
        "swap_accuracy": float(cat["correct"].mean()),
        "swap_shows_pose_digit": float(cat["shows_pose_digit"].mean()),
        "swap_psnr": summarize(cat["psnr"]), "swap_ssim": float(cat["ssim"].mean()),
        "swap_window_psnr": summarize(cat["window_psnr"]), "swap_window_ssim": float(cat["window_ssim"].mean()),
        "swap_window_ssim_within_2px": float(cat["window_ssim_within_2px"].mean()),
        "pairs": count,
    }


@torch.no_grad()
def encode_clips(model: DRNet, data: MovingMNIST, count: int, seed: int, frames_per_clip: int = 2, batch: int = 250):
    """Content and pose vectors of ``frames_per_clip`` random frames of ``count`` fixed clips."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    times = torch.stack([torch.randperm(data.config.seq_len, generator=g)[:frames_per_clip] for _ in range(count)])
    clips = data.sample(count, generator=g, times=times)
    flat = clips.frames.flatten(0, 1).to(device_of(model))
    content = torch.cat([model.encode_content(flat[i:i + batch])[0] for i in range(0, len(flat), batch)])
    pose = torch.cat([model.encode_pose(flat[i:i + batch]) for i in range(0, len(flat), batch)])
    shape = (count, frames_per_clip)
    return to_cpu(content.view(*shape, -1)).clone(), to_cpu(pose.view(*shape, -1)).clone(), clips


def leakage_probes(model: DRNet, data: MovingMNIST, count: int = 2000, seed: int = TEST_SEED + 1) -> dict[str, float]:
    """Digit identity from pose and from content (per digit with K digits, and their mean), position from
    content (linear and MLP), and a fresh scene discriminator."""
    content, pose, clips = encode_clips(model, data, count, seed)
    half, digits = count // 2, data.config.num_digits
    labels = clips.labels.cpu().clone()  # (N, K): digit k's class
    position = clips.positions[:, 0].flatten(1).float().cpu() / max(1, data.config.max_position)  # (N, K*2)
    chance = [float(torch.bincount(labels[half:, k], minlength=10).max()) / (count - half) for k in range(digits)]
    results: dict[str, float] = {"probe_chance": sum(chance) / digits}
    for name, hidden in (("linear", None), ("mlp", 128)):
        results[f"content_to_position_r2_{name}"] = _fit_probe(content[:half, 0], position[:half], content[half:, 0], position[half:], None, hidden)
        for source, vectors in (("pose", pose), ("content", content)):
            # with K digits: one probe per digit k (its class from the vector); the key without _digit_k is their mean
            scores = [_fit_probe(vectors[:half, 0], labels[:half, k], vectors[half:, 0], labels[half:, k], 10, hidden)
                      for k in range(digits)]
            results[f"{source}_to_digit_{name}"] = sum(scores) / digits
            if digits > 1:
                results.update({f"{source}_to_digit_{name}_digit_{k}": v for k, v in enumerate(scores)})
    results["fresh_scene_discriminator_accuracy"] = fresh_scene_discriminator(pose, half, model.config.pose_dim,
                                                                               model.config.discriminator_hidden)
    return results


def evaluate(model: DRNet, data_config: MovingMNISTConfig, judge: DigitJudge, root: str | os.PathLike | None = None,
             pairs: int = 500, probe_clips: int = 2000, device: str | torch.device | None = None) -> dict[str, Any]:
    """Every number of this module for one model, on the fixed test set of its data distribution.

    Runs on ``device`` (the model is moved there), by default on the model's own device.
    """
    device = device_of(model) if device is None else device
    model = model.to(device).eval()
    data = MovingMNIST(test_config(data_config), root=root, device=device)
    results: dict[str, Any] = {"data": data.config.to_dict()}
    results.update(evaluate_swaps(model, data, judge.to(device), count=pairs))
    results.update(leakage_probes(model, data, count=probe_clips))
    return results


def write_json(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``results`` as strict JSON, atomically; NaN or inf raise ``ValueError`` (see :func:`drnet_lite.atomic.write_json`)."""
    return atomic.write_json(results, path)
