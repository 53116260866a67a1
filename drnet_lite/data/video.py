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
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..atomic import atomic_path, atomic_write
from .source import ConfiguredSource, WindowIndex, register_source, sample_inputs

try:  # optional: only this module needs it
    import av
except Exception:  # pragma: no cover - exercised only where av is missing
    av = None

#: File name endings taken from a folder (a file named explicitly is always tried).
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv", ".ogv", ".gif")
COLOUR_MODES = {"grey": 1, "rgb": 3}
RESIZE_MODES = ("crop", "squash")
SPLIT_MODES = ("time", "video", "tile")
CACHE_ENV = "DRNET_CACHE"
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
#: Bump when decoding or resizing changes, so old caches are decoded again.
CACHE_VERSION = 1


def require_av() -> Any:
    """The PyAV module, or an ImportError that says how to install it."""
    if av is None:
        raise ImportError("reading video needs PyAV: pip install av (or pip install 'drnet_lite[video]')")
    return av


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


# ----------------------------------------------------------------------------- finding and decoding files


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


# ----------------------------------------------------------------------------- a synthetic video for tests and notebooks


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


__all__ = [
    "VideoConfig", "VideoSource", "VideoClips", "VideoCache", "VideoSummary", "VideoDecodeError",
    "find_videos", "decode_video", "load_videos", "tile_and_resize", "split_scenes", "reading_config",
    "describe_reading", "file_clips",
    "synthetic_frames", "write_synthetic_video", "sample_video", "download_vtest", "default_cache_dir", "VTEST", "VTEST_URL",
    "VTEST_SHA256", "VIDEO_SUFFIXES",
]
