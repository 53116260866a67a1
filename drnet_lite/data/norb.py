"""small NORB (LeCun, Huang and Bottou, 2004): the reader, the download, and turntable clips (source ``"norb"``).

small NORB photographs 50 toys in 5 categories (0 animal, 1 human, 2 airplane,
3 truck, 4 car), 10 instances each, with two cameras (a stereo pair), at 9
elevations (30 to 70 degrees in steps of 5), 18 azimuths (0, 20, ..., 340
degrees) and 6 lightings: 24,300 pairs of 96x96 grey images per split.
Training uses instances 4, 6, 7, 8, 9 of every category and testing 0, 1, 2, 3, 5.

Files (``.mat`` or ``.mat.gz``), six in all::

    smallnorb-5x46789x9x18x6x2x96x96-training-{dat,cat,info}.mat
    smallnorb-5x01235x9x18x6x2x96x96-testing-{dat,cat,info}.mat

Each is a "binary matrix": little-endian int32 fields

    magic (the element type), ndim, max(3, ndim) dimensions, then the data

so the header is 24 bytes for ``-dat`` (24300 x 2 x 96 x 96, uint8) and 20
bytes for ``-cat`` (24300, int32) and ``-info`` (24300 x 4, int32: instance,
elevation 0-8, azimuth 0, 2, ..., 34 (times 10 degrees), lighting 0-5); a
one-dimensional matrix still stores three dimensions, the unused ones 1.

A clip here is one toy, one camera, one lighting and one elevation, while the
turntable walks the 18 azimuths (and, optionally, the elevation moves one step
every ``elevation_every`` frames): the paper's NORB "video".
"""
from __future__ import annotations

import gzip
import os
import struct
import tempfile
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .mnist import data_root
from .source import ConfiguredSource, check_times, generator_for, register_source
from .turntable import bounce_index

URL = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
PREFIX = {"train": "smallnorb-5x46789x9x18x6x2x96x96-training", "test": "smallnorb-5x01235x9x18x6x2x96x96-testing"}
PARTS = ("dat", "cat", "info")
CATEGORIES = ("animal", "human", "airplane", "truck", "car")
#: element types of the binary matrix format, by magic number
MAGIC = {
    0x1E3D4C51: np.dtype("<f4"),  # single precision
    0x1E3D4C53: np.dtype("<f8"),  # double precision
    0x1E3D4C54: np.dtype("<i4"),  # int32
    0x1E3D4C55: np.dtype("u1"),   # byte
    0x1E3D4C56: np.dtype("<i2"),  # short
}
PACKED_MAGIC = 0x1E3D4C52  # "packed matrix": documented, not used by NORB, not supported
MAGIC_OF = {np.dtype(v).str: k for k, v in MAGIC.items()}


class NORBFormatError(ValueError):
    """A NORB file whose header or length is not what the format says (the message names the file)."""


class NORBNotFoundError(FileNotFoundError):
    """The small NORB files are not in the folder (the message names them and where they go)."""


def file_names() -> list[str]:
    """The six official file names (without ``.gz``)."""
    return [f"{PREFIX[s]}-{p}.mat" for s in ("train", "test") for p in PARTS]


def norb_folder(root: str | os.PathLike | None = None) -> Path:
    """``root`` itself when it holds the files, else ``<data root>/NORB`` (``$DRNET_DATA`` or the cache)."""
    if root is not None:
        root = Path(root).expanduser()
        if any((root / n).exists() or (root / (n + ".gz")).exists() for n in file_names()):
            return root
    return data_root(root) / "NORB"


