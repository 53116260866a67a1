"""The KTH experiment: presets, MCnet's prediction protocol and an action probe.

Presets. KTH presets: the skip-connection DRNet and its pose LSTM, at 64 and 128 pixels.

The paper (Denton and Birodkar, NeurIPS 2017, arXiv 1705.10915) trains on KTH
with the decoder taking skip connections from the content encoder (a U-Net
whose skips come only from the content frame), so the background does not
have to squeeze through the content vector.

``kth-128`` keeps the paper's resolution and the reference settings as far as
they are recorded: 128x128 grey, width nf = 64, content 128, pose 10, skips,
Adam lr 2e-3 (beta1 0.5), batch 100, alpha = 1, beta = 1e-4, max_step 20,
scene discriminator of 100 hidden units. (The paper's content encoder at 128
may be VGG-like; here both encoders are the DCGAN stack with one more stage.)

``kth-64`` is sized for one Colab GPU and a bounded number of minutes: 64x64,
width 32, batch 64, 20,000 steps, and the two changes that the Moving MNIST
lite preset measured to matter for content (``normalize_content`` so content
cannot collapse, the adversary at 0.1 so pose cannot carry identity).
It has not been trained on real KTH here (KTH cannot be fetched on our
machines): notebook 09 trains it on Colab and reports what it reaches.

The pose LSTMs observe 10 frames and predict 10 while training, as in the
paper; MCnet's protocol then rolls them out for 20 frames.

Numbers. KTH numbers: MCnet's prediction protocol (per-step PSNR/SSIM vs copy-last and oracle) and an action probe.

Prediction, as MCnet (Villegas et al., ICLR 2017) scored it and DRNet
(Denton and Birodkar, NeurIPS 2017) compared with it: 10 frames observed, 20
predicted, 128x128 grey, windows over the segments of the test persons 17-25
(stride 3 for running and jogging, 20 otherwise; see
:meth:`drnet_lite.data.kth_source.KTHSource.protocol_windows`). Per future
step t = 1..20, the mean over the windows of

    PSNR_t = 10 log10(1 / MSE(x_hat_t, x_t)),     SSIM_t = SSIM(x_hat_t, x_t)

for three predictors scored by the same code:

* ``lstm``: ``D(h_c, h_hat(t), skips)``, poses from the pose LSTM fed back
  (:func:`drnet_lite.predict.rollout`);
* ``oracle``: ``D(h_c, E_p(x_t), skips)``, the decoder fed the true future poses;
* ``copy_last``: the last observed frame.

``h_c`` and the skips (the content encoder's feature maps) are those of the
last observed frame and stay fixed for the whole rollout.

Action probe: the paper argues that motion lives in pose. Linear and small-MLP
classifiers of the action are trained on frozen codes of train-person clips
and tested on test-person clips: from the pose vectors of ``frames``
consecutive frames, and from the content vectors of the same frames.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import torch

from ..data.kth import ACTIONS
from ..data.kth_source import KTHConfig, KTHSource
from ..evaluate_frames import fit_probe
from ..metrics import psnr, ssim
from ..models import DRNet, DRNetConfig
from ..predict import LSTMConfig, PoseLSTM, copy_last_frames, encode_sequence, oracle_frames, rollout
from ..train import TrainConfig

# ----------------------------------------------------------------------------------------------------------------------
# presets
# ----------------------------------------------------------------------------------------------------------------------

def kth_128() -> TrainConfig:
    """The paper's KTH setting as recorded (see the module docstring)."""
    data = KTHConfig(image_size=128, seq_len=21)
    model = DRNetConfig(image_size=128, channels=1, content_dim=128, pose_dim=10, width=64, skip=True,
                        discriminator_hidden=100)
    return TrainConfig(model=model, data=data, steps=100_000, batch_size=100, lr=2e-3, beta1=0.5,
                       similarity_weight=1.0, adversarial_weight=1e-4, max_step=20)


def kth_64() -> TrainConfig:
    """A skip DRNet for one Colab GPU in minutes (see the module docstring)."""
    data = KTHConfig(image_size=64, seq_len=21)
    model = DRNetConfig(image_size=64, channels=1, content_dim=128, pose_dim=10, width=32, skip=True,
                        normalize_content=True, discriminator_hidden=100)
    return TrainConfig(model=model, data=data, steps=20_000, batch_size=64, lr=2e-3, beta1=0.5,
                       similarity_weight=1.0, adversarial_weight=0.1, max_step=20,
                       log_every=50, image_every=1000, checkpoint_every=1000)


