"""The offline-first MNIST reader, against the real files and against damaged copies.

No test touches the network: downloads go through a monkeypatched ``_fetch``.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from drnet_lite.data import mnist
from drnet_lite.data.mnist import (
    MNIST_FILES,
    MNISTChecksumError,
    MNISTNotFoundError,
    download_mnist,
    load_mnist,
    md5sum,
)

# Published facts about MNIST (checked against the real files below).
SPLIT_SIZE = {"train": 60000, "test": 10000}
FIRST_LABELS = {
    "train": [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
    "test": [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
}
CLASS_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
SMALL_FILE = "t10k-labels-idx1-ubyte.gz"  # the file the damage tests spoil (4.5 kB)


@pytest.fixture(autouse=True)
def no_torchvision(monkeypatch):
    """download_mnist must take its standard-library path (through ``_fetch``)."""
    monkeypatch.setitem(sys.modules, "torchvision", None)


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if the reader tries to fetch anything."""

    def fetch(url, dest, progress=False):
        raise AssertionError(f"tried to download {url}")

    monkeypatch.setattr(mnist, "_fetch", fetch)


def link_files(source: Path, folder: Path) -> Path:
    """Symlink the four real MNIST files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        (folder / name).symlink_to(source / name)
    return folder


def junk_files(folder: Path) -> Path:
    """Four files with the MNIST names and the wrong contents."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        (folder / name).write_bytes(b"not mnist")
    return folder


# --- the real files ---------------------------------------------------------


def test_real_files_have_the_published_md5(mnist_raw):
    listed = {name: md5 for md5, name in (line.split() for line in (mnist_raw / "MD5SUMS").read_text().splitlines())}
    for name, expected in MNIST_FILES.items():
        assert md5sum(mnist_raw / name) == expected == listed[name]


@pytest.mark.parametrize("split", ["train", "test"])
def test_split_sizes_labels_and_class_counts(mnist_root, split):
    images, labels = load_mnist(split, root=mnist_root)
    assert images.shape == (SPLIT_SIZE[split], 28, 28) and images.dtype == np.uint8
    assert labels.shape == (SPLIT_SIZE[split],) and labels.dtype == np.int64
    assert labels[:10].tolist() == FIRST_LABELS[split]
    assert np.bincount(labels, minlength=10).tolist() == CLASS_COUNTS[split]
    assert images.min() == 0 and images.max() == 255


def test_unknown_split_is_refused(mnist_root):
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation", root=mnist_root)


# --- where the files are looked for -------------------------------------------


@pytest.mark.parametrize("layout", ["MNIST/raw", "."])
def test_torchvision_and_flat_layouts_are_both_read(tmp_path, mnist_root, mnist_raw, layout):
    link_files(mnist_raw, tmp_path / layout)
    images, labels = load_mnist("test", root=tmp_path)
    reference = load_mnist("test", root=mnist_root)
    assert np.array_equal(images, reference.images) and np.array_equal(labels, reference.labels)


def test_explicit_root_beats_drnet_data(tmp_path, monkeypatch, mnist_raw, no_network):
    link_files(mnist_raw, tmp_path / "explicit" / "MNIST" / "raw")
    monkeypatch.setenv("DRNET_DATA", str(junk_files(tmp_path / "env")))
    assert load_mnist("test", root=tmp_path / "explicit").labels[:10].tolist() == FIRST_LABELS["test"]
    with pytest.raises(MNISTChecksumError):  # the junk in DRNET_DATA is what a plain call reads
        load_mnist("test")


def test_drnet_data_beats_the_cache_dir(tmp_path, monkeypatch, mnist_raw, no_network):
    link_files(mnist_raw, tmp_path / "env")
    junk_files(tmp_path / "cache" / "drnet_lite")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DRNET_DATA", str(tmp_path / "env"))
    assert load_mnist("test").labels[:10].tolist() == FIRST_LABELS["test"]
    monkeypatch.delenv("DRNET_DATA")
    with pytest.raises(MNISTChecksumError):
        load_mnist("test")


