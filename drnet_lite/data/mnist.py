"""Reading the four standard MNIST IDX files, offline first.

Where the files are looked for, in this order:

1. an explicit ``root`` argument,
2. the folder named by the environment variable ``DRNET_DATA``,
3. a per-user cache folder (``~/.cache/drnet_lite`` or ``$XDG_CACHE_HOME/drnet_lite``).

Inside a root the files may sit in ``<root>/MNIST/raw/`` (the layout torchvision
uses) or directly in ``<root>``. Every file is checked against its published md5
before it is used; a damaged file is never read. ``download=True`` fetches the
missing files (through torchvision where it imports, else the standard library)
and writes each one atomically, so an interrupted download leaves no half file.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

ENV_VAR = "DRNET_DATA"

#: file name -> md5 of the gzipped file, as published with MNIST.
MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
#: Environment variable naming one URL (a folder holding the four .gz files) to download from instead.
MIRROR_ENV_VAR = "DRNET_MNIST_MIRROR"


def mirrors() -> tuple[str, ...]:
    """Where downloads come from: ``$DRNET_MNIST_MIRROR`` alone when it is set, else :data:`MIRRORS`."""
    own = os.environ.get(MIRROR_ENV_VAR, "").strip()
    return ((own.rstrip("/") + "/"),) if own else MIRRORS


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files are not in any folder that was searched."""


class MNISTChecksumError(ValueError):
    """An MNIST file exists but its md5 does not match the published one."""


class MNISTUnreadableError(OSError):
    """An MNIST file exists but cannot be read."""


class MNISTDownloadError(RuntimeError):
    """MNIST could not be fetched from any mirror (offline?)."""


class MNIST(NamedTuple):
    """One MNIST split: ``images`` uint8 (N, 28, 28), ``labels`` int64 (N,)."""

    images: np.ndarray
    labels: np.ndarray


def cache_dir() -> Path:
    """The per-user cache folder used when neither ``root`` nor ``DRNET_DATA`` is set."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "drnet_lite"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root in force: ``root``, else ``$DRNET_DATA``, else :func:`cache_dir`."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return cache_dir()


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    """Hex md5 digest of a file."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _candidates(root: Path) -> list[Path]:
    return [root / "MNIST" / "raw", root]


def find_raw_folder(root: str | os.PathLike | None = None) -> Path | None:
    """The folder under the data root that holds all four files, or None."""
    for folder in _candidates(data_root(root)):
        if all((folder / name).is_file() for name in MNIST_FILES):
            return folder
    return None


def _verified(path: Path) -> Path:
    expected = MNIST_FILES[path.name]
    try:
        actual = md5sum(path)
    except OSError as exc:
        raise MNISTUnreadableError(
            f"cannot read {path} ({exc.strerror or exc}); fix its permissions, or delete it and run "
            "`python -m drnet_lite download`"
        ) from None
    if actual != expected:
        raise MNISTChecksumError(
            f"{path} is damaged or not the published MNIST file: its md5 is {actual}, "
            f"expected {expected}. Delete it and run load_mnist(..., download=True), "
            f"or copy a good file there."
        )
    return path


def _fetch(url: str, dest: Path, progress: bool = False) -> None:
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=not progress,
                  leave=False) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))


