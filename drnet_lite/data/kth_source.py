"""KTH as a clip source (``"kth"``): conversion into the video cache, clips with labels, MCnet's test windows.

Conversion (:func:`convert_kth`) unpacks the archives, reads
``00sequences.txt`` and decodes every listed video once into the video cache
(:class:`drnet_lite.data.video.VideoCache`) as uint8 frames squashed from
160x120 to ``image_size`` square, grey, without cropping (as the DRNet
reference preprocessing did). A second run decodes nothing. A corrupt archive
or video, or a video the sequence file lists but no archive holds, is
reported, skipped and counted.

Clips (:class:`KTHSource`) are ``seq_len`` consecutive frames inside one
segment of the sequence file (ranges clamped to what decodes), from the
persons of the split (1-16 train, 17-25 test by default). Each clip carries
its action, person, scenario (d1-d4) and segment.

Evaluation windows (:meth:`KTHSource.protocol_windows`) follow MCnet's test
loop (Villegas et al., ICLR 2017; used by DRNet for its KTH comparison):
10 frames in, 20 predicted, 128x128, the test persons; in every segment a
window starts at the segment's first frame and every ``stride`` frames after,
stride 3 for running and jogging (the person leaves the frame quickly) and 20
otherwise, while ``start < end - (observed + predicted) - 1`` in the file's
1-based frame numbers.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from .kth import (ACTIONS, SEQUENCE_FILE, KTHError, KTHNotFoundError, KTHSplit, Segment, SequenceEntry,
                  extract_archives, kth_dir, load_sequences, segments, video_dir)
from .source import ConfiguredSource, WindowIndex, register_source, sample_inputs
from ..atomic import atomic_write
from .video import VideoCache, VideoConfig, VideoDecodeError, decode_video

#: Frames per second (wall) of unzipping, decoding and squashing KTH-like 160x120 AVI files, measured by
#: ``benchmarks/bench_kth.py`` on PyAV-written files on a loaded, shared CPU machine (721 frames/s at 64,
#: 679 at 128; about 1,370 frames per CPU second); only used for the estimate printed before a conversion.
DECODE_FPS_ESTIMATE = 700.0
#: Decode more frames than any KTH video has: this turns off the generic header-count warning, because
#: KTH keeps what decodes of a truncated file (person01_boxing_d4) and clamps the ranges to it.
_MAX_FRAMES = 1_000_000
#: Default frame strides of MCnet's test windows.
PROTOCOL_STRIDES = {"running": 3, "jogging": 3}
PROTOCOL_STRIDE = 20
#: In the cache folder: videos that did not decode, so a re-run does not try them again.
FAILURES = "failed.json"


@dataclass(frozen=True)
class KTHConfig:
    """Clips of KTH.

    Attributes:
        image_size: frame size after squashing 160x120 to a square (64 or 128).
        seq_len: frames per clip.
        split: ``"train"`` or ``"test"``.
        train_persons, test_persons: the split (1-16 / 17-25 by default).
        actions: the actions used.
        source: the registered source name (always ``"kth"``).
    """

    image_size: int = 64
    seq_len: int = 20
    split: str = "train"
    train_persons: tuple[int, ...] = KTHSplit().train
    test_persons: tuple[int, ...] = KTHSplit().test
    actions: tuple[str, ...] = ACTIONS
    channels: str = "grey"
    source: str = "kth"

    def __post_init__(self) -> None:
        object.__setattr__(self, "train_persons", tuple(int(p) for p in self.train_persons))
        object.__setattr__(self, "test_persons", tuple(int(p) for p in self.test_persons))
        object.__setattr__(self, "actions", tuple(self.actions))
        self.validate()

    def validate(self) -> None:
        size = self.image_size
        if size < 8 or size & (size - 1):
            raise ValueError(f"image_size must be a power of two >= 8 (64 or 128), got {size}")
        if self.seq_len < 1:
            raise ValueError(f"seq_len must be at least 1, got {self.seq_len}")
        if self.split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {self.split!r}")
        bad = sorted(set(self.actions) - set(ACTIONS))
        if bad or not self.actions:
            raise ValueError(f"actions must be a non-empty subset of {ACTIONS}, got {self.actions}")
        if self.channels != "grey":
            raise ValueError(f"KTH is grey video: channels must be 'grey', got {self.channels!r}")
        if self.source != "kth":
            raise ValueError(f"a KTHConfig describes the 'kth' source, got source={self.source!r}")
        self.kth_split  # checks the persons

    @property
    def kth_split(self) -> KTHSplit:
        return KTHSplit(self.train_persons, self.test_persons)

    @property
    def num_channels(self) -> int:
        return 1

    def video_config(self) -> VideoConfig:
        """The decoding settings: grey, squashed to ``image_size`` (no crop), every frame."""
        return VideoConfig(image_size=self.image_size, channels="grey", resize="squash", max_frames=_MAX_FRAMES)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["train_persons"], d["test_persons"], d["actions"] = list(self.train_persons), list(self.test_persons), list(self.actions)
        return d


def cache_dir(root: str | os.PathLike, image_size: int) -> Path:
    return kth_dir(root) / f"cache-{image_size}"


def video_path(root: str | os.PathLike, entry: SequenceEntry) -> Path:
    return video_dir(root) / entry.key.action / entry.key.filename


# ---------------------------------------------------------------------------- conversion


@dataclass
class ConversionReport:
    """What :func:`convert_kth` did. ``failed`` maps a file to the reason it was skipped."""

    decoded: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    frames: int = 0
    seconds: float = 0.0
    estimate: str = ""

    @property
    def videos(self) -> int:
        return len(self.decoded) + len(self.cached)

    def summary(self) -> str:
        text = (f"KTH: {self.videos} videos ready ({len(self.decoded)} decoded, {len(self.cached)} from the cache, "
                f"{self.frames:,} frames), {len(self.missing)} missing, {len(self.failed)} failed, {self.seconds:.1f} s")
        text += "".join(f"\n  missing {name}" for name in self.missing)
        return text + "".join(f"\n  failed {name}: {why}" for name, why in sorted(self.failed.items()))


def estimate(entries: Sequence[SequenceEntry], image_size: int) -> str:
    """Disk and time before a conversion: declared frames x image_size^2 bytes, at :data:`DECODE_FPS_ESTIMATE`."""
    frames = sum(max(last for _, last in e.ranges) for e in entries)
    disk = frames * image_size * image_size
    seconds = frames / DECODE_FPS_ESTIMATE
    when = f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
    return (f"{len(entries)} videos to decode: about {frames:,} frames, {disk / 2**20:,.1f} MB of cache at "
            f"{image_size}x{image_size}, roughly {when} (at {DECODE_FPS_ESTIMATE:,.0f} frames/s, "
            "measured on a shared CPU; a free core or Colab is faster)")


def convert_kth(root: str | os.PathLike, image_size: int = 64, progress: bool = True, verbose: bool = True,
                actions: Sequence[str] = ACTIONS) -> ConversionReport:
    """Decode every video of ``ROOT/KTH`` listed in ``00sequences.txt`` into the cache (once).

    Unpacks the archives first where needed (see :func:`drnet_lite.data.kth.extract_archives`).
    Prints an estimate of disk and time before it decodes anything, a
    progress bar while it does, and a summary after.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    folder = kth_dir(root)
    sequence_path = folder / SEQUENCE_FILE
    if not sequence_path.is_file():
        raise KTHNotFoundError(f"{sequence_path} is missing: run `python -m drnet_lite download kth --root {root}` "
                               f"or put 00sequences.txt and the six action zips in {folder}/")
    report = ConversionReport()
    entries = [e for e in load_sequences(sequence_path).videos if e.key.action in actions]
    vconfig = KTHConfig(image_size=image_size).video_config()
    cache = VideoCache(cache_dir(root, image_size))
    index = cache.read_index()
    failures = _read_failures(cache)
    todo = [e for e in entries if not _cached(cache, index, video_path(root, e), vconfig)]
    if todo:
        unpack = sorted({e.key.action for e in todo if not video_path(root, e).is_file()})
        if unpack:
            extracted = extract_archives(root, actions=unpack, progress=progress)
            report.failed.update(extracted.failed)
            if verbose and (extracted.extracted or extracted.failed):
                print(extracted.summary())
        report.estimate = estimate(todo, image_size)
        if verbose:
            print(report.estimate)
    bar = tqdm(total=len(todo), desc=f"KTH -> {image_size}x{image_size}", unit="video", disable=not progress or not todo)
    todo_names = {e.key.name for e in todo}
    for entry in entries:
        path = video_path(root, entry)
        name = entry.key.filename
        if entry.key.name not in todo_names:
            report.cached.append(name)
            report.frames += int(index_frames(cache, path, vconfig))
            continue
        bar.update(1)
        if not path.is_file():
            if f"{entry.key.action}.zip" not in report.failed:
                report.missing.append(name)
            continue
        stat = path.stat()
        earlier = failures.get(name)
        if earlier and earlier.get("size") == stat.st_size and earlier.get("mtime_ns") == stat.st_mtime_ns:
            report.failed[name] = f"{earlier['reason']} (found by an earlier run; replace the file to try again)"
            continue
        try:
            array, facts = decode_video(path, vconfig)
        except VideoDecodeError as exc:
            report.failed[name] = reason = str(exc).removeprefix(f"{path}: ")
            failures[name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "reason": reason}
            _write_failures(cache, failures)
            continue
        cache.store(path, vconfig, array, facts, stat)
        report.decoded.append(name)
        report.frames += len(array)
    bar.close()
    report.seconds = time.perf_counter() - start
    if verbose and (report.decoded or report.failed or report.missing):
        print(report.summary())
    return report


