"""Sample footage for notebooks and tests: opencv-doc's ``vtest.avi`` (or the same file downloaded,
checksum pinned), else a synthetic video of shapes over a textured background written with PyAV."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from .video_decode import av, require_av

#: Where Debian's opencv-doc package puts its sample videos (vtest.avi: 795 frames, 768 x 576, 10 fps).
OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
VTEST = OPENCV_SAMPLES / "vtest.avi"
#: The same file in OpenCV's public samples, for machines without opencv-doc (Colab, macOS);
#: ``$DRNET_VTEST_URL`` points elsewhere (a mirror, or the tests' local server).
VTEST_URL = "https://raw.githubusercontent.com/opencv/opencv/4.x/samples/data/vtest.avi"
VTEST_URL_ENV = "DRNET_VTEST_URL"
#: SHA-256 and size of opencv-doc's vtest.avi (Debian's opencv-doc 4.x): a download must match both.
VTEST_SHA256 = "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"
VTEST_BYTES = 8_131_690


def synthetic_frames(frames: int = 60, width: int = 128, height: int = 96, shapes: int = 3, seed: int = 0) -> np.ndarray:
    """uint8 (T, H, W, 3) frames: coloured discs and squares bouncing over a fixed textured background.

    The background (stripes, a checker pattern and fixed noise) is the scene;
    the shapes are the moving part. Everything is computed on whole pixel grids.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    background = np.stack([
        0.45 + 0.2 * np.sin(xx / 5.0 + c) * np.cos(yy / 7.0 - c) + 0.1 * (((xx // 16) + (yy // 16)) % 2)
        for c in range(3)], axis=-1)
    background += rng.normal(0, 0.04, background.shape).astype(np.float32)
    radius = rng.uniform(0.08, 0.14, shapes) * min(width, height)
    colour = rng.uniform(0.0, 1.0, (shapes, 3)).astype(np.float32)
    colour[:, rng.integers(0, 3, shapes)] = 1.0
    position = rng.uniform([0, 0], [height, width], (shapes, 2))
    velocity = rng.uniform(1.5, 4.0, (shapes, 2)) * rng.choice([-1, 1], (shapes, 2))
    square = rng.random(shapes) < 0.5
    limit = np.array([height, width], dtype=np.float64)
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for t in range(frames):  # frames, not pixels
        p = np.abs(np.remainder(position + velocity * t, 2 * limit) - limit)  # bounce: triangle wave in [0, limit]
        frame = background.copy()
        for k in range(shapes):
            dy, dx = yy - p[k, 0], xx - p[k, 1]
            inside = (np.maximum(np.abs(dy), np.abs(dx)) <= radius[k]) if square[k] else (dy * dy + dx * dx <= radius[k] ** 2)
            frame[inside] = colour[k]
        out[t] = (np.clip(frame, 0, 1) * 255).astype(np.uint8)
    return out


def write_synthetic_video(path: str | os.PathLike, frames: int = 60, width: int = 128, height: int = 96,
                          fps: int = 10, shapes: int = 3, seed: int = 0, codec: str = "mpeg4",
                          pix_fmt: str = "yuv420p") -> Path:
    """Write :func:`synthetic_frames` as a real video file with PyAV (atomically) and return its path.

    ``codec="mpeg4"`` in an ``.avi`` or ``.mp4`` file works with the ffmpeg PyAV ships, as do
    ``"libx264"`` (``.mp4``), ``"libvpx-vp9"`` (``.webm``), ``"mjpeg"`` (``.avi``, ``pix_fmt="yuvj420p"``)
    and ``"ffv1"`` (``pix_fmt="gray"``: the frames' mean over colours, a grey video).
    Width and height must be even for the 4:2:0 pixel formats.
    """
    require_av()
    if "420" in pix_fmt and (width % 2 or height % 2):
        raise ValueError(f"width and height must be even for {pix_fmt} video, got {width}x{height}")
    path = Path(path)
    pixels = synthetic_frames(frames, width, height, shapes, seed)
    grey = pix_fmt == "gray"
    with atomic_path(path, keep_suffix=True) as tmp:  # PyAV picks the container from the suffix
        with av.open(str(tmp), "w") as container:
            stream = container.add_stream(codec, rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            stream.bit_rate = 4_000_000
            for array in pixels:
                frame = (av.VideoFrame.from_ndarray(array.mean(-1).round().astype(np.uint8), format="gray") if grey
                         else av.VideoFrame.from_ndarray(array, format="rgb24"))
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return path


def download_vtest(folder: str | os.PathLike, url: str | None = None, timeout: float = 20.0,
                   progress: bool = False) -> Path:
    """``vtest.avi`` from OpenCV's public samples (or ``url``, else ``$DRNET_VTEST_URL``) into ``folder``.

    Atomic and checked (:func:`drnet_lite.data.download.fetch`): the file appears under its name only
    once its size and SHA-256 equal opencv-doc's (:data:`VTEST_SHA256`); a file already there with that
    size and checksum is reused. Raises ``OfflineError`` when the host cannot be reached, ``DownloadError`` otherwise.
    """
    from .download import fetch, sha256sum

    dest = Path(folder) / "vtest.avi"
    if dest.is_file() and dest.stat().st_size == VTEST_BYTES and sha256sum(dest) == VTEST_SHA256:
        return dest
    url = url or os.environ.get(VTEST_URL_ENV) or VTEST_URL
    return fetch(url, dest, sha256=VTEST_SHA256, min_bytes=VTEST_BYTES, max_bytes=VTEST_BYTES, timeout=timeout,
                 progress=progress, desc="vtest.avi")


def sample_video(folder: str | os.PathLike, frames: int = 200, seed: int = 0, download: bool = True,
                 url: str | None = None) -> tuple[Path, bool]:
    """Real footage if it can be had, else a synthetic clip written to ``folder``; returns (path, is it real).

    1. ``vtest.avi`` where Debian's opencv-doc put it (:data:`VTEST`);
    2. else, with ``download``, the same file fetched into ``folder`` (:func:`download_vtest`: checksum
       pinned, atomic); a failure is said in one line, with its reason;
    3. else a synthetic clip (coloured shapes over a textured background), said too.
    """
    if VTEST.is_file():
        return VTEST, True
    if download:
        from .download import DownloadError, OfflineError

        try:
            return download_vtest(folder, url), True
        except OfflineError as exc:
            print(f"vtest.avi is not installed and cannot be downloaded (offline? {exc}): using a synthetic clip instead.")
        except DownloadError as exc:
            print(f"vtest.avi is not installed and its download failed ({exc}): using a synthetic clip instead.")
    path = Path(folder) / f"synthetic-{seed}.avi"
    if not path.is_file():
        write_synthetic_video(path, frames=frames, width=256, height=192, seed=seed)
    return path, False
