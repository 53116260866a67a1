"""Measured future prediction for any clip source: per-step curves against two baselines.

Three predictors of the frames after T observed ones are scored by the same code:

* ``lstm``: ``D(h_c, h_hat(t))`` with poses from the pose LSTM, fed back;
* ``oracle``: ``D(h_c, E_p(x_t))``, the decoder fed the *true* future poses
  (what the LSTM could reach at best with this DRNet);
* ``copy_last``: the last observed frame, repeated.

Per step, for every source: PSNR and SSIM on the whole frame. On real video
these mean something (every pixel is scene); on Moving MNIST's black frames a
blank guess scores well, so that source adds scores on the digit windows and
the digit judge (:mod:`drnet_lite.experiments.moving_mnist`).

The standard fixed Moving MNIST test file (Srivastava et al. 2015) reports
"MSE" per frame as the *sum* of squared errors over the 64 x 64 pixels in
[0, 1] (per-pixel MSE x 4096); :func:`standard_file_mse` does the same.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from .device import device_of
from .data import ClipSource, for_split, make_source
from .experiments.moving_mnist import long_horizon_accuracy, window_step_scores
from .metrics import psnr, ssim
from .models import DRNet
from .predict import PoseLSTM, copy_last_frames, oracle_frames, rollout

TEST_SEED = 2017  # the same as drnet_lite.experiments.moving_mnist.TEST_SEED
METHODS = ("lstm", "oracle", "copy_last")
FRAME_METRICS = ("psnr", "ssim")
METRICS = ("psnr", "ssim", "window_psnr", "window_ssim")


def frame_step_scores(predicted: torch.Tensor, truth: torch.Tensor, chunk: int = 256) -> dict[str, torch.Tensor]:
    """Whole-frame ``psnr`` and ``ssim`` (B, H) of predicted clips (B, H, C, S, S) against the truth."""
    if predicted.shape != truth.shape:
        raise ValueError(f"predicted {tuple(predicted.shape)} and truth {tuple(truth.shape)} differ in shape")
    b, h = predicted.shape[:2]
    flat_pred, flat_truth = predicted.flatten(0, 1), truth.flatten(0, 1)
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in FRAME_METRICS}
    for i in range(0, len(flat_pred), chunk):  # SSIM in float64 needs ~5 frame copies: bounded chunks
        parts["psnr"].append(psnr(flat_pred[i:i + chunk], flat_truth[i:i + chunk]))
        parts["ssim"].append(ssim(flat_pred[i:i + chunk], flat_truth[i:i + chunk]))
    return {k: torch.cat(v).view(b, h) for k, v in parts.items()}


def extra_step_scores(data: ClipSource) -> Callable | None:
    """The source's own per-step scores beside PSNR/SSIM (Moving MNIST: the digit windows), or None."""
    return window_step_scores(data) if data.config.source == "moving-mnist" else None


def _step_means(values: torch.Tensor) -> list[float]:
    """Mean over clips per step, over the finite values (PSNR of an exact frame is inf)."""
    finite = torch.isfinite(values)
    sums = torch.where(finite, values, torch.zeros_like(values)).sum(0)
    return (sums / finite.sum(0).clamp(min=1)).tolist()


def fixed_test_data(config: Any, seq_len: int, root=None, device: str | torch.device = "cpu",
                    download: bool = False) -> ClipSource:
    """The DRNet's own source, test split, clips of ``seq_len`` frames (``download``: fetch MNIST if missing)."""
    if download and config.source == "moving-mnist":
        from .data.mnist import load_mnist

        load_mnist(config.split, root=root, download=True)
        load_mnist("test", root=root, download=True)
    return make_source(for_split(config, "test", seq_len=seq_len), root=root, device=device)