def kth_lstm_128() -> LSTMConfig:
    """The reference pose LSTM (2 x 256, Adam 2e-4, beta1 0.9, batch 100), 10 observed + 10 predicted."""
    return dataclasses.replace(LSTMConfig(), observed=10, predicted=10)


def kth_lstm_64() -> LSTMConfig:
    """The reference network, 10 observed + 10 predicted, trained faster: lr 1e-3 falling to 0 over
    the second half (measured on Moving MNIST, see ``lstm-lite``), 6,000 steps of fresh clips."""
    return dataclasses.replace(LSTMConfig(), observed=10, predicted=10, lr=1e-3, lr_decay=0.5, steps=6000,
                               log_every=25)


PRESETS = {"kth-64": kth_64, "kth-128": kth_128}
LSTM_PRESETS = {"kth-64-lstm": kth_lstm_64, "kth-128-lstm": kth_lstm_128}
DEFAULT_LSTM_PRESET = "kth-64-lstm"  # train-lstm without --preset on a KTH DRNet

# ----------------------------------------------------------------------------------------------------------------------
# MCnet's protocol and the action probe
# ----------------------------------------------------------------------------------------------------------------------

METHODS = ("lstm", "oracle", "copy_last")
PROTOCOL = ("MCnet protocol: {observed} frames in, {predicted} predicted, {size}x{size} grey, persons {persons}, "
            "windows every 3 frames (running, jogging) or 20 (others) over the sequence file's segments; "
            "mean over {windows} windows per step")


@torch.inference_mode()
def predict_window(drnet: DRNet, lstm: PoseLSTM | None, observed: torch.Tensor, future: torch.Tensor) -> dict[str, torch.Tensor]:
    """The three predictions of ``future`` (B, K, C, H, W) from ``observed`` (B, T, C, H, W) (``lstm`` None: no LSTM row)."""
    drnet.eval()
    horizon = future.shape[1]
    out = {"copy_last": copy_last_frames(observed, horizon)}
    _, content, skips = encode_sequence(drnet, observed[:, -1:], content_time=-1, with_skips=True)
    skips = skips if drnet.config.skip else None
    out["oracle"] = oracle_frames(drnet, content, future, skips=skips)
    if lstm is not None:
        out["lstm"] = rollout(drnet, lstm, observed, horizon).frames
    return out