def _open(path: Path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def read_matrix(path: str | os.PathLike) -> np.ndarray:
    """Read one binary-matrix file (plain or gzip) into an array of its element type and shape."""
    path = Path(path)
    try:
        with _open(path) as f:
            head = f.read(8)
            if len(head) < 8:
                raise NORBFormatError(f"{path}: file is {len(head)} bytes, too short for a NORB header")
            magic, ndim = struct.unpack("<ii", head)
            if magic == PACKED_MAGIC:
                raise NORBFormatError(f"{path}: packed matrices (magic 0x{magic:08X}) are not supported")
            if magic not in MAGIC:
                known = ", ".join(f"0x{k:08X} ({v.name})" for k, v in MAGIC.items())
                raise NORBFormatError(f"{path}: wrong magic number 0x{magic & 0xFFFFFFFF:08X}; a NORB matrix starts "
                                      f"with one of {known}. Is this a small NORB .mat file?")
            if not 0 <= ndim <= 16:
                raise NORBFormatError(f"{path}: implausible number of dimensions {ndim}")
            stored = max(3, ndim)
            raw = f.read(4 * stored)
            if len(raw) < 4 * stored:
                raise NORBFormatError(f"{path}: truncated header ({8 + len(raw)} bytes, need {8 + 4 * stored})")
            dims = struct.unpack(f"<{stored}i", raw)[:ndim]
            if any(d < 0 for d in dims):
                raise NORBFormatError(f"{path}: negative dimension in {dims}")
            dtype = MAGIC[magic]
            count = int(np.prod(dims)) if dims else 1
            data = f.read(count * dtype.itemsize)
    except (OSError, EOFError) as exc:  # a damaged gzip stream, an unreadable file
        if isinstance(exc, FileNotFoundError):
            raise
        raise NORBFormatError(f"{path}: cannot be read as a NORB file ({exc})") from exc
    if len(data) < count * dtype.itemsize:
        raise NORBFormatError(f"{path}: truncated: the header promises {count} values of {dtype.name} "
                              f"({count * dtype.itemsize} bytes) but only {len(data)} bytes follow; download it again")
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def write_matrix(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as a binary-matrix file (gzip when ``compress`` or the name ends in ``.gz``), atomically."""
    path = Path(path)
    array = np.ascontiguousarray(array)
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    if dtype.str not in MAGIC_OF:
        raise ValueError(f"no NORB magic number for dtype {array.dtype}; use one of {[v.name for v in MAGIC.values()]}")
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    payload = struct.pack(f"<ii{len(dims)}i", MAGIC_OF[dtype.str], array.ndim, *dims) + array.astype(dtype).tobytes()
    compress = path.suffix == ".gz" if compress is None else compress
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with (gzip.open(tmp, "wb") if compress else open(tmp, "wb")) as f:
        f.write(payload)
    os.replace(tmp, path)
    return path


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _missing_message(folder: Path, missing: list[str]) -> str:
    return (f"small NORB files missing in {folder}: {', '.join(missing)}.\n"
            f"Put the six files (.mat or .mat.gz) there:\n  " + "\n  ".join(file_names()) +
            f"\nfrom {URL}, or run `python -m drnet_lite download norb --root {folder}` on a machine that is online.")


@dataclass
class NORBSplit:
    """One split, read: ``images`` uint8 (N, 2, H, W) (two cameras), ``category`` (N,), ``info`` (N, 4)
    = instance, elevation index 0-8, azimuth 0..34 (even, x10 degrees), lighting 0-5."""

    images: np.ndarray
    category: np.ndarray
    info: np.ndarray


def load_norb(split: str, root: str | os.PathLike | None = None) -> NORBSplit:
    """Read the three files of ``split`` ("train" or "test") from ``root``; clear errors before any work."""
    if split not in PREFIX:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = norb_folder(root)
    paths = {p: _find(folder, f"{PREFIX[split]}-{p}.mat") for p in PARTS}
    missing = [f"{PREFIX[split]}-{p}.mat" for p, v in paths.items() if v is None]
    if missing:
        raise NORBNotFoundError(_missing_message(folder, missing))
    images, category, info = (read_matrix(paths[p]) for p in PARTS)
    n = len(images)
    if images.ndim != 4 or images.shape[1] != 2:
        raise NORBFormatError(f"{paths['dat']}: expected (N, 2, H, W) image pairs, got shape {images.shape}")
    if category.shape != (n,) or info.shape != (n, 4):
        raise NORBFormatError(f"{paths['cat']} and {paths['info']}: expected ({n},) and ({n}, 4) to match {n} images, "
                              f"got {category.shape} and {info.shape}")
    return NORBSplit(images=images, category=category.astype(np.int64), info=info.astype(np.int64))


def download_norb(root: str | os.PathLike | None = None, url: str = URL, timeout: float = 60.0) -> Path:
    """Fetch the six ``.mat.gz`` files into ``root`` (default ``<data root>/NORB``); each file appears only
    when complete (downloaded to a temporary name, checked to be a NORB file, then renamed)."""
    folder = Path(root).expanduser() if root is not None else data_root() / "NORB"
    folder.mkdir(parents=True, exist_ok=True)
    for name in file_names():
        if _find(folder, name) is not None:
            continue
        target = folder / (name + ".gz")
        fd, tmp_name = tempfile.mkstemp(prefix=name + ".", suffix=".part", dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            try:
                with urllib.request.urlopen(url + name + ".gz", timeout=timeout) as response, open(tmp, "wb") as out:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
            except OSError as exc:
                raise NORBNotFoundError(f"could not download {url}{name}.gz ({exc}).\n" +
                                        _missing_message(folder, [name])) from exc
            with _open(tmp) as f:  # is it a NORB matrix at all (and not an error page)?
                magic = struct.unpack("<i", f.read(4))[0]
            if magic not in MAGIC:
                raise NORBFormatError(f"{url}{name}.gz did not download as a NORB file (magic 0x{magic & 0xFFFFFFFF:08X})")
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
    return folder


# ----------------------------------------------------------------------------------------------------------------------
# the source
# ----------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NORBConfig:
    """small NORB clips.

    Attributes:
        image_size: frames are resized (area) from 96 to this (64 or 32).
        seq_len: frames per clip (the 18 azimuths wrap around).
        split: ``"train"`` (instances 4, 6-9) or ``"test"`` (0-3, 5).
        camera: 0 or 1 (the stereo pair's left or right image), or -1 for a random camera per clip.
        elevation_every: 0 keeps the elevation of the clip; else it moves one step every that many frames.
    """

    image_size: int = 64
    seq_len: int = 18
    split: str = "train"
    camera: int = 0
    elevation_every: int = 0
    source: str = "norb"

    def __post_init__(self) -> None:
        s = self.image_size
        if s < 8 or s & (s - 1) or s > 128:
            raise ValueError(f"image_size must be a power of two from 8 to 128 (32 or 64), got {s}")
        if self.seq_len < 1:
            raise ValueError(f"seq_len must be at least 1, got {self.seq_len}")
        if self.split not in PREFIX:
            raise ValueError(f"split must be 'train' or 'test', got {self.split!r}")
        if self.camera not in (-1, 0, 1):
            raise ValueError(f"camera must be 0, 1 or -1 (random per clip), got {self.camera}")
        if self.elevation_every < 0:
            raise ValueError(f"elevation_every must be >= 0, got {self.elevation_every}")

    @property
    def num_channels(self) -> int:
        return 1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class NORBClips:
    """Clips of small NORB with their labels: frames (B, T, 1, S, S); category, instance, lighting, camera (B,);
    azimuth and elevation (B, T) in degrees; ``azimuth_index`` 0-17 and ``elevation_index`` 0-8 (B, T)."""

    frames: torch.Tensor
    times: torch.Tensor
    category: torch.Tensor
    instance: torch.Tensor
    lighting: torch.Tensor
    camera: torch.Tensor
    azimuth: torch.Tensor
    elevation: torch.Tensor
    azimuth_index: torch.Tensor
    elevation_index: torch.Tensor

    @property
    def object_id(self) -> torch.Tensor:
        """category * 10 + instance: one id per toy."""
        return self.category * 10 + self.instance

    def __len__(self) -> int:
        return self.frames.shape[0]


class NORB(ConfiguredSource):
    """small NORB as a clip source: a toy on the turntable walking its 18 azimuths."""

    name = "norb"

    def __init__(self, config: NORBConfig | None = None, root: str | os.PathLike | None = None,
                 device: str | torch.device = "cpu") -> None:
        self.config = config = config or NORBConfig()
        self.device = torch.device(device)
        data = load_norb(config.split, root)
        images = torch.from_numpy(data.images)
        if config.image_size != images.shape[-1]:
            chunks = [F.interpolate(images[i:i + 2048].float(), size=config.image_size, mode="area")
                      for i in range(0, len(images), 2048)]
            images = torch.cat(chunks).round().clamp(0, 255).to(torch.uint8)
        self.images = images.to(self.device)  # (N, 2, S, S) uint8
        info = torch.from_numpy(data.info)
        category = torch.from_numpy(data.category)
        instances = sorted(set(info[:, 0].tolist()))
        self.instances = instances
        if not (info[:, 2] % 2 == 0).all() or info[:, 2].max() > 34 or info[:, 1].max() > 8 or info[:, 3].max() > 5:
            raise NORBFormatError("the -info file has labels outside the documented ranges "
                                  "(elevation 0-8, azimuth 0-34 even, lighting 0-5)")
        # row of every (category, instance, elevation, lighting, azimuth) cell; -1 where a cell is absent
        inst_pos = torch.full((max(instances) + 1,), -1, dtype=torch.long)
        inst_pos[torch.tensor(instances)] = torch.arange(len(instances))
        table = torch.full((len(CATEGORIES), len(instances), 9, 6, 18), -1, dtype=torch.long)
        table[category, inst_pos[info[:, 0]], info[:, 1], info[:, 3], info[:, 2] // 2] = torch.arange(len(info))
        complete = (table >= 0).all(-1)  # walks need all 18 azimuths
        self.table = table
        self.groups = torch.nonzero(complete)  # (G, 4): category, instance position, elevation, lighting
        if len(self.groups) == 0:
            raise NORBFormatError(f"no toy has all 18 azimuths at one elevation and lighting in the {config.split} files")

    def sample(self, batch_size: int, generator: torch.Generator | None = None, seed: int | None = None,
               times: torch.Tensor | None = None) -> NORBClips:
        cfg = self.config
        times = check_times(times, batch_size, cfg.seq_len).cpu()
        g = generator_for(generator, seed)
        group = self.groups[torch.randint(len(self.groups), (batch_size,), generator=g)]
        start = torch.randint(18, (batch_size,), generator=g)
        direction = torch.randint(0, 2, (batch_size,), generator=g) * 2 - 1
        camera = torch.randint(0, 2, (batch_size,), generator=g) if cfg.camera < 0 else torch.full((batch_size,), cfg.camera)
        el_sign = torch.randint(0, 2, (batch_size,), generator=g) * 2 - 1
        az = (start[:, None] + direction[:, None] * times) % 18
        el = bounce_index(group[:, 2], el_sign, times, cfg.elevation_every, 9)
        cat, inst, light = (group[:, i, None].expand_as(times) for i in (0, 1, 3))
        rows = self.table[cat, inst, el, light, az]
        if cfg.elevation_every and bool((rows < 0).any()):  # a cell missing on the elevation path: stay on the clip's elevation
            el = torch.where(rows < 0, group[:, 2, None].expand_as(times), el)
            rows = self.table[cat, inst, el, light, az]
        frames = self.images[rows.to(self.device), camera[:, None].expand_as(times).to(self.device)]
        d = self.device
        return NORBClips(
            frames=(frames.float() / 255).unsqueeze(2), times=times.to(d), category=group[:, 0].to(d),
            instance=torch.tensor(self.instances)[group[:, 1]].to(d), lighting=group[:, 3].to(d), camera=camera.to(d),
            azimuth=(az * 20).float().to(d), elevation=(30 + 5 * el).float().to(d),
            azimuth_index=az.to(d), elevation_index=el.to(d),
        )


def _make(config: NORBConfig, root=None, device: str | torch.device = "cpu") -> NORB:
    return NORB(config, root=root, device=device)


register_source("norb", NORBConfig, _make, "small NORB toys on a turntable (needs the six official files)")


def write_synthetic_norb(folder: str | os.PathLike, elevations: int = 2, lightings: int = 1, categories: int = 2,
                         size: int = 96, compress: bool = True, seed: int = 0) -> Path:
    """Write the six small-NORB files, in the official format and names, for a few synthetic toys.

    For tests and for trying the NORB path without the data: each split holds
    ``categories`` categories with its official instances (train 4, 6, 7, 8, 9;
    test 0, 1, 2, 3, 5), ``elevations`` elevations, all 18 azimuths and
    ``lightings`` lightings. Every image pair shows a bar whose angle is the
    azimuth and whose length grows with the elevation, brightness set by the
    instance, so the labels can be checked from the pixels.
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] - (size - 1) / 2
    for split, instances in (("train", (4, 6, 7, 8, 9)), ("test", (0, 1, 2, 3, 5))):
        rows = [(c, i, e, a, l) for c in range(categories) for i in instances for e in range(elevations)
                for a in range(0, 36, 2) for l in range(lightings)]
        info = np.array([[i, e, a, l] for c, i, e, a, l in rows], dtype=np.int32)
        cat = np.array([c for c, *_ in rows], dtype=np.int32)
        images = np.zeros((len(rows), 2, size, size), dtype=np.uint8)
        for n, (c, i, e, a, l) in enumerate(rows):
            angle = np.deg2rad(a * 10)
            along = xx * np.cos(angle) + yy * np.sin(angle)
            across = -xx * np.sin(angle) + yy * np.cos(angle)
            bar = (np.abs(across) < size * (0.05 + 0.03 * c)) & (np.abs(along) < size * (0.2 + 0.03 * e))
            level = 80 + 17 * i + 10 * l
            for cam in (0, 1):
                images[n, cam] = np.where(bar, level, 20 + 10 * cam) + rng.integers(0, 3, (size, size))
        suffix = ".gz" if compress else ""
        write_matrix(folder / f"{PREFIX[split]}-dat.mat{suffix}", images)
        write_matrix(folder / f"{PREFIX[split]}-cat.mat{suffix}", cat)
        write_matrix(folder / f"{PREFIX[split]}-info.mat{suffix}", info)
    return folder
