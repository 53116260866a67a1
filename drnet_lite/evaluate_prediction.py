"""Measured future prediction: per-step curves, long-horizon content, the standard test file.

Three predictors of the frames after T observed ones are scored by the same code:

* ``lstm``: ``D(h_c, h_hat(t))`` with poses from the pose LSTM, fed back;
* ``oracle``: ``D(h_c, E_p(x_t))``, the decoder fed the *true* future poses
  (what the LSTM could reach at best with this DRNet);
* ``copy_last``: the last observed frame, repeated.

Per step: PSNR and SSIM on the whole frame (for comparison with the
literature) and on the digit windows at the *true* positions (which tells a
sharp digit in the right place from a blank or a blur; see
:mod:`drnet_lite.metrics`).

Long horizons: the digit judge reads the digit(s) of rollout frames t+100 and
t+500 where they are drawn (found as the brightest digit-sized boxes), and
the share that matches the clip's labels says whether the content survived;
reading at the true positions says whether the trajectory did too.

The standard fixed test file (Srivastava et al. 2015) reports "MSE" per frame
as the *sum* of squared errors over the 64 x 64 pixels in [0, 1] (per-pixel
MSE x 4096); :func:`standard_file_mse` does the same.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from .course import device_of
from .data import MovingMNIST, MovingMNISTConfig
from .evaluate import TEST_SEED
from .judge import DigitJudge, read_digits
from .metrics import psnr, ssim, window_scores
from .models import DRNet
from .predict import PoseLSTM, copy_last_frames, decode_poses, encode_sequence, generate_poses, oracle_frames, rollout

METHODS = ("lstm", "oracle", "copy_last")
METRICS = ("psnr", "ssim", "window_psnr", "window_ssim")


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
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in METRICS}
    for i in range(0, len(flat_pred), chunk):  # SSIM in float64 needs ~5 frame copies: bounded chunks, not 10^4 frames
        sl = slice(i, i + chunk)
        windows = window_scores(flat_pred[sl], flat_truth[sl], flat_pos[sl], digit_size, channels)
        parts["psnr"].append(psnr(flat_pred[sl], flat_truth[sl]))
        parts["ssim"].append(ssim(flat_pred[sl], flat_truth[sl]))
        parts["window_psnr"].append(windows["psnr"])
        parts["window_ssim"].append(windows["ssim"])
    return {k: torch.cat(v).view(b, h) for k, v in parts.items()}


def _step_means(values: torch.Tensor) -> list[float]:
    """Mean over clips per step, over the finite values (PSNR of an exact frame is inf)."""
    finite = torch.isfinite(values)
    sums = torch.where(finite, values, torch.zeros_like(values)).sum(0)
    return (sums / finite.sum(0).clamp(min=1)).tolist()


def fixed_test_data(config: MovingMNISTConfig, seq_len: int, root=None, device: str | torch.device = "cpu",
                    download: bool = False) -> MovingMNIST:
    """The DRNet's distribution, MNIST test digits, clips of ``seq_len`` frames."""
    return MovingMNIST(dataclasses.replace(config, split="test", seq_len=seq_len), root=root, device=device,
                       download=download)


@torch.inference_mode()
def prediction_curves(drnet: DRNet, lstm: PoseLSTM, data: MovingMNIST, clips: int = 300, observe: int = 10,
                      horizon: int = 50, seed: int = TEST_SEED, batch: int = 100) -> dict[str, dict[str, list[float]]]:
    """Per-step mean scores ``curves[method][metric][k]`` for predicted frame t+k+1, on fixed test clips."""
    cfg = data.config
    g = torch.Generator().manual_seed(seed)
    per_batch: dict[str, dict[str, list[torch.Tensor]]] = {m: {k: [] for k in METRICS} for m in METHODS}
    times = torch.arange(observe + horizon)
    for start in range(0, clips, batch):
        n = min(batch, clips - start)
        sample = data.sample(n, generator=g, times=times.expand(n, -1))
        observed, future = sample.frames[:, :observe], sample.frames[:, observe:]
        result = rollout(drnet, lstm, observed, horizon)
        predictions = {
            "lstm": result.frames,
            "oracle": oracle_frames(drnet, result.content, future),
            "copy_last": copy_last_frames(observed, horizon),
        }
        for method, frames in predictions.items():
            scores = score_steps(frames.cpu(), future.cpu(), sample.positions[:, observe:].cpu(), cfg.digit_size, cfg.channels)
            for metric, values in scores.items():
                per_batch[method][metric].append(values.cpu())
    return {m: {k: _step_means(torch.cat(v)) for k, v in d.items()} for m, d in per_batch.items()}


