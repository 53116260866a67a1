"""KTH human actions (Schuldt, Laptev and Caputo, ICPR 2004): download, sequence file, split, labels.

The data set: 25 persons perform 6 actions in 4 scenarios (d1 outdoors, d2
outdoors with scale variation, d3 outdoors in other clothes, d4 indoors),
filmed as grey 160x120 video at 25 fps. It comes as one zip per action, each a
flat folder of ``personXX_<action>_dN_uncomp.avi``, and a text file
``00sequences.txt`` that cuts every video into about four segments (one
repetition of the action each). DRNet (Denton and Birodkar, NeurIPS 2017)
predicts KTH futures and compares with MCnet (Villegas et al., ICLR 2017) on
persons 17-25.

The sequence file, and every quirk it has:

* header lines ``Training: person11, ...``, ``Validation: ...``, ``Test: ...``
  come before the data lines (that split is the recognition paper's; video
  prediction uses persons 1-16 / 17-25, see :class:`KTHSplit`);
* a data line is ``person01_boxing_d1<ws>frames<ws>1-95, 96-185, 186-245, 246-360``
  with tabs and/or spaces; frame numbers are **1-based and inclusive**;
* ``person13_handclapping_d3`` is listed as ``*missing*``: 600 entries,
  599 videos, 2,391 segments;
* ranges may overlap (``1-110, 110-192``) and a few videos have 3 ranges;
* a range can run past the decoded length (``person01_boxing_d4`` declares
  370 frames, about 304 decode): :func:`segments` clamps it to the frames that
  exist and drops it when none is left.
"""
from __future__ import annotations

import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .download import DownloadError, OfflineError, fetch, sha256sum

ACTIONS = ("boxing", "handclapping", "handwaving", "jogging", "running", "walking")
PERSONS = tuple(range(1, 26))
SCENARIOS = (1, 2, 3, 4)
SEQUENCE_FILE = "00sequences.txt"
ARCHIVES = tuple(f"{action}.zip" for action in ACTIONS)
#: The dataset's own site, then the legacy host.
BASE_URLS = ("https://www.csc.kth.se/cvap/actions/", "http://www.nada.kth.se/cvap/actions/")
#: Checksums known for the original files (others are checked by the zip's own CRCs on extraction).
KNOWN_SHA256 = {"boxing.zip": "09437744bd760b3ba628d0315d12e2b6a7f86f5fbd41a316583bb4e3d5f09f20"}
#: Plausible sizes of the originals: each archive holds 100 videos, hundreds of MB in all; an error
#: page is a few KB. Tests and users of a small mirror lower ``min_archive_bytes``.
MIN_ARCHIVE_BYTES = 20 * 2**20
MAX_ARCHIVE_BYTES = 2 * 2**30
SEQUENCE_FILE_BYTES = (10_000, 1_000_000)
FOLDER = "KTH"
MISSING_VIDEO = "person13_handclapping_d3"

