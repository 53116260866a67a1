"""Video files: found in folders, decoded with PyAV, cut into tiles and resized (uint8 frames).

:func:`decode_video` turns one file into uint8 (T, tiles, C, S, S) with the settings of a
:class:`~drnet_lite.data.video.VideoConfig`. Any file that decodes is used, with the frames that
decoded: a header whose frame count disagrees with what decodes, or decoding that stops part way,
gives a one-line warning; a file is broken (:class:`VideoDecodeError`) only when decoding fails before
its first frame or yields none. The cache and the clips are in :mod:`drnet_lite.data.video`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import torch
import torch.nn.functional as F

if TYPE_CHECKING:  # only for annotations: video.py imports this module
    from .video import VideoConfig

try:  # optional: only video needs it
    import av
except Exception:  # pragma: no cover - exercised only where av is missing
    av = None

#: File name endings taken from a folder (a file named explicitly is always tried).
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv", ".ogv", ".gif")


def require_av() -> Any:
    """The PyAV module, or an ImportError that says how to install it."""
    if av is None:
        raise ImportError("reading video needs PyAV: pip install av (or pip install 'drnet_lite[video]')")
    return av


def find_videos(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Path]]:
    """Files to decode from files and folders, and the paths that do not exist.

    A file is taken as given (whatever its name); a folder contributes its
    files ending in :data:`VIDEO_SUFFIXES`, recursively, sorted.
    """
    found: list[Path] = []
    missing: list[Path] = []
    for entry in paths:
        path = Path(entry).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
                            and not p.name.startswith("."))
        elif path.is_file():
            found.append(path)
        else:
            missing.append(path)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique, missing


def tile_and_resize(frames: torch.Tensor, tiles: tuple[int, int], size: int, resize: str) -> torch.Tensor:
    """Cut frames (N, C, H, W) uint8 or float into a ``tiles`` grid and resize each tile to ``size``.

    Returns uint8 (N, rows * cols, C, size, size), tiles in row-major order.
    A remainder of ``H % rows`` or ``W % cols`` pixels at the bottom/right is dropped.
    """
    n, c, h, w = frames.shape
    rows, cols = tiles
    th, tw = h // rows, w // cols
    if th < 1 or tw < 1:
        raise ValueError(f"frames of {w}x{h} cannot be cut into {rows}x{cols} tiles")
    x = frames[:, :, :th * rows, :tw * cols].float()
    x = x.view(n, c, rows, th, cols, tw).permute(0, 2, 4, 1, 3, 5).reshape(n * rows * cols, c, th, tw)
    if resize == "crop" and th != tw:
        side = min(th, tw)
        top, left = (th - side) // 2, (tw - side) // 2
        x = x[:, :, top:top + side, left:left + side]
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.round_().clamp_(0, 255).to(torch.uint8).view(n, rows * cols, c, size, size)


class VideoDecodeError(RuntimeError):
    """A file could not be decoded as a video (not a video, corrupt before its first frame, or no frames)."""


def decode_video(path: str | os.PathLike, config: VideoConfig, progress: bool = False, chunk: int = 64) -> tuple[np.ndarray, dict[str, Any]]:
    """Decode one file into uint8 (T, tiles, C, S, S) with the settings of ``config``.

    Returns the array and facts about the source: ``width``, ``height``,
    ``fps``, ``decoded`` (frames decoded), ``announced`` (the count its header
    gives, 0 if none) and ``warning`` (one line, or ``""``): set when the
    header's count (or, without one, its duration times its frame rate)
    disagrees with what decoded, or when decoding stopped with an error after
    some frames. In every case the decoded frames are returned.

    Raises :class:`VideoDecodeError` naming the file when it cannot be opened
    as a video, decoding fails before the first frame, or it yields no frames.
    """
    from tqdm.auto import tqdm

    require_av()
    path = Path(path)
    fmt = "gray" if config.channels == "grey" else "rgb24"
    parts: list[torch.Tensor] = []
    pending: list[np.ndarray] = []
    kept = decoded = 0
    stopped = ""  # why decoding stopped early, if it did
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoDecodeError(f"{path}: no video stream (is it an audio or other file?)")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            announced = int(stream.frames or 0)
            width, height = stream.codec_context.width, stream.codec_context.height
            fps = float(stream.average_rate) if stream.average_rate else 0.0
            seconds = container.duration / 1e6 if container.duration else 0.0  # in av.time_base units
            total = announced // config.frame_step if announced else None
            if config.max_frames and total:
                total = min(total, config.max_frames)
            bar = tqdm(total=total, desc=f"decoding {path.name}", unit="frame", disable=not progress, leave=False)
            try:
                for frame in _frames(container, stream):
                    decoded += 1
                    if (decoded - 1) % config.frame_step:
                        continue
                    array = frame.to_ndarray(format=fmt)
                    pending.append(array[:, :, None] if array.ndim == 2 else array)
                    kept += 1
                    bar.update(1)
                    if len(pending) == chunk:
                        parts.append(_process(pending, config))
                        pending = []
                    if config.max_frames and kept >= config.max_frames:
                        break
            except _StoppedEarly as exc:
                stopped = str(exc)
            finally:
                bar.close()
    except VideoDecodeError:
        raise
    except Exception as exc:  # av.error.FFmpegError and friends: not a video, or corrupt
        detail = str(exc).replace(f": '{path}'", "")  # PyAV repeats the file name
        raise VideoDecodeError(f"{path}: cannot be decoded as a video ({type(exc).__name__}: {detail})") from exc
    if pending:
        parts.append(_process(pending, config))
    if decoded == 0:
        raise VideoDecodeError(f"{path}: holds no video frames")
    if kept == 0:
        raise VideoDecodeError(f"{path}: holds {decoded} frame(s), none kept with frame_step {config.frame_step}")
    warning = ""
    if stopped:
        warning = f"decoding stopped after {decoded} frames ({stopped}); the {decoded} decoded frames are used"
    elif not config.max_frames:
        warning = _count_warning(decoded, announced, seconds, fps)
    array = torch.cat(parts).numpy()
    return array, {"width": width, "height": height, "fps": fps, "decoded": decoded, "announced": announced,
                   "warning": warning}


def _count_warning(decoded: int, announced: int, seconds: float, fps: float) -> str:
    """A line when ``decoded`` disagrees with the header's frame count, or, when the header gives none
    (WebM, Matroska), with the count its duration and frame rate suggest (to within 2% or a frame)."""
    used = f"{decoded} decoded; the {decoded} decoded frames are used"
    if announced:
        return "" if decoded == announced else f"its header announces {announced} frames, {used}"
    suggested = round(seconds * fps)
    if suggested and abs(decoded - suggested) > max(1, 0.02 * suggested):
        return f"its header's duration ({seconds:.1f} s at {fps:g} fps) suggests {suggested} frames, {used}"
    return ""


class _StoppedEarly(Exception):
    """Decoding failed after at least one frame had decoded."""


def _frames(container: Any, stream: Any) -> Iterable[Any]:
    """The decoded frames of ``stream``; an error after the first frame ends them with :class:`_StoppedEarly`."""
    frames = container.decode(stream)
    count = 0
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except Exception as exc:
            if count == 0:
                raise
            raise _StoppedEarly(f"{type(exc).__name__}: {exc}") from exc
        count += 1
        yield frame


def _process(frames: list[np.ndarray], config: VideoConfig) -> torch.Tensor:
    batch = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)  # (N, C, H, W) uint8
    return tile_and_resize(batch, config.tiles, config.image_size, config.resize)