def test_cache_dir_is_used_when_nothing_else_is_set(tmp_path, monkeypatch, mnist_raw, no_network):
    link_files(mnist_raw, tmp_path / "cache" / "drnet_lite" / "MNIST" / "raw")
    monkeypatch.delenv("DRNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert load_mnist("test").labels[:10].tolist() == FIRST_LABELS["test"]


def test_missing_files_name_the_folders_searched_and_the_files(tmp_path, mnist_raw, no_network):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    shutil.copyfile(mnist_raw / SMALL_FILE, tmp_path / "MNIST" / "raw" / SMALL_FILE)  # one of four
    with pytest.raises(MNISTNotFoundError) as caught:
        load_mnist("test", root=tmp_path)
    lines = [line.strip() for line in str(caught.value).splitlines()]
    assert str(tmp_path / "MNIST" / "raw") in lines and str(tmp_path) in lines
    for name in MNIST_FILES:
        assert name in lines
    assert isinstance(caught.value, FileNotFoundError)


# --- damaged files ------------------------------------------------------------


def truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def flip_one_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


@pytest.mark.parametrize("damage", [truncate, flip_one_byte])
def test_damaged_file_is_refused_untouched(tmp_path, mnist_raw, damage, no_network):
    folder = tmp_path / "MNIST" / "raw"
    link_files(mnist_raw, folder)
    bad = folder / SMALL_FILE
    bad.unlink()
    bad.write_bytes(damage((mnist_raw / SMALL_FILE).read_bytes()))
    before = bad.read_bytes()

    with pytest.raises(MNISTChecksumError) as caught:
        load_mnist("test", root=tmp_path, download=False)

    assert SMALL_FILE in str(caught.value) and MNIST_FILES[SMALL_FILE] in str(caught.value)
    assert bad.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILES)


# --- download, without the network -----------------------------------------


def fetch_from(source: Path, calls: list):
    """A ``_fetch`` that serves the real files from ``source`` and records the URLs."""

    def fetch(url, dest, progress=False):
        calls.append((url, Path(dest)))
        shutil.copyfile(source / url.rsplit("/", 1)[1], dest)

    return fetch


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.part"))


def test_download_puts_every_file_in_place(tmp_path, monkeypatch, mnist_raw):
    calls = []
    monkeypatch.setattr(mnist, "_fetch", fetch_from(mnist_raw, calls))
    folder = download_mnist(tmp_path)
    assert folder == tmp_path / "MNIST" / "raw"
    for name, md5 in MNIST_FILES.items():
        assert md5sum(folder / name) == md5
    assert sorted(url.rsplit("/", 1)[1] for url, _ in calls) == sorted(MNIST_FILES)
    assert all(dest.name not in MNIST_FILES for _, dest in calls), "must write to a temporary name"
    assert leftovers(tmp_path) == []


def test_download_of_garbage_raises_and_leaves_nothing(tmp_path, monkeypatch):
    def fetch(url, dest, progress=False):
        Path(dest).write_bytes(b"<html>mirror is down</html>")

    monkeypatch.setattr(mnist, "_fetch", fetch)
    with pytest.raises(RuntimeError, match="MNIST"):
        download_mnist(tmp_path)
    folder = tmp_path / "MNIST" / "raw"
    assert not any((folder / name).exists() for name in MNIST_FILES)
    assert leftovers(tmp_path) == []


def test_interrupted_download_leaves_no_half_file(tmp_path, monkeypatch):
    def fetch(url, dest, progress=False):
        Path(dest).write_bytes(b"\x1f\x8b half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(mnist, "_fetch", fetch)
    with pytest.raises(KeyboardInterrupt):
        download_mnist(tmp_path)
    assert list((tmp_path / "MNIST" / "raw").iterdir()) == []


def test_download_falls_back_to_the_next_mirror(tmp_path, monkeypatch, mnist_raw):
    calls = []
    serve = fetch_from(mnist_raw, calls)

    def fetch(url, dest, progress=False):
        if url.startswith(mnist.MIRRORS[0]):
            raise OSError("connection refused")
        serve(url, dest)

    monkeypatch.setattr(mnist, "_fetch", fetch)
    folder = download_mnist(tmp_path)
    assert all(md5sum(folder / name) == md5 for name, md5 in MNIST_FILES.items())
    assert leftovers(tmp_path) == []


def test_load_with_download_replaces_only_the_damaged_file(tmp_path, monkeypatch, mnist_raw):
    folder = link_files(mnist_raw, tmp_path / "MNIST" / "raw")
    (folder / SMALL_FILE).unlink()
    (folder / SMALL_FILE).write_bytes(b"damaged")
    calls = []
    monkeypatch.setattr(mnist, "_fetch", fetch_from(mnist_raw, calls))

    labels = load_mnist("test", root=tmp_path, download=True).labels

    assert [url.rsplit("/", 1)[1] for url, _ in calls] == [SMALL_FILE]
    assert md5sum(folder / SMALL_FILE) == MNIST_FILES[SMALL_FILE]
    assert np.bincount(labels, minlength=10).tolist() == CLASS_COUNTS["test"]
