"""Pictures of frames and clips: grids, PNG bytes, animated GIFs, inline animations.

Everything here is a pure function from tensors to arrays or bytes, so that
tests and widgets can call it directly. Frames are (..., C, H, W) in [0, 1]:
one channel is drawn grey, several channels (one digit each) in colours.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .atomic import atomic_write, write_bytes

#: Colours of the per-digit channels (digit 0, 1, 2, ...).
CHANNEL_COLOURS = np.array(
    [[1.0, 0.35, 0.25], [0.25, 0.85, 1.0], [1.0, 0.9, 0.2], [0.6, 1.0, 0.4]], dtype=np.float32
)


def to_numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def to_rgb(frames: torch.Tensor | np.ndarray) -> np.ndarray:
    """(..., C, H, W) in [0, 1] -> (..., H, W, 3) float32 in [0, 1]."""
    array = to_numpy(frames)
    channels = array.shape[-3]
    array = np.moveaxis(array, -3, -1)
    if channels == 1:
        rgb = np.repeat(array, 3, axis=-1)
    else:  # one colour per digit channel
        colours = CHANNEL_COLOURS[np.arange(channels) % len(CHANNEL_COLOURS)]
        rgb = array @ colours
    return np.clip(rgb, 0.0, 1.0)


def frame_grid(frames: torch.Tensor | np.ndarray, ncols: int | None = None, pad: int = 2, pad_value: float = 0.35) -> np.ndarray:
    """Tile frames into one picture.

    Args:
        frames: (N, C, H, W) frames, or (R, N, C, H, W) for R rows of N.
        ncols: columns when ``frames`` is 4-D (default: all in one row).
        pad: pixels between tiles.

    Returns:
        uint8 (H', W', 3) image.
    """
    rgb = to_rgb(frames)
    if rgb.ndim == 4:
        n = rgb.shape[0]
        ncols = ncols or n
        nrows = -(-n // ncols)
        filler = np.full((nrows * ncols - n,) + rgb.shape[1:], pad_value, dtype=np.float32)
        rgb = np.concatenate([rgb, filler]).reshape(nrows, ncols, *rgb.shape[1:])
    if rgb.ndim != 5:
        raise ValueError(f"frame_grid wants (N, C, H, W) or (R, N, C, H, W), got {np.shape(frames)}")
    rows, cols, h, w, _ = rgb.shape
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), pad_value, dtype=np.float32)
    for r in range(rows):  # loops over tiles, not pixels
        for c in range(cols):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            out[y:y + h, x:x + w] = rgb[r, c]
    return (out * 255 + 0.5).astype(np.uint8)


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """Encode a uint8 (H, W, 3) image as PNG bytes (nearest-neighbour upscaled by ``scale``)."""
    from PIL import Image

    if scale > 1:
        image = image.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(image: np.ndarray, path: str | os.PathLike, scale: int = 1) -> Path:
    """Write a uint8 image to ``path`` (folders are created)."""
    return write_bytes(path, png_bytes(image, scale))


def clip_frames(clips: torch.Tensor | np.ndarray, ncols: int | None = None, pad: int = 2) -> list[np.ndarray]:
    """One tiled picture per time step of a batch of clips (B, T, C, H, W)."""
    if np.ndim(clips) != 5:
        raise ValueError(f"clips must be (B, T, C, H, W), got {np.shape(clips)}")
    steps = clips.shape[1]
    return [frame_grid(clips[:, t], ncols=ncols, pad=pad) for t in range(steps)]


def gif_bytes(count: int, steps: int, size: int, ncols: int, scale: int = 2, pad: int = 2) -> int:
    """About how many bytes :func:`save_gif` holds for ``count`` clips of ``steps`` frames of ``size`` px tiled
    ``ncols`` to a row: every tiled frame as uint8 RGB at ``scale`` (the GIF's images) and once unscaled
    as float32 (the grids they are made from), plus the clips as float32 RGB."""
    rows = -(-count // ncols)
    height, width = rows * (size + pad) + pad, ncols * (size + pad) + pad
    return steps * height * width * 3 * (scale * scale + 4) + count * steps * 3 * size * size * 4


def save_gif(clips: torch.Tensor | np.ndarray, path: str | os.PathLike, fps: float = 8.0, ncols: int | None = None, scale: int = 2) -> Path:
    """Write a batch of clips (B, T, C, H, W) as one looping animated GIF, clips tiled."""
    from PIL import Image

    frames = clip_frames(clips, ncols=ncols)
    images = [Image.fromarray(f.repeat(scale, 0).repeat(scale, 1)) for f in frames]
    if not 0 < fps <= 1000:
        raise ValueError(f"fps must be in (0, 1000], got {fps}")
    return atomic_write(path, lambda handle: images[0].save(handle, format="GIF", save_all=True, append_images=images[1:],
                                                          duration=int(1000 / fps), loop=0))


def animate(clips: torch.Tensor | np.ndarray, ncols: int | None = None, interval: int = 120, titles: Sequence[str] | None = None, scale: float = 2.0):
    """A matplotlib animation of clips (B, T, C, H, W); show it with ``HTML(anim.to_jshtml())``."""
    import matplotlib.pyplot as plt
    from matplotlib import animation

    frames = clip_frames(clips, ncols=ncols)
    h, w, _ = frames[0].shape
    fig, ax = plt.subplots(figsize=(scale * w / 72, scale * h / 72), dpi=72)
    ax.set_axis_off()
    image = ax.imshow(frames[0], interpolation="nearest")
    if titles:
        ax.set_title("   ".join(titles), fontsize=9)
    fig.tight_layout(pad=0.2)

    def update(t: int):
        image.set_data(frames[t])
        return (image,)

    anim = animation.FuncAnimation(fig, update, frames=len(frames), interval=interval, blit=True)
    plt.close(fig)
    return anim


def show(image: np.ndarray, title: str | None = None, scale: float = 2.0) -> None:
    """Display a uint8 image with matplotlib at about ``scale`` screen pixels per pixel.

    Returns nothing: a figure returned as a cell's last value would be drawn a second time by Jupyter.
    """
    import matplotlib.pyplot as plt

    h, w = image.shape[:2]
    fig, ax = plt.subplots(figsize=(max(2.0, scale * w / 72), max(1.0, scale * h / 72)), dpi=72)
    ax.imshow(image, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    plt.show()


#: Labels of the figures that :func:`drnet_lite.train.fit` logs, in plotting order.
HISTORY_LABELS = {
    "rec": "$L_{rec}$ (reconstruction)",
    "sim": "$L_{sim}$ (content similarity)",
    "adv": "$L_{adv}$ (pose vs. C)",
    "scene": "$L_C$ (scene discriminator)",
    "total": "total $L$ of E_c, E_p, D",
    "scene_acc": "C accuracy",
}

#: L_adv and L_C both sit near log 2: a wide line under a thin dotted one keeps both visible.
_HISTORY_STYLES = {"adv": {"lw": 3.0, "alpha": 0.8}, "scene": {"lw": 1.2, "ls": ":"}}

#: What :func:`plot_history` draws when no keys are given (those present in the history).
HISTORY_KEYS = ("rec", "sim", "adv", "scene", "scene_acc")


def plot_history(history: Sequence[dict], ax=None, keys: Sequence[str] | None = None, title: str | None = None):
    """Draw the logged losses and the discriminator's accuracy of a training run.

    Args:
        history: :func:`drnet_lite.train.fit`'s history, a list of dicts with a
            ``step`` and one number per logged figure (``rec``, ``sim``, ``adv``,
            ``scene``, ``scene_acc``, ``total``, ...), e.g. ``result.history`` or
            the ``history`` a fit callback receives.
        ax: matplotlib Axes to draw the losses on (default: a new figure).
        keys: figures to draw. Default: those of ``rec``, ``sim``, ``adv``,
            ``scene`` and ``scene_acc`` that the history holds. A key that no
            row holds raises ``ValueError``.
        title: optional title.

    Losses are drawn on a log scale against the step (points that are not
    positive, e.g. ``adv`` with the adversary off, are left out). Accuracies
    (keys ending in ``acc``) go on a second y axis from 0 to 1 on the right,
    with a dotted line at chance level, 0.5.

    Returns:
        the Axes of the losses; the accuracy axis, when drawn, is
        ``ax.figure.axes[-1]`` (a twin sharing its x axis).
    """
    import matplotlib.pyplot as plt

    rows = list(history)
    present = {key for row in rows for key in row}
    if keys is None:
        keys = [key for key in HISTORY_KEYS if key in present]
    else:
        keys = list(keys)
        missing = [key for key in keys if key not in present]
        if missing and rows:
            raise ValueError(f"no history row holds {missing}; logged keys: {sorted(present - {'step', 'time'})}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    loss_keys = [key for key in keys if not key.endswith("acc")]
    acc_keys = [key for key in keys if key.endswith("acc")]
    if not rows:
        ax.text(0.5, 0.5, "nothing logged yet", ha="center", va="center", transform=ax.transAxes)
        return ax

    def series(key: str) -> tuple[np.ndarray, np.ndarray]:
        points = [(row.get("step", i + 1), row[key]) for i, row in enumerate(rows) if key in row]
        steps, values = np.array(points, dtype=np.float64).reshape(-1, 2).T
        keep = np.isfinite(values)
        return steps[keep], values[keep]

    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3", "C4"])
    handles = []
    drew_loss = False
    for i, key in enumerate(loss_keys):
        steps, values = series(key)
        positive = values > 0
        if not positive.any():  # e.g. adv with the adversary off: nothing to draw on a log scale
            continue
        (line,) = ax.plot(steps[positive], values[positive], marker="." if positive.sum() < 30 else None,
                          color=colours[i % len(colours)], label=HISTORY_LABELS.get(key, key),
                          **_HISTORY_STYLES.get(key, {}))
        handles.append(line)
        drew_loss = True
    if drew_loss:
        from matplotlib.ticker import FormatStrFormatter, LogFormatter

        class PlainLogFormatter(LogFormatter):  # LogFormatter's choice of ticks, written 0.3 rather than 3e-01
            def __call__(self, x, pos=None):
                return f"{x:g}" if super().__call__(x, pos) else ""

        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))  # 0.01, not 10^-2
        # labels on some minor ticks too when the curves span less than about two decades
        ax.yaxis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(True, which="major", alpha=0.3)
    if acc_keys:
        acc_ax = ax.twinx()
        for j, key in enumerate(acc_keys):
            steps, values = series(key)
            (line,) = acc_ax.plot(steps, values, "--", marker="." if len(values) < 30 else None,
                                  color="black" if j == 0 else colours[(len(loss_keys) + j) % len(colours)],
                                  label=HISTORY_LABELS.get(key, key))
            handles.append(line)
        acc_ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        acc_ax.set_ylim(0.0, 1.0)
        acc_ax.set_ylabel("accuracy (chance 0.5)")
    if handles:  # below the plot, on the top-most axes: no line hides it and it hides no line
        # anchored at the bottom of the axes, 4 font sizes (32 pt) lower: clear of the tick labels and "step"
        (acc_ax if acc_keys else ax).legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                                            borderaxespad=4.0, ncol=min(3, len(handles)), fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def prediction_strip(observed: torch.Tensor, truth: torch.Tensor, predicted: torch.Tensor, last_observed: int = 3) -> np.ndarray:
    """Truth above prediction for each clip: the last observed frames, then the chosen future steps.

    Args:
        observed: (B, T, C, H, W) observed frames (the last ``last_observed`` are drawn in both rows).
        truth: (B, S, C, H, W) the true frames at S chosen future steps.
        predicted: (B, S, C, H, W) the predicted frames at the same steps.

    Returns:
        uint8 image with 2B rows of ``last_observed + S`` tiles (truth, prediction, truth, ...).
    """
    if truth.shape != predicted.shape or truth.shape[0] != observed.shape[0]:
        raise ValueError(f"truth {tuple(truth.shape)} and predicted {tuple(predicted.shape)} must match, "
                         f"with as many clips as observed {tuple(observed.shape)}")
    context = observed[:, -last_observed:] if last_observed else observed[:, :0]
    rows = torch.stack([torch.cat([context, truth], 1), torch.cat([context, predicted], 1)], dim=1)
    return frame_grid(rows.flatten(0, 1))


#: How the three predictors of :mod:`drnet_lite.evaluate_prediction` are drawn.
PREDICTOR_STYLES = {
    "oracle": {"label": "decoder with the true future poses (upper bound)", "color": "C2", "ls": "--"},
    "lstm": {"label": "pose LSTM (free running)", "color": "C0", "ls": "-"},
    "copy_last": {"label": "copy the last observed frame", "color": "C3", "ls": ":"},
}
METRIC_LABELS = {"psnr": "PSNR (dB), whole frame", "ssim": "SSIM, whole frame",
                 "window_psnr": "PSNR (dB), digit windows", "window_ssim": "SSIM, digit windows"}


def plot_prediction_curves(curves: dict, metric: str = "window_ssim", ax=None, title: str | None = None):
    """Per-step curves ``curves[method][metric]`` (from ``prediction_curves``) against the step after the last observed frame."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    for method, values in curves.items():
        if metric not in values:
            raise ValueError(f"no {metric!r} curve for {method!r}; have {sorted(values)}")
        steps = np.arange(1, len(values[metric]) + 1)
        style = PREDICTOR_STYLES.get(method, {"label": method})
        ax.plot(steps, values[metric], **style)
    ax.set_xlabel("predicted step (t + k)")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
