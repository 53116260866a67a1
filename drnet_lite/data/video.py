"""Real video from any files or folders: decoded once with PyAV, cached as uint8, sampled as clips.

A video becomes square frames of ``image_size`` pixels in four steps:

1. decode with PyAV (``pip install av``; it carries its own ffmpeg), grey or RGB;
2. keep every ``frame_step``-th frame;
3. optionally cut each frame into a fixed grid of ``tiles = (rows, cols)``
   tiles: each tile is its own scene (a 768 x 576 plaza seen from above cut
   3 x 4 gives twelve 192 x 192 scenes: lawn, path, a building's edge);
4. resize each tile to ``image_size`` x ``image_size``, by a centre crop to a
   square (``resize="crop"``, keeps proportions) or by squashing
   (``resize="squash"``, keeps everything in view).

The result, uint8 (T, tiles, C, S, S), goes to a cache folder: one ``.npy`` per
video and setting, and ``index.json`` recording each source file's size and
mtime. A later load whose file is unchanged decodes nothing; a changed file is
decoded again. Every write goes to a unique temporary file renamed into place,
so an interrupted run never leaves a half-written cache file.

Any file that decodes is used, with the frames that decoded. A header whose
frame count disagrees with what decodes (AVI indexes often count empty "repeat
the previous frame" chunks) and a file whose decoding stops part way (cut short)
give a one-line warning, and the frames decoded are used and cached. A file is
broken only when decoding fails before its first frame or yields none: it is
reported by name, skipped and counted in the :class:`VideoSummary`; the other
files still load.

Clips: a scene is one tile of one video; a clip is ``seq_len`` consecutive
(cached) frames of a scene. Train and test are split by ``split_by``:

* ``"time"``: the first ``1 - test_fraction`` of every scene's frames train,
  the rest test (works with a single video);
* ``"video"``: the last videos (sorted by path) are the test videos;
* ``"tile"``: a fixed random choice of tiles are the test scenes.

Decoding one file is :mod:`drnet_lite.data.video_decode`; the sample footage of the notebooks
and tests (``vtest.avi``, or a synthetic video) is :mod:`drnet_lite.data.video_samples`. Both
are imported here too, so ``from drnet_lite.data.video import decode_video, sample_video`` works.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..atomic import atomic_write
from .source import ConfiguredSource, WindowIndex, register_source, sample_inputs
from .video_decode import VIDEO_SUFFIXES, VideoDecodeError, decode_video, find_videos, require_av, tile_and_resize
from .video_samples import VTEST, VTEST_SHA256, VTEST_URL, download_vtest, sample_video, synthetic_frames, write_synthetic_video

COLOUR_MODES = {"grey": 1, "rgb": 3}
RESIZE_MODES = ("crop", "squash")
SPLIT_MODES = ("time", "video", "tile")
CACHE_ENV = "DRNET_CACHE"
#: Bump when decoding or resizing changes, so old caches are decoded again.
CACHE_VERSION = 1


@dataclass(frozen=True)
class VideoConfig:
    """Clips of real video.

    Attributes:
        videos: files or folders (folders are searched recursively for
            :data:`VIDEO_SUFFIXES`).
        image_size: output frame size (a power of two, 64 or 128 are usual).
        channels: ``"grey"`` or ``"rgb"``.
        resize: ``"crop"`` (centre crop to a square, then resize) or ``"squash"``.
        tiles: (rows, cols) grid each frame is cut into; (1, 1) = whole frame.
        frame_step: keep every n-th decoded frame.
        seq_len: frames per clip.
        split: ``"train"`` or ``"test"``.
        split_by: ``"time"``, ``"video"`` or ``"tile"`` (see the module docstring).
        test_fraction: share of time, videos or tiles held out for test.
        max_frames: decode at most this many frames (after ``frame_step``) per video; 0 = all.
        source: the registered source name (always ``"video"``).
    """

    videos: tuple[str, ...] = ()
    image_size: int = 64
    channels: str = "grey"
    resize: str = "crop"
    tiles: tuple[int, int] = (1, 1)
    frame_step: int = 1
    seq_len: int = 20
    split: str = "train"
    split_by: str = "time"
    test_fraction: float = 0.2
    max_frames: int = 0
    source: str = "video"

    def __post_init__(self) -> None:
        videos = (self.videos,) if isinstance(self.videos, (str, os.PathLike)) else self.videos
        object.__setattr__(self, "videos", tuple(str(v) for v in videos))
        object.__setattr__(self, "tiles", tuple(int(t) for t in self.tiles))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and how to fix it."""
        size = self.image_size
        if size < 8 or size & (size - 1):
            raise ValueError(f"image_size must be a power of two >= 8 (64 or 128), got {size}")
        if self.channels not in COLOUR_MODES:
            raise ValueError(f"channels must be one of {sorted(COLOUR_MODES)}, got {self.channels!r}")
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, got {self.resize!r}")
        if len(self.tiles) != 2 or min(self.tiles) < 1:
            raise ValueError(f"tiles must be (rows, cols) with both >= 1, got {self.tiles}")
        if self.frame_step < 1:
            raise ValueError(f"frame_step must be at least 1, got {self.frame_step}")
        if self.seq_len < 1:
            raise ValueError(f"seq_len must be at least 1, got {self.seq_len}")
        if self.split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {self.split!r}")
        if self.split_by not in SPLIT_MODES:
            raise ValueError(f"split_by must be one of {SPLIT_MODES}, got {self.split_by!r}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.max_frames < 0:
            raise ValueError(f"max_frames must be >= 0 (0: every frame), got {self.max_frames}")
        if self.source != "video":
            raise ValueError(f"a VideoConfig describes the 'video' source, got source={self.source!r}")

    @property
    def num_channels(self) -> int:
        return COLOUR_MODES[self.channels]

    @property
    def num_tiles(self) -> int:
        return self.tiles[0] * self.tiles[1]

    def decode_settings(self) -> dict[str, Any]:
        """What the cached array of a video depends on (besides the file itself)."""
        return {"image_size": self.image_size, "channels": self.channels, "resize": self.resize,
                "tiles": list(self.tiles), "frame_step": self.frame_step, "max_frames": self.max_frames,
                "version": CACHE_VERSION}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["videos"], d["tiles"] = list(self.videos), list(self.tiles)
        return d


# ----------------------------------------------------------------------------- the cache


def default_cache_dir() -> Path:
    """``$DRNET_CACHE/video`` if set, else ``~/.cache/drnet_lite/video``."""
    base = os.environ.get(CACHE_ENV)
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "drnet_lite") / "video"