@torch.inference_mode()
def prediction_curves(drnet: DRNet, lstm: PoseLSTM, data: ClipSource, clips: int = 300, observe: int = 10,
                      horizon: int = 50, seed: int = TEST_SEED, batch: int = 100) -> dict[str, dict[str, list[float]]]:
    """Per-step mean scores ``curves[method][metric][k]`` for predicted frame t+k+1, on fixed test clips
    (``psnr``, ``ssim`` for every source, plus the source's own, see :func:`extra_step_scores`)."""
    extra = extra_step_scores(data)
    g = torch.Generator().manual_seed(seed)
    per_batch: dict[str, dict[str, list[torch.Tensor]]] = {m: {} for m in METHODS}
    times = torch.arange(observe + horizon)
    for start in range(0, clips, batch):
        n = min(batch, clips - start)
        sample = data.sample(n, generator=g, times=times.expand(n, -1))
        observed, future = sample.frames[:, :observe], sample.frames[:, observe:]
        result = rollout(drnet, lstm, observed, horizon)
        predictions = {
            "lstm": result.frames,
            "oracle": oracle_frames(drnet, result.content, future, skips=result.skips),
            "copy_last": copy_last_frames(observed, horizon),
        }
        for method, frames in predictions.items():
            scores = frame_step_scores(frames.cpu(), future.cpu())
            if extra is not None:
                scores.update(extra(frames, future, sample, observe))
            for metric, values in scores.items():
                per_batch[method].setdefault(metric, []).append(values.cpu())
    return {m: {k: _step_means(torch.cat(v)) for k, v in d.items()} for m, d in per_batch.items()}


@torch.inference_mode()
def check_standard_clips(drnet: DRNet, clips: torch.Tensor, observe: int) -> None:
    """Raise ``ValueError`` unless ``clips`` (N, T, C, H, W) fit ``drnet`` and hold ``observe`` + >= 1 frames."""
    if clips.dim() != 5:
        raise ValueError(f"clips must be (N, T, C, H, W), got {tuple(clips.shape)}")
    c, s = drnet.config.channels, drnet.config.image_size
    if clips.shape[2:] != (c, s, s):
        raise ValueError(f"clips of {tuple(clips.shape[2:])} frames do not fit this DRNet, which reads ({c}, {s}, {s})")
    if len(clips) < 1:
        raise ValueError("the file holds no clips")
    if observe < 1 or clips.shape[1] - observe < 1:
        raise ValueError(f"clips of {clips.shape[1]} frames cannot be split into {observe} observed (--observe) "
                         "and >= 1 predicted")


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
    check_standard_clips(drnet, clips, observe)
    c, s = drnet.config.channels, drnet.config.image_size
    horizon = clips.shape[1] - observe
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


def evaluate_prediction(drnet: DRNet, data_config: Any, lstm: PoseLSTM, judge=None,
                        root=None, clips: int = 300, observe: int = 10, horizon: int = 50,
                        long_clips: int = 200, long_at: Sequence[int] = (100, 500),
                        device: str | torch.device | None = None) -> dict[str, Any]:
    """Every number of this module on the fixed test set of the DRNet's source.

    For every source: per-step curves and their means over the first 10 and all
    ``horizon`` steps. Moving MNIST adds the digit-window scores and, with a
    ``judge`` (:class:`~drnet_lite.judge.DigitJudge`), the long-horizon judge accuracy.
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
    for k in (1, 5, 10):  # single steps, for tables
        if k <= horizon:
            for method in METHODS:
                for metric in FRAME_METRICS:
                    results[f"{method}_{metric}_at_{k}"] = curves[method][metric][k - 1]
    if "window_ssim" in curves["lstm"]:
        copy_w, lstm_w = curves["copy_last"]["window_ssim"], curves["lstm"]["window_ssim"]
        # the steps (1-based) where the LSTM's window SSIM is not above copy-last-frame's
        results["lstm_not_above_copy_last_window_ssim_at"] = [k + 1 for k in range(horizon) if lstm_w[k] <= copy_w[k]]
        if judge is not None:
            results.update(long_horizon_accuracy(drnet, lstm, data, judge.to(device), clips=long_clips, observe=observe,
                                                 at=long_at))
    results["curves"] = curves
    return results