def _finite_mean(values: torch.Tensor) -> float:
    finite = values[torch.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.inf


def protocol_curves(drnet: DRNet, lstm: PoseLSTM | None, source: KTHSource, observed: int = 10, predicted: int = 20,
                    batch: int = 32, max_windows: int | None = None, progress: bool = False) -> dict[str, Any]:
    """Per-step PSNR and SSIM of the three predictors over MCnet's windows of ``source`` (use the test split).

    Returns ``{"protocol", "windows", "observed", "predicted", "image_size", "curves"}`` where
    ``curves[method][metric]`` is a list of ``predicted`` means (step t+1 first).
    ``max_windows`` keeps an evenly spaced subset (quick runs); None keeps all.
    """
    from tqdm.auto import tqdm

    rows, starts = source.protocol_windows(observed, predicted)
    if len(rows) == 0:
        raise ValueError(f"no segment of the {source.config.split} split is long enough for {observed} + {predicted} "
                         "frames (MCnet's windows need observed + predicted + 2)")
    if max_windows is not None and len(rows) > max_windows:
        keep = torch.linspace(0, len(rows) - 1, max_windows).round().long()
        rows, starts = rows[keep], starts[keep]
    device = next(drnet.parameters()).device
    sums = {m: {"psnr": [], "ssim": []} for m in METHODS}
    for i in tqdm(range(0, len(rows), batch), disable=not progress, desc="MCnet windows", leave=False):
        clips = source.windows(rows[i:i + batch], starts[i:i + batch], observed + predicted)
        frames = clips.frames.to(device)
        past, future = frames[:, :observed], frames[:, observed:]
        for method, pred in predict_window(drnet, lstm, past, future).items():
            flat_pred, flat_true = pred.flatten(0, 1).float(), future.flatten(0, 1)
            sums[method]["psnr"].append(psnr(flat_pred, flat_true).view(len(frames), predicted).cpu())
            sums[method]["ssim"].append(ssim(flat_pred, flat_true).view(len(frames), predicted).cpu())
    curves = {}
    for method, metrics in sums.items():
        if not metrics["psnr"]:
            continue
        curves[method] = {name: [_finite_mean(col) for col in torch.cat(values).T] for name, values in metrics.items()}
    persons = sorted(set(source.table[rows, 3].tolist()))  # the persons the windows come from
    shown = f"{persons[0]}-{persons[-1]}" if persons == list(range(persons[0], persons[-1] + 1)) else ", ".join(map(str, persons))
    protocol = PROTOCOL.format(observed=observed, predicted=predicted, size=source.image_size,
                               persons=shown, windows=len(rows))
    return {"protocol": protocol, "windows": len(rows), "observed": observed, "predicted": predicted,
            "image_size": source.image_size, "curves": curves}


def format_curves(result: dict[str, Any], steps: Sequence[int] = (1, 5, 10, 15, 20)) -> str:
    """The per-step means as a table (one row per predictor and metric), with the protocol line above."""
    steps = [s for s in steps if s <= result["predicted"]]
    header = f"{'':<18}" + "".join(f"{'t+' + str(s):>8}" for s in steps) + f"{'mean':>8}"
    lines = [result["protocol"], header]
    for metric in ("psnr", "ssim"):
        for method, curves in result["curves"].items():
            values = curves[metric]
            cells = "".join(f"{values[s - 1]:8.3f}" if metric == "ssim" else f"{values[s - 1]:8.2f}" for s in steps)
            mean = sum(values) / len(values)
            lines.append(f"{metric.upper() + ' ' + method:<18}{cells}{mean:8.3f}" if metric == "ssim"
                         else f"{metric.upper() + ' ' + method:<18}{cells}{mean:8.2f}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- action probe


@torch.no_grad()  # not inference_mode: the probes train on these codes
def clip_codes(drnet: DRNet, source: KTHSource, clips: int, frames: int, seed: int, batch: int = 64) -> dict[str, torch.Tensor]:
    """Pose and content vectors of ``frames`` consecutive frames of ``clips`` seeded clips, and their actions.

    Returns ``pose`` (N, frames * pose_dim), ``content`` (N, frames * content_dim), ``action`` (N,).
    """
    if source.seq_len < frames:
        raise ValueError(f"the source's clips have {source.seq_len} frames, fewer than the {frames} the probe reads")
    drnet.eval()
    device = next(drnet.parameters()).device
    g = torch.Generator().manual_seed(seed)
    times = torch.arange(frames)
    pose, content, action = [], [], []
    for start in range(0, clips, batch):
        n = min(batch, clips - start)
        sample = source.sample(n, generator=g, times=times.expand(n, -1))
        flat = sample.frames.to(device).flatten(0, 1)
        pose.append(drnet.encode_pose(flat).view(n, -1).cpu())
        content.append(drnet.encode_content(flat)[0].view(n, -1).cpu())
        action.append(sample.action.cpu())
    return {"pose": torch.cat(pose), "content": torch.cat(content), "action": torch.cat(action)}


def action_probe(drnet: DRNet, train: KTHSource, test: KTHSource, clips: int = 2000, frames: int = 10,
                 seed: int = 0, epochs: int = 300) -> dict[str, float]:
    """Action accuracy on test persons from frozen pose vs content codes (linear and MLP probes).

    Returns ``pose_linear``, ``pose_mlp``, ``content_linear``, ``content_mlp``,
    ``chance`` (the most frequent test action's share), ``train_clips``, ``test_clips``.
    """
    a = clip_codes(drnet, train, clips, frames, seed)
    b = clip_codes(drnet, test, max(clips // 2, 1), frames, seed + 1)
    results: dict[str, float] = {}
    for code in ("pose", "content"):
        mean, std = a[code].mean(0), a[code].std(0).clamp(min=1e-6)
        x_train, x_test = (a[code] - mean) / std, (b[code] - mean) / std
        for name, hidden in (("linear", None), ("mlp", 128)):
            results[f"{code}_{name}"] = fit_probe(x_train, a["action"], x_test, b["action"], len(ACTIONS), hidden, epochs=epochs)
    results["chance"] = float(torch.bincount(b["action"], minlength=len(ACTIONS)).max()) / len(b["action"])
    results["train_clips"], results["test_clips"] = len(a["action"]), len(b["action"])
    return results


def format_probe(results: dict[str, float], data: str) -> str:
    """The probe as a table, saying what data it ran on."""
    return "\n".join([
        f"action probe on {data} ({results['train_clips']} train-person clips -> {results['test_clips']} test-person clips)",
        f"{'code':<10}{'linear':>9}{'MLP':>9}",
        f"{'pose':<10}{results['pose_linear']:9.1%}{results['pose_mlp']:9.1%}",
        f"{'content':<10}{results['content_linear']:9.1%}{results['content_mlp']:9.1%}",
        f"{'chance':<10}{results['chance']:9.1%}",
    ])