_NAME = re.compile(r"person(?P<person>\d{2})_(?P<action>[a-z]+)_d(?P<scenario>\d)")
_DATA_LINE = re.compile(rf"^\s*(?P<key>{_NAME.pattern})\s+(?P<rest>.*?)\s*$")
_HEADER = re.compile(r"^\s*(?P<name>Training|Validation|Test)\s*:\s*(?P<persons>.*)$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


class KTHError(RuntimeError):
    """Something about the KTH files is wrong; the message says what and how to fix it."""


class KTHNotFoundError(KTHError, FileNotFoundError):
    """KTH files are missing and could not be downloaded."""


# ---------------------------------------------------------------------------- names and labels


@dataclass(frozen=True)
class VideoKey:
    """One video of KTH: ``person07_running_d3``."""

    person: int
    action: str
    scenario: int

    @classmethod
    def parse(cls, name: str) -> "VideoKey":
        """From ``person07_running_d3`` or ``person07_running_d3_uncomp.avi``."""
        match = _NAME.match(Path(name).name)
        if not match:
            raise ValueError(f"{name!r} is not a KTH video name (personXX_<action>_dN[_uncomp.avi])")
        key = cls(int(match["person"]), match["action"], int(match["scenario"]))
        if key.action not in ACTIONS or key.person not in PERSONS or key.scenario not in SCENARIOS:
            raise ValueError(f"{name!r}: person must be 01-25, action one of {ACTIONS}, scenario d1-d4")
        return key

    @property
    def name(self) -> str:
        return f"person{self.person:02d}_{self.action}_d{self.scenario}"

    @property
    def filename(self) -> str:
        return f"{self.name}_uncomp.avi"

    @property
    def action_index(self) -> int:
        return ACTIONS.index(self.action)


@dataclass(frozen=True)
class SequenceEntry:
    """A data line of ``00sequences.txt``: the video and its ranges as written (1-based, inclusive)."""

    key: VideoKey
    ranges: tuple[tuple[int, int], ...]
    missing: bool = False
    line: int = 0


@dataclass(frozen=True)
class Segment:
    """One segment of a video, in 0-based frame indices ``[start, stop)`` (clamped to the decoded length).

    Attributes:
        key: the video (person, action, scenario).
        index: 1-based position of the range on its line.
        start, stop: frames ``start .. stop - 1`` of the decoded video.
        declared: the range as written in the file (1-based, inclusive).
    """

    key: VideoKey
    index: int
    start: int
    stop: int
    declared: tuple[int, int]

    @property
    def length(self) -> int:
        return self.stop - self.start


@dataclass
class SequenceFile:
    """The parsed ``00sequences.txt``: entries in file order and the header lines' person lists."""

    entries: list[SequenceEntry]
    headers: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def videos(self) -> list[SequenceEntry]:
        """The entries that have a video (not ``*missing*``)."""
        return [e for e in self.entries if not e.missing]

    @property
    def missing(self) -> list[VideoKey]:
        return [e.key for e in self.entries if e.missing]

    def __len__(self) -> int:
        return len(self.entries)

    def num_segments(self) -> int:
        return sum(len(e.ranges) for e in self.entries)

    def by_name(self) -> dict[str, SequenceEntry]:
        return {e.key.name: e for e in self.entries}


def parse_sequences(text: str, source: str = SEQUENCE_FILE) -> SequenceFile:
    """Parse the text of ``00sequences.txt`` (see the module docstring for its quirks).

    Blank lines and lines that are neither headers nor data (free text) are
    ignored; a line that names a video but whose ranges cannot be read raises
    ``ValueError`` with the line number, as does a video listed twice.
    """
    entries: list[SequenceEntry] = []
    headers: dict[str, tuple[int, ...]] = {}
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        header = _HEADER.match(line)
        if header:
            headers[header["name"].capitalize()] = tuple(int(p) for p in re.findall(r"person\s*(\d+)", header["persons"]))
            continue
        match = _DATA_LINE.match(line)
        if not match:
            continue
        where = f"{source} line {number}"
        try:
            key = VideoKey.parse(match["key"])
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if key.name in seen:
            raise ValueError(f"{where}: {key.name} is listed twice (first on line {seen[key.name]})")
        seen[key.name] = number
        rest = match["rest"].strip()
        if rest.lower().strip("*") == "missing":
            entries.append(SequenceEntry(key, (), missing=True, line=number))
            continue
        rest_parts = rest.split(None, 1)
        if len(rest_parts) != 2 or rest_parts[0].lower() != "frames":
            raise ValueError(f"{where}: expected '{key.name}  frames  a-b, c-d, ...' or '*missing*', got {line.strip()!r}")
        ranges = []
        for item in rest_parts[1].split(","):
            item = item.strip()
            if not item:
                continue
            numbers = _RANGE.match(item)
            if not numbers:
                raise ValueError(f"{where}: {item!r} is not a frame range like 96-185")
            first, last = int(numbers[1]), int(numbers[2])
            if first < 1 or last < first:
                raise ValueError(f"{where}: range {item!r} must have 1 <= first <= last (frames are 1-based, inclusive)")
            ranges.append((first, last))
        if not ranges:
            raise ValueError(f"{where}: {key.name} has no frame ranges")
        entries.append(SequenceEntry(key, tuple(ranges), line=number))
    if not entries:
        raise ValueError(f"{source}: no data lines (personXX_<action>_dN  frames  a-b, ...) found; is it the KTH sequence file?")
    return SequenceFile(entries, headers)


def load_sequences(path: str | os.PathLike) -> SequenceFile:
    """Read and parse a ``00sequences.txt`` file."""
    path = Path(path)
    return parse_sequences(path.read_text(encoding="utf-8", errors="replace"), source=str(path))


def segments(entry: SequenceEntry, decoded_length: int | None = None) -> list[Segment]:
    """The segments of one entry in 0-based ``[start, stop)``.

    ``first-last`` (1-based, inclusive) becomes ``[first - 1, last)``. With the
    number of frames that actually decode, a range is clamped to it, and
    dropped when nothing is left. Overlapping ranges are kept as they are.
    """
    out = []
    for index, (first, last) in enumerate(entry.ranges, start=1):
        start, stop = first - 1, last
        if decoded_length is not None:
            stop = min(stop, decoded_length)
        if stop > start:
            out.append(Segment(entry.key, index, start, stop, (first, last)))
    return out


# ---------------------------------------------------------------------------- split


@dataclass(frozen=True)
class KTHSplit:
    """Which persons train and which test.

    Default: persons 1-16 train, 17-25 test, the split in DRNet's own
    metadata, used by MCnet and later video-prediction benchmarks.
    """

    train: tuple[int, ...] = tuple(range(1, 17))
    test: tuple[int, ...] = tuple(range(17, 26))

    def __post_init__(self) -> None:
        object.__setattr__(self, "train", tuple(int(p) for p in self.train))
        object.__setattr__(self, "test", tuple(int(p) for p in self.test))
        both = set(self.train) & set(self.test)
        if both:
            raise ValueError(f"persons {sorted(both)} are in both the train and the test split")
        bad = sorted(set(self.train + self.test) - set(PERSONS))
        if bad:
            raise ValueError(f"KTH persons are 1-25, got {bad}")

    def persons(self, split: str) -> tuple[int, ...]:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        return self.train if split == "train" else self.test

    def of(self, person: int) -> str | None:
        """'train', 'test' or None for a person in neither."""
        return "train" if person in self.train else "test" if person in self.test else None


# ---------------------------------------------------------------------------- files on disk


def kth_dir(root: str | os.PathLike) -> Path:
    """``ROOT/KTH``: the archives and ``00sequences.txt``; ``videos/`` and the caches go below it."""
    return Path(root).expanduser() / FOLDER


def video_dir(root: str | os.PathLike) -> Path:
    return kth_dir(root) / "videos"


def file_urls(name: str, mirror: str | None = None) -> list[str]:
    """Where ``name`` is fetched from: the mirror only, or the KTH site and its legacy host."""
    bases = [mirror] if mirror else list(BASE_URLS)
    return [base.rstrip("/") + "/" + name for base in bases]


def offline_message(missing: Sequence[str], folder: Path, mirror: str | None, errors: Sequence[str] = ()) -> str:
    lines = [f"KTH files missing and not downloadable: {', '.join(missing)}."]
    if errors:
        lines += ["Tried:"] + [f"  {e}" for e in errors]
    lines.append(f"Fetch them by hand from {' or '.join(file_urls('', mirror))} "
                 f"(e.g. {file_urls(missing[0], mirror)[0]}) and put them in {folder}/ , then run again.")
    return "\n".join(lines)


def _plausible_zip(path: Path) -> str | None:
    """None if ``path`` opens as a zip of KTH videos, else what is wrong with it."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".avi")]
    except (zipfile.BadZipFile, OSError) as exc:
        return f"not a complete zip archive ({exc})"
    if not names:
        return "a zip archive without any .avi video"
    return None


def _check_existing(path: Path, min_bytes: int, checksums: dict[str, str]) -> str | None:
    """None if a file already on disk is usable, else why not."""
    known = checksums.get(path.name)
    if path.name.endswith(".zip"):
        if path.stat().st_size < min_bytes:
            return f"only {path.stat().st_size:,} bytes"
        problem = _plausible_zip(path)
        if problem:
            return problem
    if known is not None and sha256sum(path) != known:
        return f"SHA-256 differs from the original's ({known[:12]}...)"
    return None


@dataclass
class DownloadReport:
    folder: Path
    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)


def download_kth(root: str | os.PathLike, mirror: str | None = None, actions: Iterable[str] = ACTIONS,
                 min_archive_bytes: int = MIN_ARCHIVE_BYTES, checksums: dict[str, str] | None = None,
                 timeout: float = 60.0, progress: bool = True) -> DownloadReport:
    """Fetch the action archives and ``00sequences.txt`` into ``ROOT/KTH`` (resumable, atomic).

    Files already there and usable are kept. A file is tried on every URL of
    :func:`file_urls` in turn. ``boxing.zip`` must match its known SHA-256;
    every archive must open as a zip of videos (its CRCs are checked on
    extraction). An archive that fails a check is deleted and the reason raised.
    ``checksums`` replaces :data:`KNOWN_SHA256` (for a mirror of other files, or tests).

    Raises:
        KTHNotFoundError: offline (or every URL failed): the message names the
            files, the URLs and the folder to put them in by hand.
        KTHError: a file was downloaded but is not the expected one.
    """
    actions = list(actions)
    checksums = KNOWN_SHA256 if checksums is None else checksums
    unknown = sorted(set(actions) - set(ACTIONS))
    if unknown:
        raise ValueError(f"unknown KTH action(s) {unknown}; choose from {ACTIONS}")
    folder = kth_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    report = DownloadReport(folder)
    names = [f"{a}.zip" for a in actions] + [SEQUENCE_FILE]
    missing, errors = [], []
    for name in names:
        path = folder / name
        is_zip = name.endswith(".zip")
        if path.exists():
            problem = _check_existing(path, min_archive_bytes if is_zip else 0, checksums)
            if problem is None:
                report.present.append(name)
                continue
            print(f"{path}: {problem}; downloading it again")
            path.unlink()
        low, high = (min_archive_bytes, MAX_ARCHIVE_BYTES) if is_zip else (min(SEQUENCE_FILE_BYTES[0], min_archive_bytes), SEQUENCE_FILE_BYTES[1])
        done, offline = False, True
        for url in file_urls(name, mirror):
            try:
                fetch(url, path, sha256=checksums.get(name), min_bytes=low, max_bytes=high,
                      timeout=timeout, progress=progress, desc=name)
            except OfflineError as exc:
                errors.append(str(exc))
                continue
            except DownloadError as exc:
                offline = False
                errors.append(str(exc))
                continue
            if is_zip:
                problem = _plausible_zip(path)
                if problem:
                    path.unlink()
                    offline = False
                    errors.append(f"{url}: {name} is {problem}; deleted")
                    continue
            done = True
            report.fetched.append(name)
            break
        if not done:
            missing.append(name)
            if not offline:
                raise KTHError(f"{name} could not be downloaded:\n  " + "\n  ".join(errors[-len(file_urls(name, mirror)):])
                               + f"\nPartial transfers are kept as {folder}/{name}.part and resumed on the next run; "
                               f"or put the file in {folder}/ by hand.")
    if missing:
        raise KTHNotFoundError(offline_message(missing, folder, mirror, errors))
    return report


@dataclass
class ExtractReport:
    """What :func:`extract_archives` did; ``failed`` maps a file to the reason it was skipped."""

    extracted: int = 0
    kept: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"{self.extracted} videos extracted, {self.kept} already there, {len(self.failed)} failed"
        return text + "".join(f"\n  {name}: {why}" for name, why in sorted(self.failed.items()))


def extract_archives(root: str | os.PathLike, actions: Iterable[str] = ACTIONS, progress: bool = True) -> ExtractReport:
    """Unpack ``ROOT/KTH/<action>.zip`` into ``ROOT/KTH/videos/<action>/``, member by member.

    Each video is written to a ``.part`` file and renamed once its CRC-32 (the
    zip's own checksum) has been verified, so a corrupt member is reported,
    skipped and counted, never left half-written. A video already extracted
    with the member's size is kept. A missing or unreadable archive is
    reported under its own name.
    """
    from tqdm.auto import tqdm

    report = ExtractReport()
    folder = kth_dir(root)
    for action in actions:
        path = folder / f"{action}.zip"
        if not path.exists():
            report.failed[path.name] = f"missing (run `python -m drnet_lite download kth --root {root}`)"
            continue
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            report.failed[path.name] = f"not a readable zip archive ({exc}); delete it and download it again"
            continue
        out_dir = video_dir(root) / action
        out_dir.mkdir(parents=True, exist_ok=True)
        with archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".avi") and not m.is_dir()]
            for member in tqdm(members, desc=f"unzip {action}", disable=not progress, leave=False):
                name = Path(member.filename).name  # flat folder; never trust paths inside an archive
                dest = out_dir / name
                if dest.exists() and dest.stat().st_size == member.file_size:
                    report.kept += 1
                    continue
                part = dest.with_name(dest.name + ".part")
                try:
                    with archive.open(member) as src, open(part, "wb") as out:
                        while block := src.read(1 << 20):
                            out.write(block)
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                    part.unlink(missing_ok=True)
                    report.failed[f"{path.name}:{name}"] = f"corrupt in the archive ({exc})"
                    continue
                os.replace(part, dest)
                report.extracted += 1
    return report