def _read_failures(cache: VideoCache) -> dict[str, Any]:
    """Videos that failed to decode, with the size and mtime they had (so a re-run decodes nothing)."""
    try:
        return json.loads((cache.folder / FAILURES).read_text())
    except (OSError, ValueError):
        return {}


def _write_failures(cache: VideoCache, failures: dict[str, Any]) -> None:
    data = json.dumps(failures, indent=1, sort_keys=True).encode()
    atomic_write(cache.folder / FAILURES, lambda handle: handle.write(data))


def _cached(cache: VideoCache, index: dict[str, Any], path: Path, vconfig: VideoConfig) -> bool:
    entry = index.get(cache.key(path, vconfig))
    if entry is None or not path.is_file():
        return False
    stat = path.stat()
    return entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns and (cache.folder / entry["file"]).is_file()


def index_frames(cache: VideoCache, path: Path, vconfig: VideoConfig) -> int:
    entry = cache.read_index().get(cache.key(path, vconfig), {})
    return int(entry.get("shape", [0])[0])


# ---------------------------------------------------------------------------- clips


@dataclass
class KTHClips:
    """A batch of KTH clips and their labels.

    Attributes:
        frames: float32 (B, T, 1, S, S) in [0, 1].
        times: int64 (B, T) frame index within the clip.
        action: int64 (B,) index into :data:`drnet_lite.data.kth.ACTIONS`.
        person: int64 (B,) 1-25.  scenario: int64 (B,) 1-4.
        segment: int64 (B,) 1-based segment of the video (its range in the sequence file).
        start: int64 (B,) the clip's first frame in its video (0-based).
    """

    frames: torch.Tensor
    times: torch.Tensor
    action: torch.Tensor
    person: torch.Tensor
    scenario: torch.Tensor
    segment: torch.Tensor
    start: torch.Tensor

    def __len__(self) -> int:
        return self.frames.shape[0]


