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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(image, scale))
    return path


def clip_frames(clips: torch.Tensor | np.ndarray, ncols: int | None = None, pad: int = 2) -> list[np.ndarray]:
    """One tiled picture per time step of a batch of clips (B, T, C, H, W)."""
    if np.ndim(clips) != 5:
        raise ValueError(f"clips must be (B, T, C, H, W), got {np.shape(clips)}")
    steps = clips.shape[1]
    return [frame_grid(clips[:, t], ncols=ncols, pad=pad) for t in range(steps)]


def save_gif(clips: torch.Tensor | np.ndarray, path: str | os.PathLike, fps: float = 8.0, ncols: int | None = None, scale: int = 2) -> Path:
    """Write a batch of clips (B, T, C, H, W) as one looping animated GIF, clips tiled."""
    from PIL import Image

    frames = clip_frames(clips, ncols=ncols)
    images = [Image.fromarray(f.repeat(scale, 0).repeat(scale, 1)) for f in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path


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


def show(image: np.ndarray, title: str | None = None, scale: float = 2.0):
    """Display a uint8 image with matplotlib at about ``scale`` screen pixels per pixel."""
    import matplotlib.pyplot as plt

    h, w = image.shape[:2]
    fig, ax = plt.subplots(figsize=(max(2.0, scale * w / 72), max(1.0, scale * h / 72)), dpi=72)
    ax.imshow(image, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    plt.show()
    return fig