@dataclass
class VideoSummary:
    """What a load did: files decoded, read from the cache, skipped (with the reason), and
    warnings about files used with the frames that decoded (a header count that disagrees, a file cut short)."""

    decoded: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return len(self.decoded) + len(self.cached)

    def __str__(self) -> str:
        text = (f"{self.loaded} video(s) loaded ({len(self.decoded)} decoded, {len(self.cached)} from the cache), "
                f"{len(self.skipped)} skipped, {self.seconds:.1f} s")
        lines = [text] + [f"  warning {name}: {why}" for name, why in self.warnings]
        lines += [f"  skipped {name}: {why}" for name, why in self.skipped]
        return "\n".join(lines)


class VideoCache:
    """uint8 arrays of decoded videos in a folder, with ``index.json`` saying what each was made from."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder).expanduser() if folder is not None else default_cache_dir()

    @property
    def index_path(self) -> Path:
        return self.folder / "index.json"

    def read_index(self) -> dict[str, Any]:
        try:
            return json.loads(self.index_path.read_text())
        except (OSError, ValueError):
            return {}

    @staticmethod
    def key(path: Path, config: VideoConfig) -> str:
        text = json.dumps({"path": str(path), **config.decode_settings()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def lookup(self, path: Path, config: VideoConfig) -> np.ndarray | None:
        """The cached array of ``path`` if the file is unchanged since it was cached, else None."""
        entry = self.read_index().get(self.key(path, config))
        if entry is None:
            return None
        stat = path.stat()
        if entry.get("size") != stat.st_size or entry.get("mtime_ns") != stat.st_mtime_ns:
            return None
        try:
            array = np.load(self.folder / entry["file"], mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        return array if list(array.shape) == entry.get("shape") else None

    def store(self, path: Path, config: VideoConfig, array: np.ndarray, facts: dict[str, Any], stat: os.stat_result) -> None:
        """Write the array, then its index entry (both atomically)."""
        key = self.key(path, config)
        name = f"{path.stem}-{key}.npy"
        atomic_write(self.folder / name, lambda handle: np.save(handle, array, allow_pickle=False))
        index = self.read_index()  # read again just before writing: another process may have added entries
        index[key] = {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "file": name,
                      "shape": list(array.shape), "settings": config.decode_settings(), **facts}
        data = json.dumps(index, indent=1, sort_keys=True).encode()
        atomic_write(self.index_path, lambda handle: handle.write(data))


def load_videos(config: VideoConfig, cache_dir: str | os.PathLike | None = None, progress: bool = True,
                verbose: bool = True) -> tuple[list[Path], list[np.ndarray], VideoSummary]:
    """Decode (or read from the cache) every video of ``config.videos``.

    Returns the videos that loaded, their uint8 (T, tiles, C, S, S) arrays and
    a :class:`VideoSummary`. Bad files are skipped and reported, files used with
    the frames that decoded get a one-line warning (both printed when
    ``verbose``). A path that does not exist, or a load that finds no video at
    all, raises ``ValueError`` (the former before anything is decoded).
    """
    start = time.perf_counter()
    files, missing = find_videos(config.videos)
    if missing:
        raise ValueError(f"no such video file or folder: {', '.join(map(str, missing))} (check the spelling)")
    summary = VideoSummary()
    cache = VideoCache(cache_dir)
    paths, arrays = [], []
    for path in files:
        stat = path.stat()
        array = cache.lookup(path, config)
        if array is not None:
            summary.cached.append(str(path))
        else:
            try:
                array, facts = decode_video(path, config, progress=progress)
            except VideoDecodeError as exc:
                summary.skipped.append((str(path), str(exc).removeprefix(f"{path}: ")))
                if verbose:
                    print(f"skipped {path}: {str(exc).removeprefix(f'{path}: ')}")
                continue
            cache.store(path, config, array, facts, stat)
            summary.decoded.append(str(path))
            if facts["warning"]:
                summary.warnings.append((str(path), facts["warning"]))
        paths.append(path)
        arrays.append(array)
    summary.seconds = time.perf_counter() - start
    if verbose and (summary.skipped or summary.decoded):
        print(summary)
    if not arrays and len(summary.skipped) == 1 and len(files) == 1:  # one file: one line
        raise ValueError(f"no video could be loaded from {summary.skipped[0][0]}: {summary.skipped[0][1]}")
    if not arrays:
        named = ", ".join(config.videos) or "(none given)"
        raise ValueError(f"no video could be loaded from {named}:\n{summary}\n"
                         "Pass video files or folders holding them (e.g. /usr/share/doc/opencv-doc/examples/data/vtest.avi).")
    return paths, arrays, summary


# ----------------------------------------------------------------------------- clips


@dataclass
class VideoClips:
    """A batch of video clips and where they came from.

    Attributes:
        frames: float32 (B, T, C, H, W) in [0, 1].
        times: int64 (B, T) frame index within the clip.
        video: int64 (B,) index into the source's ``paths``.
        tile: int64 (B,) tile index (row-major in the tile grid).
        start: int64 (B,) the clip's first (cached) frame within its video.
        scene: int64 (B,) ``video * num_tiles + tile``, the scene label (what content should identify).
    """

    frames: torch.Tensor
    times: torch.Tensor
    video: torch.Tensor
    tile: torch.Tensor
    start: torch.Tensor
    scene: torch.Tensor

    def __len__(self) -> int:
        return self.frames.shape[0]


def split_scenes(lengths: Sequence[int], num_tiles: int, config: VideoConfig) -> list[tuple[int, int, int, int]]:
    """The scenes of ``config.split`` as (video, tile, first frame, end frame), before any length check."""
    n = len(lengths)
    test = config.split == "test"
    scenes = []
    if config.split_by == "video":
        if n < 2:
            raise ValueError(f"split_by='video' needs at least 2 videos, got {n}; use split_by='time' or 'tile'")
        n_test = min(n - 1, max(1, round(config.test_fraction * n)))
        chosen = range(n - n_test, n) if test else range(n - n_test)
        scenes = [(v, k, 0, lengths[v]) for v in chosen for k in range(num_tiles)]
    elif config.split_by == "tile":
        if num_tiles < 2:
            raise ValueError(f"split_by='tile' needs at least 2 tiles, got tiles={config.tiles}; use split_by='time'")
        n_test = min(num_tiles - 1, max(1, round(config.test_fraction * num_tiles)))
        order = torch.randperm(num_tiles, generator=torch.Generator().manual_seed(0)).tolist()
        test_tiles = set(order[:n_test])
        scenes = [(v, k, 0, lengths[v]) for v in range(n) for k in range(num_tiles) if (k in test_tiles) == test]
    else:
        for v, length in enumerate(lengths):
            cut = int(round(length * (1 - config.test_fraction)))
            lo, hi = (cut, length) if test else (0, cut)
            scenes += [(v, k, lo, hi) for k in range(num_tiles)]
    return scenes


class VideoSource(ConfiguredSource):
    """Clips of real video (the ``"video"`` source).

    >>> source = VideoSource(VideoConfig(videos=("vtest.avi",), tiles=(3, 4)))   # doctest: +SKIP
    >>> source.sample(8, seed=0).frames.shape                                     # doctest: +SKIP
    torch.Size([8, 20, 1, 64, 64])

    All cached frames are held in memory as uint8; a clip is gathered and
    converted to float only for the frames asked for (``times``).
    """

    def __init__(self, config: VideoConfig | None = None, root: str | os.PathLike | None = None,
                 device: str | torch.device = "cpu", progress: bool = True, verbose: bool = True, **overrides) -> None:
        config = config or VideoConfig()
        if overrides:
            config = VideoConfig(**{**config.to_dict(), **overrides})
        self.config = config
        self.device = torch.device(device)
        self.paths, arrays, self.summary = load_videos(config, root, progress=progress, verbose=verbose)
        self.lengths = [len(a) for a in arrays]
        self.frames = torch.from_numpy(np.concatenate([np.asarray(a) for a in arrays])).to(self.device)
        self.offsets = torch.tensor([0] + self.lengths[:-1]).cumsum(0)
        scenes = split_scenes(self.lengths, config.num_tiles, config)
        long_enough = [s for s in scenes if s[3] - s[2] >= config.seq_len]
        if not long_enough:
            spans = sorted({s[3] - s[2] for s in scenes})
            raise ValueError(
                f"no {config.split} scene has {config.seq_len} frames (the {config.split} scenes have {spans} frames; "
                "use a shorter seq_len, a smaller frame_step or test_fraction, or longer videos)")
        self.scenes = torch.tensor(long_enough, dtype=torch.int64)  # (S, 4): video, tile, lo, hi
        self._windows = WindowIndex(self.scenes[:, 3] - self.scenes[:, 2], config.seq_len)

    def scene_medians(self) -> torch.Tensor:
        """Every scene's per-pixel median over all its video's frames, ``(videos * tiles, C, H, W)`` in [0, 1],
        indexed by :attr:`VideoClips.scene`: the scene with whatever moves through it taken out (a
        guess of a frame that knows the background and nothing of the people)."""
        if getattr(self, "_scene_medians", None) is None:
            per_video = [self.frames[int(lo):int(lo) + n].median(dim=0).values
                         for lo, n in zip(self.offsets.tolist(), self.lengths)]
            self._scene_medians = torch.cat(per_video).float().div_(255.0)
        return self._scene_medians

    @property
    def num_windows(self) -> int:
        """How many distinct clips (scene, first frame) this split holds."""
        return len(self._windows)

    def __repr__(self) -> str:
        return (f"VideoSource({len(self.paths)} video(s), {len(self.scenes)} {self.config.split} scenes, "
                f"{self.num_windows} clips of {self.seq_len} frames, {self.channels}x{self.image_size}x{self.image_size})")

    def gather(self, scene: torch.Tensor, start: torch.Tensor, times: torch.Tensor) -> VideoClips:
        """Clips of scenes ``scene`` (B,) (rows of :attr:`scenes`) starting at ``start`` (B,) frames into the scene."""
        rows = self.scenes[scene]
        video, tile = rows[:, 0], rows[:, 1]
        first = rows[:, 2] + start
        index = (self.offsets[video] + first)[:, None] + times
        frames = self.frames[index.to(self.device), tile.to(self.device)[:, None]].float().div_(255.0)
        return VideoClips(frames=frames, times=times.to(self.device), video=video.to(self.device),
                          tile=tile.to(self.device), start=first.to(self.device),
                          scene=(video * self.config.num_tiles + tile).to(self.device))

    def sample(self, batch_size: int, generator: torch.Generator | None = None, seed: int | None = None,
               times: torch.Tensor | None = None) -> VideoClips:
        """``batch_size`` clips, each window (scene, first frame) of the split equally likely."""
        generator, times = sample_inputs(batch_size, generator, seed, times, self.seq_len)
        scene, start = self._windows.draw(batch_size, generator)
        return self.gather(scene, start, times)


def _make_video_source(config: VideoConfig, root: str | os.PathLike | None = None,
                       device: str | torch.device = "cpu") -> VideoSource:
    return VideoSource(config, root=root, device=device)


register_source("video", VideoConfig, _make_video_source,
                "real footage from video files or folders, decoded with PyAV (root: the cache folder)")


# ----------------------------------------------------------------------------- a user's files, read for a trained model


def reading_config(data: Any, image_size: int, channels: int) -> VideoConfig:
    """How video files are read for a model trained on the source config ``data``, whose frames are
    ``channels`` x ``image_size`` x ``image_size``: a video source's own settings (size, colour, crop,
    tiles, frame step); any other source's size and colour, centre-cropped, every frame, whole frames.

    Raises ``ValueError`` for a model whose frames are not grey or colour (one channel per digit)."""
    if channels not in COLOUR_MODES.values():
        raise ValueError(f"this DRNet reads {channels}-channel frames (one channel per digit); a video gives grey "
                         "(1) or colour (3) frames, so it cannot be fed video files: use its own source's clips")
    if isinstance(data, VideoConfig):
        return replace(data, videos=(), max_frames=0)
    return VideoConfig(image_size=image_size, channels="grey" if channels == 1 else "rgb", resize="crop")


def describe_reading(config: VideoConfig) -> str:
    """``config``'s conversion of a video's frames, in words."""
    resize = "centre-cropped to a square" if config.resize == "crop" else "squashed to a square"
    tiles = "" if config.tiles == (1, 1) else f", each frame cut into {config.tiles[0]}x{config.tiles[1]} tiles"
    step = "" if config.frame_step == 1 else f", every {config.frame_step}th frame"
    colour = "grey" if config.channels == "grey" else "colour (RGB)"
    return f"{colour}{tiles}, {resize}, resized to {config.image_size}x{config.image_size}{step}"


def file_clips(path: str | os.PathLike, config: VideoConfig, length: int, start: int = 0,
               tiles: Sequence[int] | None = None, cache_dir: str | os.PathLike | None = None,
               verbose: bool = True) -> torch.Tensor:
    """Float clips (n, length, C, S, S) in [0, 1] of one video file read with ``config``: frames
    ``start .. start + length - 1`` (counted after the frame step) of the tiles ``tiles`` (default: all).

    A file used with the frames that decoded (see :func:`decode_video`) is a one-line warning, printed
    whatever ``verbose`` (which shows the progress and the load summary).

    Raises ``ValueError`` naming the file when it does not decode or is too short for the clip."""
    config = replace(config, videos=(str(path),), max_frames=0)
    _, arrays, summary = load_videos(config, cache_dir, progress=verbose, verbose=verbose)
    if not verbose:
        for name, warning in summary.warnings:
            print(f"warning {name}: {warning}")
    frames = arrays[0]  # (T, tiles, C, S, S) uint8, maybe a read-only map of the cache
    if start < 0 or start + length > len(frames):
        after = f" after a frame step of {config.frame_step}" if config.frame_step > 1 else ""
        raise ValueError(f"{path} gives {len(frames)} frames{after}; frames {start} to {start + length - 1} are "
                         f"needed: {'use a smaller start or ' if start else ''}ask for fewer frames, or use a longer video")
    chosen = list(range(frames.shape[1])) if tiles is None else list(tiles)
    if any(not 0 <= k < frames.shape[1] for k in chosen):
        raise ValueError(f"tiles {chosen}: {path} is cut into {frames.shape[1]} tiles (0 to {frames.shape[1] - 1})")
    clip = torch.from_numpy(np.ascontiguousarray(frames[start:start + length][:, chosen]))  # a copy of the frames used
    return clip.transpose(0, 1).float().div_(255.0)


__all__ = [
    "VideoConfig", "VideoSource", "VideoClips", "VideoCache", "VideoSummary", "VideoDecodeError",
    "find_videos", "decode_video", "load_videos", "tile_and_resize", "split_scenes", "reading_config",
    "describe_reading", "file_clips",
    "synthetic_frames", "write_synthetic_video", "sample_video", "download_vtest", "default_cache_dir", "VTEST", "VTEST_URL",
    "VTEST_SHA256", "VIDEO_SUFFIXES", "require_av",
]
