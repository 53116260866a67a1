"""The Moving MNIST experiment: its presets, and the numbers only Moving MNIST can give.

Moving MNIST knows every digit and where it is, so a trained DRNet is scored
against exact ground truth on a fixed, seeded test set (the scores every
source gets are in :mod:`drnet_lite.evaluate_frames` and
:mod:`drnet_lite.evaluate_prediction`):

* Swap fidelity: PSNR/SSIM of ``D(E_c(A), E_p(B))`` against the exact target
  (A's digits at B's positions), whole frame and on the digit windows.
* Swap content accuracy: the digit judge (:mod:`drnet_lite.judge`) reads each
  digit of the swapped frame at its target position; the share that matches A's labels.
* Leakage probes on frozen encoders: digit identity from pose vectors
  (near chance = no leak), digit position from content vectors (R^2 near 0 =
  no leak), each with a linear probe and a small MLP; and a freshly trained
  scene discriminator on frozen pose vectors (about 50% = pose does not
  identify the clip).
* Prediction: predicted frames scored on the digit windows at the *true*
  positions (which tells a sharp digit in the right place from a blank or a
  blur; see :mod:`drnet_lite.metrics`), and long rollouts read by the digit
  judge: the digit(s) of rollout frames t+100 and t+500 are read where they
  are drawn (found as the brightest digit-sized boxes), and the share that
  matches the clip's labels says whether the content survived; reading at the
  true positions says whether the trajectory did too.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import time
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..atomic import write_text
from ..checkpoint import save_checkpoint
from ..data import Clips, MovingMNIST, MovingMNISTConfig
from ..device import device_of, to_cpu
from ..evaluate_frames import fit_probe, fresh_scene_discriminator
from ..judge import DigitJudge, read_digits
from ..losses import scene_discriminator_loss, shuffled_partner
from ..metrics import (best_pairing_scores, psnr, shift_tolerant_box_ssim, shift_tolerant_window_ssim, ssim, summarize,
                       swap_targets, window_scores)
from ..models import DRNet, DRNetConfig
from ..predict import LSTMConfig, PoseLSTM, decode_poses, encode_sequence, generate_poses
from ..swap import reconstruct
from ..train import TrainConfig, with_overrides

#: The per-step scores of :func:`score_steps`.
STEP_METRICS = ("psnr", "ssim", "window_psnr", "window_ssim")

# ----------------------------------------------------------------------------------------------------------------------
# presets: the DRNet and its pose LSTM
# ----------------------------------------------------------------------------------------------------------------------

def mnist_paper() -> TrainConfig:
    """The reference hyperparameters (Denton & Birodkar 2017, reference code): Adam 2e-3 (beta1 0.5), batch 100,
    content 128, pose 10, width 64, alpha 1, beta 1e-4, max_step 20, two digits
    in their own colour channels."""
    data = MovingMNISTConfig(image_size=64, num_digits=2, digit_size=32, channels="per-digit", seq_len=21)
    model = DRNetConfig(image_size=64, channels=2, content_dim=128, pose_dim=10, width=64)
    return TrainConfig(model=model, data=data, steps=100_000, batch_size=100, lr=2e-3, beta1=0.5,
                       similarity_weight=1.0, adversarial_weight=1e-4, max_step=20)


def mnist_lite() -> TrainConfig:
    """A DRNet that learns a working swap on a 2-core CPU in minutes (one grey digit).

    Kept from the paper: the networks, the three losses, one C update then one
    E_c/E_p/D update per step, Adam 2e-3 (beta1 0.5), content 128, pose 10.
    Changed, each measured to matter (notebook 05 tells the story):
      * width 16 and batch 64: about 3x faster per step than width 32;
      * content frames up to max_step = 40 frames from the pose frame, so the
        content frame's position says little about the target's: content
        gains nothing by carrying position, and the scene discriminator
        cannot tell same-clip pairs by nearby positions (with max_step 12,
        content carried position, R^2 0.91, and pose learned slowly);
      * normalize_content: content cannot collapse to a constant;
      * content_pool: content is translation-invariant by construction
        (swap accuracy 53% after 1,000 steps, against 24% at 1,250 without);
      * alpha = 0.01 (with alpha = 1 content stayed empty for 1,500 steps),
        beta = 0.1 (1e-4 in the paper code, which lets pose carry identity).
    """
    data = MovingMNISTConfig(image_size=64, num_digits=1, digit_size=28, channels="grey", seq_len=41)
    model = DRNetConfig(image_size=64, channels=1, content_dim=128, pose_dim=10, width=16,
                        normalize_content=True, content_pool=True)
    return TrainConfig(model=model, data=data, steps=12000, batch_size=64, lr=2e-3, beta1=0.5,
                       similarity_weight=0.01, adversarial_weight=0.1, max_step=40,
                       log_every=25, image_every=500, checkpoint_every=500)


def mnist_lab() -> TrainConfig:
    """``mnist-lite`` on a lab's clock: the same networks and losses, 2,800 steps with lr falling
    linearly to 0 over the second half (``lr_decay = 0.5``).

    Measured on 2 idle CPU cores of this project's machine: 6.9 minutes for the whole ``train``
    command and 82-84% swap accuracy (assets/README.md has the runs); short enough for a lab to
    train one model per ablation (notebook 05, ``python -m drnet_lite ablations``).
    """
    return with_overrides(mnist_lite(), steps=2800, lr_decay=0.5, image_every=700, checkpoint_every=700)


def mnist2_joint() -> TrainConfig:
    """``mnist-lite`` on the paper's Moving MNIST (two digits, each in its own colour channel) with the
    networks seeing both channels at once: the recipe before ``mnist2-lite``. It learns one digit of the
    two (12.6% / 78.8% swap accuracy after 20,000 steps; assets/README.md)."""
    return with_overrides(mnist_lite(), num_digits=2, channels="per-digit", steps=20000)


def mnist2_lite() -> TrainConfig:
    """Two digits, each in its own colour channel: the one-digit ``mnist-lite`` networks applied to each
    channel alone (``per_channel``), started from the shipped ``mnist-lite.pt`` and fine-tuned on two digits.

    Content and pose are the two channels' vectors concatenated (2 x 128 and 2 x 10); the decoder draws
    channel n from (content_n, pose_n); the scene discriminator (new) sees the concatenated pose.
    600 steps with lr 5e-4 falling linearly to 0: the networks already know a digit, so the step is small.
    """
    return with_overrides(mnist2_joint(), per_channel=True, content_dim=256, pose_dim=20, init_from="mnist-lite.pt",
                          steps=600, lr=5e-4, lr_decay=1.0, image_every=200, checkpoint_every=200)


PRESETS = {"mnist-paper": mnist_paper, "mnist-lite": mnist_lite, "mnist-lab": mnist_lab,
           "mnist2-lite": mnist2_lite, "mnist2-joint": mnist2_joint}


def lstm_reference() -> LSTMConfig:
    """The paper's reference code: 2 x 256 LSTM, Adam 2e-4 (beta1 0.9), batch 100, 10 observed, 10 predicted."""
    return LSTMConfig()