def download_mnist(root: str | os.PathLike | None = None, progress: bool = False) -> Path:
    """Fetch any missing or damaged MNIST file into ``<root>/MNIST/raw`` and return that folder.

    The files come from ``$DRNET_MNIST_MIRROR`` when it is set (a course
    server, a local copy), else from the public mirrors. Each file is downloaded to a temporary name, checked against its md5 and only
    then renamed into place, so a failed or interrupted download never leaves a
    file that looks complete.
    """
    folder = data_root(root) / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    try:  # torchvision knows the mirrors too; it may be absent or broken (CPU torch).
        from torchvision.datasets.utils import download_url as tv_download  # type: ignore
    except Exception:
        tv_download = None
    for name, md5 in MNIST_FILES.items():
        target = folder / name
        if target.is_file() and md5sum(target) == md5:
            continue
        errors = []
        for mirror in mirrors():
            fd, tmp_name = tempfile.mkstemp(prefix=name + ".", suffix=".part", dir=folder)
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                if tv_download is not None and not progress:
                    tv_download(mirror + name, str(folder), filename=tmp.name, md5=md5)
                else:
                    _fetch(mirror + name, tmp, progress)
                if md5sum(tmp) != md5:
                    raise MNISTChecksumError(f"downloaded {name} from {mirror} has the wrong md5")
                os.replace(tmp, target)
                break
            except Exception as exc:  # try the next mirror
                errors.append(f"{mirror}{name}: {exc}")
            finally:
                if tmp.exists():
                    tmp.unlink()
        else:
            reason = errors[-1].split(": ", 1)[-1][:160] if errors else "no mirror"
            raise MNISTDownloadError(
                f"could not download MNIST {name} from any of {len(MIRRORS)} mirrors (offline? last: {reason}); "
                f"copy the four MNIST .gz files into {folder} or set {ENV_VAR} to a folder holding MNIST/raw/"
            )
    return folder


def ensure_mnist(root: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """The MNIST folder, downloading the four files first when they are absent (md5-checked, atomic,
    with a progress bar). Offline or blocked, raises :class:`MNISTNotFoundError` with the usual
    advice and why the download failed."""
    folder = find_raw_folder(root)
    if folder is not None:
        return folder
    target = data_root(root) / "MNIST" / "raw"
    if progress:
        print(f"MNIST is not here yet: downloading the four files (about 11 MB) into {target}")
    try:
        return download_mnist(root, progress=progress)
    except Exception as exc:
        raise MNISTNotFoundError(f"{_not_found_message(root)}\nThe download failed: {exc}") from exc


def _not_found_message(root: str | os.PathLike | None) -> str:
    searched = "\n  ".join(str(p) for p in _candidates(data_root(root)))
    names = "\n  ".join(MNIST_FILES)
    return (
        "MNIST was not found. Searched:\n  " + searched + "\n"
        "for the four files:\n  " + names + "\n"
        "Fix: call load_mnist(..., download=True) (or run `python -m drnet_lite download`), "
        f"or copy the files into one of those folders, or set {ENV_VAR} to a folder that "
        "holds MNIST/raw/."
    )


def _read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 0x08 or (magic & 0xFF) != expected_ndim:
        raise ValueError(f"{path} is not an IDX file of {expected_ndim} dimension(s) (magic {magic:#x})")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(expected_ndim))
    offset = 4 + 4 * expected_ndim
    array = np.frombuffer(data, dtype=np.uint8, offset=offset)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {array.size} values, its header says {shape}")
    return array.reshape(shape)


@functools.lru_cache(maxsize=4)
def _load_cached(folder: str, split: str) -> MNIST:
    image_name, label_name = SPLIT_FILES[split]
    images = _read_idx(_verified(Path(folder) / image_name), 3)
    labels = _read_idx(_verified(Path(folder) / label_name), 1).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"MNIST {split}: {len(images)} images but {len(labels)} labels")
    images.setflags(write=False)
    labels.setflags(write=False)
    return MNIST(images, labels)


def load_mnist(split: str = "train", root: str | os.PathLike | None = None, download: bool = False) -> MNIST:
    """Load one MNIST split as numpy arrays.

    Args:
        split: ``"train"`` (60,000 digits) or ``"test"`` (10,000).
        root: data folder; defaults to ``$DRNET_DATA``, then the user cache.
        download: fetch missing or damaged files first.

    Raises:
        MNISTNotFoundError: no folder holds the four files (the message lists
            the folders searched and how to get the files).
        MNISTChecksumError: a file's md5 is wrong (the message names the file).
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = find_raw_folder(root)
    if download and (folder is None or any(md5sum(folder / n) != m for n, m in MNIST_FILES.items())):
        folder = download_mnist(root)
    if folder is None:
        raise MNISTNotFoundError(_not_found_message(root))
    return _load_cached(str(folder.resolve()), split)