@torch.inference_mode()
def long_horizon_accuracy(drnet: DRNet, lstm: PoseLSTM, data: MovingMNIST, judge: DigitJudge, clips: int = 200,
                          observe: int = 10, at: Sequence[int] = (100, 500), seed: int = TEST_SEED + 2,
                          batch: int = 100) -> dict[str, float]:
    """Judge accuracy on rollout frames t+a for a in ``at``.

    ``judge_accuracy_<a>``: the digits read where the frame draws them (the
    content survived); ``judge_accuracy_true_position_<a>``: read at the true
    positions (content and trajectory both survived).
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
        pose, content = encode_sequence(drnet, sample.frames[:, :observe], content_time=-1)
        future = generate_poses(lstm, pose, content, at[-1])
        frames = decode_poses(drnet, content, future[:, [a - 1 for a in at]])
        for i, a in enumerate(at):
            frame = frames[:, i]
            found = locate_digits(frame, cfg.num_digits, cfg.digit_size, cfg.channels)
            for key, positions in ((f"judge_accuracy_{a}", found),
                                   (f"judge_accuracy_true_position_{a}", sample.positions[:, observe + i])):
                reading = read_digits(judge, frame, positions, cfg.digit_size, cfg.channels)
                hits.setdefault(key, []).append(_matches(reading.cpu(), sample.labels.cpu(), cfg.channels))
    return {k: float(torch.cat(v).mean()) for k, v in hits.items()}


def _matches(reading: torch.Tensor, labels: torch.Tensor, channels: str) -> torch.Tensor:
    """Share of digits read right, per clip: in per-digit mode slot by slot; in grey mode as multisets
    (which box holds which digit is not known), i.e. the size of their intersection over K."""
    if channels == "per-digit" or labels.shape[1] == 1:
        return (reading == labels).float().mean(1)
    counts = [F.one_hot(x.long(), 10).sum(1) for x in (reading, labels)]
    return torch.minimum(*counts).sum(1).float() / labels.shape[1]


@torch.inference_mode()
def standard_file_mse(drnet: DRNet, lstm: PoseLSTM, clips: torch.Tensor, observe: int = 10,
                      batch: int = 100) -> dict[str, Any]:
    """Per-frame MSE on clips in the standard test file's layout (see :func:`load_standard_test_set`).

    Args:
        clips: uint8 (N, T, 1, 64, 64) (or floats in [0, 1]); the first
            ``observe`` frames are observed and the remaining T - observe predicted.

    Returns:
        ``mse_sum_per_frame`` (list, one per predicted step) and its mean
        ``mse_sum``: squared error summed over the pixels of a frame in [0, 1],
        averaged over clips (the literature's unit); ``mse_per_pixel``: the same
        divided by H x W; plus the copy-last-frame baseline in the same units.
    """
    if clips.dim() != 5:
        raise ValueError(f"clips must be (N, T, C, H, W), got {tuple(clips.shape)}")
    c, s = drnet.config.channels, drnet.config.image_size
    if clips.shape[2:] != (c, s, s):
        raise ValueError(f"clips of {tuple(clips.shape[2:])} frames do not fit this DRNet, which reads ({c}, {s}, {s})")
    horizon = clips.shape[1] - observe
    if observe < 1 or horizon < 1:
        raise ValueError(f"clips of {clips.shape[1]} frames cannot be split into {observe} observed and >= 1 predicted")
    sums = {"lstm": torch.zeros(horizon, dtype=torch.float64), "copy_last": torch.zeros(horizon, dtype=torch.float64)}
    for start in range(0, len(clips), batch):
        part = clips[start:start + batch].cpu()  # predictions come back on the CPU; compared there
        part = part.float() / 255.0 if part.dtype == torch.uint8 else part.float()
        observed, future = part[:, :observe], part[:, observe:]
        predicted = rollout(drnet, lstm, observed, horizon).frames
        for method, frames in (("lstm", predicted), ("copy_last", copy_last_frames(observed, horizon))):
            sums[method] += (frames - future).pow(2).flatten(2).sum(2).double().sum(0).cpu()
    pixels = s * s * c
    result: dict[str, Any] = {"clips": len(clips), "observed": observe, "predicted": horizon,
                              "unit": "squared error summed over the pixels of a frame in [0, 1], mean over clips"}
    for method, total in sums.items():
        per_frame = (total / len(clips)).tolist()
        prefix = "" if method == "lstm" else "copy_last_"
        result[f"{prefix}mse_sum_per_frame"] = per_frame
        result[f"{prefix}mse_sum"] = sum(per_frame) / horizon
        result[f"{prefix}mse_per_pixel"] = sum(per_frame) / horizon / pixels
    return result


def evaluate_prediction(drnet: DRNet, data_config: MovingMNISTConfig, lstm: PoseLSTM, judge: DigitJudge,
                        root=None, clips: int = 300, observe: int = 10, horizon: int = 50,
                        long_clips: int = 200, long_at: Sequence[int] = (100, 500),
                        device: str | torch.device | None = None) -> dict[str, Any]:
    """Every number of this module on the fixed test set of the DRNet's distribution.

    Runs on ``device`` (both models are moved there), by default on the DRNet's own device.
    """
    device = device_of(drnet) if device is None else device
    drnet, lstm = drnet.to(device).eval(), lstm.to(device).eval()
    data = fixed_test_data(data_config, observe + horizon, root=root, device=device)
    curves = prediction_curves(drnet, lstm, data, clips=clips, observe=observe, horizon=horizon)
    results: dict[str, Any] = {"data": data.config.to_dict(), "observed": observe, "horizon": horizon, "clips": clips}
    for method, metrics in curves.items():
        for metric, values in metrics.items():
            for span in sorted({min(10, horizon), horizon}):
                results[f"{method}_{metric}_mean_{span}"] = sum(values[:span]) / span
    copy_w, lstm_w = curves["copy_last"]["window_ssim"], curves["lstm"]["window_ssim"]
    # the steps (1-based) where the LSTM's window SSIM is not above copy-last-frame's
    results["lstm_not_above_copy_last_window_ssim_at"] = [k + 1 for k in range(horizon) if lstm_w[k] <= copy_w[k]]
    results.update(long_horizon_accuracy(drnet, lstm, data, judge.to(device), clips=long_clips, observe=observe, at=long_at))
    results["curves"] = curves
    return results