def lstm_lite() -> LSTMConfig:
    """The reference network trained for a CPU budget (each change measured on the shipped DRNet,
    6,000 steps, 100 fixed test clips):

    * a bank of 1,000 pre-encoded 100-frame clips instead of fresh clips every step:
      encoding was most of a step (27.6 instead of 4.7 steps per second on 2 cores);
    * lr 1e-3 falling to 0 over the second half (2e-4 barely moved in 300 steps);
    * 30 predicted frames while training instead of 10 (40-frame windows): window SSIM over
      the first 10 predicted frames 0.516 instead of 0.479, judge accuracy at t+100 95% vs 92%.
    """
    return dataclasses.replace(LSTMConfig(), predicted=30, lr=1e-3, lr_decay=0.5, steps=6000, bank_clips=1000,
                               bank_length=100, log_every=25)


LSTM_PRESETS = {"lstm-reference": lstm_reference, "lstm-lite": lstm_lite}
DEFAULT_LSTM_PRESET = "lstm-lite"

# ----------------------------------------------------------------------------------------------------------------------
# swaps and leakage probes
# ----------------------------------------------------------------------------------------------------------------------

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
        results[f"content_to_position_r2_{name}"] = fit_probe(content[:half, 0], position[:half], content[half:, 0], position[half:], None, hidden)
        for source, vectors in (("pose", pose), ("content", content)):
            # with K digits: one probe per digit k (its class from the vector); the key without _digit_k is their mean
            scores = [fit_probe(vectors[:half, 0], labels[:half, k], vectors[half:, 0], labels[half:, k], 10, hidden)
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


# ----------------------------------------------------------------------------------------------------------------------
# prediction: digit boxes, digit windows, the judge on long rollouts
# ----------------------------------------------------------------------------------------------------------------------

def locate_digits(frames: torch.Tensor, num_digits: int, digit_size: int, channels: str = "grey",
                  refine: int = 2) -> torch.Tensor:
    """Top-left corners (N, K, 2) of the digit boxes drawn in frames (N, C, S, S), for the judge.

    Each digit is first found as the brightest digit-sized box (pixel sum, an
    average pool with stride 1), then the box is centred on the centre of mass
    of the pixels inside it (``refine`` times), the way MNIST centres its
    digits. In ``"grey"`` mode the boxes are found one after another, each
    found box blacked out before looking for the next; digits that overlap are
    found less well (on 500 two-digit grey test frames the judge reads 66% of
    the digits at the located boxes, 86% at the true ones). In
    ``"per-digit"`` mode digit k is searched in channel k only.
    """
    if frames.dim() != 4:
        raise ValueError(f"frames must be (N, C, S, S), got {tuple(frames.shape)}")
    n, c, size, _ = frames.shape
    limit = size - digit_size
    if channels == "per-digit":
        planes = frames[:, :num_digits].float()  # digit k lives in channel k
    else:
        planes = frames.float().sum(1, keepdim=True).expand(n, num_digits, size, size)
    mass = F.avg_pool2d(planes, digit_size, stride=1).flatten(2)  # (N, K, (L+1)^2)
    side = limit + 1
    coords = torch.arange(size, device=frames.device, dtype=torch.float32)
    centre = (digit_size - 1) / 2
    found = []
    for k in range(num_digits):  # K is 1-3
        index = mass[:, k].argmax(1)
        corner = torch.stack([index // side, index % side], dim=1)  # (N, 2)
        plane = planes[:, k]
        for _ in range(refine):
            inside = [(coords[None] >= corner[:, i:i + 1]) & (coords[None] < corner[:, i:i + 1] + digit_size) for i in (0, 1)]
            box = plane * inside[0][:, :, None] * inside[1][:, None, :]
            total = box.sum((1, 2)).clamp(min=1e-8)
            com = torch.stack([(box.sum(2) * coords).sum(1), (box.sum(1) * coords).sum(1)], dim=1) / total[:, None]
            corner = (com - centre).round().long().clamp(0, limit)
        found.append(corner)
        if channels != "per-digit" and k + 1 < num_digits:
            # black out the box just found and look again: the next digit is the brightest box of what is left
            inside = [(coords[None] >= corner[:, i:i + 1]) & (coords[None] < corner[:, i:i + 1] + digit_size) for i in (0, 1)]
            planes = planes * ~(inside[0][:, None, :, None] & inside[1][:, None, None, :])
            mass = F.avg_pool2d(planes, digit_size, stride=1).flatten(2)
    return torch.stack(found, dim=1)


#: A frame "shows an extra digit" when, outside the located digit boxes, some digit-sized box holds more than
#: this share of the pixel mass of a located digit. Measured on the shipped models: exact test frames 0.0, clean
#: predicted frames 0.003 (median) to 0.2 (99th percentile); the visible duplicated digits of long rollouts
#: (a decoder drawing an in-between pose vector at two places) 0.33 to 0.75.
EXTRA_DIGIT_SHARE = 0.25


def extra_digit_share(frames: torch.Tensor, boxes: torch.Tensor, digit_size: int, channels: str = "grey") -> torch.Tensor:
    """(N,) the brightest digit-sized box *outside* the boxes (N, K, 2), as a share of the mean mass inside them.

    Near 0 when a frame draws its K digits and nothing else; near 1 when it draws
    one digit twice. In ``"per-digit"`` mode each channel is checked against its own box.
    """
    n, _, size, _ = frames.shape
    k = boxes.shape[1]
    coords = torch.arange(size, device=frames.device)
    boxes = boxes.to(frames.device)
    inside = [(coords[None, None] >= boxes[..., i, None]) & (coords[None, None] < boxes[..., i, None] + digit_size)
              for i in (0, 1)]
    masks = inside[0][..., :, None] & inside[1][..., None, :]  # (N, K, S, S)
    if channels == "per-digit":  # digit k in channel k, inside its own box
        planes = frames[:, :k].float()
        own = (planes * masks).sum((2, 3))
    else:  # one plane, all K boxes blacked out; compared with the mean mass of one located digit
        planes, masks = frames.float().sum(1, keepdim=True), masks.any(1, keepdim=True)
        own = (planes * masks).sum((2, 3)) / k
    own = own.clamp(min=1e-6)
    rest = F.avg_pool2d(planes * ~masks, digit_size, stride=1).flatten(2).amax(2) * digit_size ** 2
    return (rest / own).amax(1)


def score_steps(predicted: torch.Tensor, truth: torch.Tensor, positions: torch.Tensor, digit_size: int,
                channels: str = "grey", chunk: int = 256) -> dict[str, torch.Tensor]:
    """Per clip and step scores of predicted clips (B, H, C, S, S) against the truth.

    Args:
        positions: (B, H, K, 2) the true digit positions of the ``truth`` frames.

    Returns:
        ``psnr``, ``ssim``, ``window_psnr``, ``window_ssim``: (B, H) each.
    """
    if predicted.shape != truth.shape:
        raise ValueError(f"predicted {tuple(predicted.shape)} and truth {tuple(truth.shape)} differ in shape")
    b, h = predicted.shape[:2]
    flat_pred, flat_truth, flat_pos = predicted.flatten(0, 1), truth.flatten(0, 1), positions.flatten(0, 1)
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in STEP_METRICS}
    for i in range(0, len(flat_pred), chunk):  # SSIM in float64 needs ~5 frame copies: bounded chunks, not 10^4 frames
        sl = slice(i, i + chunk)
        windows = window_scores(flat_pred[sl], flat_truth[sl], flat_pos[sl], digit_size, channels)
        parts["psnr"].append(psnr(flat_pred[sl], flat_truth[sl]))
        parts["ssim"].append(ssim(flat_pred[sl], flat_truth[sl]))
        parts["window_psnr"].append(windows["psnr"])
        parts["window_ssim"].append(windows["ssim"])
    return {k: torch.cat(v).view(b, h) for k, v in parts.items()}


def window_step_scores(data: MovingMNIST):
    """The extra per-step scorer for :func:`drnet_lite.evaluate_prediction.prediction_curves` on Moving MNIST:
    ``scorer(predicted, truth, sample, observe)`` -> ``window_psnr``, ``window_ssim`` (B, H) at the true positions."""
    cfg = data.config

    def scorer(predicted: torch.Tensor, truth: torch.Tensor, sample, observe: int) -> dict[str, torch.Tensor]:
        scores = score_steps(predicted, truth, sample.positions[:, observe:], cfg.digit_size, cfg.channels)
        return {"window_psnr": scores["window_psnr"], "window_ssim": scores["window_ssim"]}

    return scorer


@torch.inference_mode()
def long_horizon_accuracy(drnet: DRNet, lstm: PoseLSTM, data: MovingMNIST, judge: DigitJudge, clips: int = 200,
                          observe: int = 10, at: Sequence[int] = (100, 500), seed: int = TEST_SEED + 2,
                          batch: int = 100) -> dict[str, float]:
    """Judge accuracy on rollout frames t+a for a in ``at``.

    ``judge_accuracy_<a>``: the digits read where the frame draws them (the
    content survived); ``judge_accuracy_true_position_<a>``: read at the true
    positions (content and trajectory both survived). A frame that draws a digit
    more than once (:func:`extra_digit_share` above :data:`EXTRA_DIGIT_SHARE`)
    counts as wrong in both: it no longer shows the clip's content.
    ``extra_digit_<a>``: the share of such frames.
    """
    cfg = data.config
    at = sorted(int(a) for a in at)
    if not at or at[0] < 1:
        raise ValueError(f"frames to judge must be >= 1 steps after the observed ones, got {at}")
    g = torch.Generator().manual_seed(seed)
    times = torch.cat([torch.arange(observe), observe - 1 + torch.tensor(at)])
    hits: dict[str, list[torch.Tensor]] = {}
    for start in range(0, clips, batch):
        n = min(batch, clips - start)
        sample = data.sample(n, generator=g, times=times.expand(n, -1))
        pose, content, skips = encode_sequence(drnet, sample.frames[:, :observe], content_time=-1, with_skips=True)
        future = generate_poses(lstm, pose, content, at[-1])
        frames = decode_poses(drnet, content, future[:, [a - 1 for a in at]], skips=skips)
        for i, a in enumerate(at):
            frame = frames[:, i]
            found = locate_digits(frame, cfg.num_digits, cfg.digit_size, cfg.channels)
            single = (extra_digit_share(frame, found, cfg.digit_size, cfg.channels) <= EXTRA_DIGIT_SHARE).cpu()
            hits.setdefault(f"extra_digit_{a}", []).append((~single).float())
            for key, positions in ((f"judge_accuracy_{a}", found),
                                   (f"judge_accuracy_true_position_{a}", sample.positions[:, observe + i])):
                reading = read_digits(judge, frame, positions, cfg.digit_size, cfg.channels)
                hits.setdefault(key, []).append(_matches(reading.cpu(), sample.labels.cpu(), cfg.channels) * single)
    return {k: float(torch.cat(v).mean()) for k, v in hits.items()}


def _matches(reading: torch.Tensor, labels: torch.Tensor, channels: str) -> torch.Tensor:
    """Share of digits read right, per clip: in per-digit mode slot by slot; in grey mode as multisets
    (which box holds which digit is not known), i.e. the size of their intersection over K."""
    if channels == "per-digit" or labels.shape[1] == 1:
        return (reading == labels).float().mean(1)
    counts = [F.one_hot(x.long(), 10).sum(1) for x in (reading, labels)]
    return torch.minimum(*counts).sum(1).float() / labels.shape[1]


# ----------------------------------------------------------------------------------------------------------------------
# two digits in their own colour channels: what a run learns, step by step
# Snapshots and DiagnosisLogger are ``fit`` callbacks (the loop knows nothing of them); measure() reads, per
# digit, what a frozen model's codes say; diagnosis_figure() draws the logged rows
# (``python tools/two_digit_diagnosis.py`` trains with the logger and draws assets/figures/two_digits_diagnosis.png).


class Snapshots:
    """``fit`` callback: every ``every`` steps save the model's weights to ``folder/step_NNNNNN.pt`` (a DRNet file)."""

    def __init__(self, folder: str | Path, config: Any, every: int) -> None:
        self.folder, self.config, self.every = Path(folder), config, every

    def __call__(self, step: int, history: list[dict[str, float]], model: DRNet) -> None:
        if step % self.every:
            return
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_checkpoint({"kind": "drnet", "config": self.config.to_dict(), "state": state, "step": step,
                         "elapsed": history[-1]["time"] if history else 0.0, "cpu": time.process_time()},
                        self.folder / f"step_{step:06d}.pt")


@torch.no_grad()
def measure(model: DRNet, data_config: Any, judge: Any = None, clips: int = 500, pairs: int = 200,
            root: str | None = None) -> dict[str, float]:
    """What ``model`` knows now, per digit k, on fixed Moving MNIST test clips (the model is left as it was found).

    ``content_to_digit_k``: MLP probe accuracy of digit k's class from h_c (half the clips train it);
    ``pose_to_digit_k``: the same from h_p (a leak; chance about 10%);
    ``pose_to_position_r2_k``: MLP probe R^2 of digit k's position from h_p (pose should locate it);
    ``rec_mse_channel_k``: mean squared error of channel k of ``D(h_c(x_0), h_p(x_t))`` against x_t, next to
    ``blank_mse_channel_k``, the error of an all-black channel k (a model that draws nothing scores that);
    ``scene_acc``: the model's own scene discriminator on same-clip vs shuffled pose pairs;
    ``swap_accuracy_digit_k`` (with a ``judge``): the share of ``pairs`` fixed swaps whose digit k the judge
    reads as the content clip's.
    """
    was_training, rng = model.training, torch.get_rng_state()
    try:
        model.eval()
        data = MovingMNIST(test_config(data_config), root=root)
        content, pose, sample = encode_clips(model, data, clips, seed=2018)
        half, digits = clips // 2, data_config.num_digits
        labels = sample.labels.cpu()
        position = sample.positions[:, 0].float().cpu() / max(1, data.config.max_position)  # (N, K, 2)
        row: dict[str, float] = {}
        for k in range(digits):
            row[f"content_to_digit_{k}"] = fit_probe(content[:half, 0], labels[:half, k], content[half:, 0], labels[half:, k], 10, 128)
            row[f"pose_to_digit_{k}"] = fit_probe(pose[:half, 0], labels[:half, k], pose[half:, 0], labels[half:, k], 10, 128)
            row[f"pose_to_position_r2_{k}"] = fit_probe(pose[:half, 0], position[:half, k], pose[half:, 0], position[half:, k], None, 128)
        frames = sample.frames.cpu()
        decoded = model.decode(content[:, 0], pose[:, 1]).cpu()  # content of frame a, pose of frame b, target b
        error = (decoded - frames[:, 1]).square().mean(dim=(0, 2, 3))
        blank = frames[:, 1].square().mean(dim=(0, 2, 3))
        for k in range(frames.shape[2]):
            row[f"rec_mse_channel_{k}"], row[f"blank_mse_channel_{k}"] = float(error[k]), float(blank[k])
        same = model.scene_discriminator(pose[:, 0], pose[:, 1])
        shuffled = model.scene_discriminator(pose[:, 0], shuffled_partner(pose[:, 1], 1))
        row["scene_acc"] = float(scene_discriminator_loss(same, shuffled)[1])
        if judge is not None:
            swaps = evaluate_swaps(model, data, judge, count=pairs)
            row.update({f"swap_accuracy_digit_{k}": swaps[f"swap_accuracy_digit_{k}"] for k in range(digits)})
        return row
    finally:
        torch.set_rng_state(rng)
        model.train(was_training)


class DiagnosisLogger:
    """``fit`` callback: every ``every`` steps, :func:`measure` the model and append a row to the CSV ``path``.

    The training loop knows nothing of it (it is handed to ``fit(callback=...)``). Each row also holds the
    training step, the training CPU seconds so far (the measurements' own CPU time subtracted) and the
    measurement's CPU seconds.
    """

    def __init__(self, path: str | Path, config: Any, every: int, judge: Any = None, clips: int = 500,
                 pairs: int = 200, root: str | None = None) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1 step, got {every}")
        self.path, self.config, self.every = Path(path), config, every
        self.judge, self.clips, self.pairs, self.root = judge, clips, pairs, root
        self.rows: list[dict[str, float]] = []
        self.start, self.spent = time.process_time(), 0.0

    def __call__(self, step: int, history: list[dict[str, float]], model: DRNet) -> None:
        if step % self.every:
            return
        tick = time.process_time()
        model_device = next(model.parameters()).device
        row = {"step": step, "train_cpu_s": round(tick - self.start - self.spent, 2)}
        row.update(measure(model, self.config.data, self.judge, self.clips, self.pairs, self.root))
        if history:
            row.update({"train_rec": history[-1]["rec"], "train_scene_acc": history[-1]["scene_acc"]})
        self.spent += time.process_time() - tick
        row["measure_cpu_s"] = round(time.process_time() - tick, 2)
        self.rows.append(row)
        header = list(self.rows[0])
        lines = [",".join(header)] + [",".join(f"{r.get(h, float('nan')):.6g}" for h in header) for r in self.rows]
        write_text(self.path, "\n".join(lines) + "\n")
        assert next(model.parameters()).device == model_device



def read_rows(path: str | Path) -> list[dict[str, float]]:
    """The rows of a :class:`DiagnosisLogger` CSV."""
    lines = Path(path).read_text().split()
    header = lines[0].split(",")
    return [dict(zip(header, map(float, line.split(",")))) for line in lines[1:]]


def diagnosis_figure(runs: dict[str, list[dict[str, float]]]):
    """A matplotlib Figure of :class:`DiagnosisLogger` rows against training steps, one line style per run.

    Panels: content -> digit k, the swaps' digit k (judge), pose -> position R^2 of digit k, the
    reconstruction error of channel k as a share of an all-black channel's, the scene discriminator's accuracy.
    Dotted: chance (10% for a digit, 50% for the discriminator).
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(16, 3.4), layout="constrained")
    axes = figure.subplots(1, 5)
    colours = ("tab:red", "tab:cyan")
    for (name, rows), style in zip(runs.items(), ("-", "--", ":")):
        steps = [r["step"] for r in rows]
        for k, colour in enumerate(colours):
            label = f"{name}, digit {k}"
            axes[0].plot(steps, [r[f"content_to_digit_{k}"] for r in rows], style, color=colour, label=label)
            if f"swap_accuracy_digit_{k}" in rows[0]:
                axes[1].plot(steps, [r[f"swap_accuracy_digit_{k}"] for r in rows], style, color=colour, label=label)
            axes[2].plot(steps, [r[f"pose_to_position_r2_{k}"] for r in rows], style, color=colour, label=label)
            axes[3].plot(steps, [r[f"rec_mse_channel_{k}"] / r[f"blank_mse_channel_{k}"] for r in rows], style,
                         color=colour, label=label)
        axes[4].plot(steps, [r["scene_acc"] for r in rows], style, color="black", label=name)
    titles = ("content -> digit k (MLP probe)", "swaps: judge reads digit k right", "pose -> position of digit k (R$^2$)",
              "reconstruction error, channel k\n(share of an all-black channel's)",
              "scene discriminator accuracy\n(same clip vs shuffled pairs)")
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    for ax in axes[:2]:
        ax.axhline(0.1, color="grey", lw=0.8, ls=":")
        ax.set_ylim(0, 1)
    axes[2].set_ylim(-0.2, 1)
    axes[3].set_ylim(0, 1.05)
    axes[4].set_ylim(0.3, 1)
    axes[4].axhline(0.5, color="grey", lw=0.8, ls=":")
    axes[0].legend(fontsize=7)
    axes[4].legend(fontsize=7)
    return figure