class KTHSource(ConfiguredSource):
    """Clips of KTH (the ``"kth"`` source); ``root`` holds ``KTH/`` (see :func:`drnet_lite.data.kth.download_kth`).

    Converts on first use (:func:`convert_kth`, all actions and persons, so
    both splits share one cache), then keeps the frames of the split's
    segments in memory as uint8; a clip is converted to float only for the
    frames asked for (``times``).
    """

    def __init__(self, config: KTHConfig | None = None, root: str | os.PathLike | None = None,
                 device: str | torch.device = "cpu", progress: bool = True, verbose: bool = True) -> None:
        from .mnist import data_root

        self.config = config = config or KTHConfig()
        self.root = data_root(root)
        self.device = torch.device(device)
        self.report = convert_kth(self.root, config.image_size, progress=progress, verbose=verbose)
        vconfig = config.video_config()
        cache = VideoCache(cache_dir(self.root, config.image_size))
        persons = set(config.kth_split.persons(config.split))
        chunks, rows = [], []
        offset = 0
        self.segments: list[Segment] = []
        for entry in load_sequences(kth_dir(self.root) / SEQUENCE_FILE).videos:
            key = entry.key
            if key.person not in persons or key.action not in config.actions:
                continue
            path = video_path(self.root, entry)
            array = cache.lookup(path, vconfig) if path.is_file() else None
            if array is None:
                continue  # reported by the conversion
            for seg in segments(entry, decoded_length=len(array)):
                if seg.length < config.seq_len:
                    continue
                chunks.append(np.asarray(array[seg.start:seg.stop, 0]))
                rows.append((offset, seg.length, key.action_index, key.person, key.scenario, seg.index, seg.start))
                self.segments.append(seg)
                offset += seg.length
        if not rows:
            raise KTHError(f"no {config.split} segment of persons {sorted(persons)} has {config.seq_len} frames in "
                           f"{kth_dir(self.root)} ({self.report.videos} videos converted); check the split, the "
                           "actions and seq_len, or the download")
        self.frames = torch.from_numpy(np.concatenate(chunks)).to(self.device)  # (N, 1, S, S) uint8
        self.table = torch.tensor(rows, dtype=torch.int64)  # offset, length, action, person, scenario, segment, start
        self._windows = WindowIndex(self.table[:, 1], config.seq_len)

    @property
    def num_windows(self) -> int:
        return len(self._windows)

    def __repr__(self) -> str:
        return (f"KTHSource({self.config.split}: {len(self.table)} segments of {len(set(self.table[:, 3].tolist()))} "
                f"persons, {self.num_windows} clips of {self.seq_len} frames, 1x{self.image_size}x{self.image_size})")

    def gather(self, segment: torch.Tensor, start: torch.Tensor, times: torch.Tensor) -> KTHClips:
        """Clips of the segments ``segment`` (B,) (rows of :attr:`table`) from ``start`` (B,) frames into each."""
        rows = self.table[segment]
        if times.numel() and bool((start + times.max(1).values >= rows[:, 1]).any()):
            raise ValueError("a clip runs past the end of its segment")
        index = (rows[:, 0] + start)[:, None] + times
        frames = self.frames[index.to(self.device)].float().div_(255.0)
        d = self.device
        return KTHClips(frames=frames, times=times.to(d), action=rows[:, 2].to(d), person=rows[:, 3].to(d),
                        scenario=rows[:, 4].to(d), segment=rows[:, 5].to(d), start=(rows[:, 6] + start).to(d))

    def sample(self, batch_size: int, generator: torch.Generator | None = None, seed: int | None = None,
               times: torch.Tensor | None = None) -> KTHClips:
        """``batch_size`` clips, every (segment, first frame) of the split equally likely."""
        generator, times = sample_inputs(batch_size, generator, seed, times, self.seq_len)
        segment, start = self._windows.draw(batch_size, generator)
        return self.gather(segment, start, times)

    def protocol_windows(self, observed: int = 10, predicted: int = 20, strides: dict[str, int] | None = None,
                         stride: int = PROTOCOL_STRIDE) -> tuple[torch.Tensor, torch.Tensor]:
        """MCnet's test windows over this split's segments: (segment rows (W,), starts (W,)).

        In a segment with 1-based frames ``first..last`` windows start at
        ``first, first + stride, ...`` while ``start < last - (observed + predicted) - 1``
        (MCnet's loop ``range(first, last - K - T - 1, stride)``), i.e. offsets into the
        segment ``range(0, length - L - 2, stride)`` with ``L = observed + predicted`` and
        ``length = last - first + 1``. The source's ``seq_len`` plays no part.
        """
        strides = PROTOCOL_STRIDES if strides is None else strides
        length = observed + predicted
        seg_rows, starts = [], []
        for row, (_, seg_len, action, *_rest) in enumerate(self.table.tolist()):
            step = strides.get(ACTIONS[action], stride)
            for offset in range(0, seg_len - length - 2, step):  # MCnet: start < last - L - 1 (1-based)
                seg_rows.append(row)
                starts.append(offset)
        return torch.tensor(seg_rows, dtype=torch.int64), torch.tensor(starts, dtype=torch.int64)

    def windows(self, rows: torch.Tensor, starts: torch.Tensor, length: int) -> KTHClips:
        """The clips of ``length`` frames at ``(rows, starts)`` (e.g. from :meth:`protocol_windows`)."""
        times = torch.arange(length).expand(len(rows), -1)
        return self.gather(rows, starts, times)


def _make_kth_source(config: KTHConfig, root: str | os.PathLike | None = None,
                     device: str | torch.device = "cpu") -> KTHSource:
    return KTHSource(config, root=root, device=device)


register_source("kth", KTHConfig, _make_kth_source,
                "KTH human actions (6 actions, 25 persons, 4 scenarios); root: the folder holding KTH/")

__all__ = ["KTHConfig", "KTHSource", "KTHClips", "ConversionReport", "convert_kth", "estimate", "cache_dir",
           "PROTOCOL_STRIDES", "PROTOCOL_STRIDE"]
