"""small NORB: the binary-matrix format, clear errors, the download, and clips from files in the real format."""
import functools
import gzip
import http.server
import struct
import threading

import numpy as np
import pytest
from drnet_lite.data.norb import (MAGIC, NORB, PREFIX, NORBConfig, NORBFormatError, NORBNotFoundError, download_norb,
                                  file_names, load_norb, read_matrix, write_matrix, write_synthetic_norb)


@pytest.fixture(scope="module")
def norb_root(tmp_path_factory):
    return write_synthetic_norb(tmp_path_factory.mktemp("norb"), elevations=2, lightings=2, size=32)


def test_header_is_exactly_the_documented_layout(tmp_path):
    images = np.arange(3 * 2 * 4 * 5, dtype=np.uint8).reshape(3, 2, 4, 5)
    raw = write_matrix(tmp_path / "x-dat.mat", images).read_bytes()
    assert struct.unpack("<6i", raw[:24]) == (0x1E3D4C55, 4, 3, 2, 4, 5) and len(raw) == 24 + images.size
    labels = np.array([4, 0, 2], dtype=np.int32)
    raw = write_matrix(tmp_path / "x-cat.mat", labels).read_bytes()
    # one dimension, but three are stored (the unused ones are 1): a 20-byte header
    assert struct.unpack("<5i", raw[:20]) == (0x1E3D4C54, 1, 3, 1, 1) and len(raw) == 20 + 12
    assert struct.unpack("<3i", raw[20:]) == (4, 0, 2)
    info = np.arange(12, dtype=np.int32).reshape(3, 4)
    raw = write_matrix(tmp_path / "x-info.mat", info).read_bytes()
    assert struct.unpack("<5i", raw[:20]) == (0x1E3D4C54, 2, 3, 4, 1)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int16, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_every_element_type_round_trips(tmp_path, dtype, compress):
    array = (np.arange(24).reshape(2, 3, 4) * 3).astype(dtype)
    path = write_matrix(tmp_path / ("m.mat.gz" if compress else "m.mat"), array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_matrix(path)
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)
    assert {v.name for v in MAGIC.values()} == {"uint8", "int32", "int16", "float32", "float64"}


def test_wrong_magic_and_truncated_files_name_the_file(tmp_path):
    bad = tmp_path / "bad-cat.mat"
    bad.write_bytes(struct.pack("<5i", 0x12345678, 1, 3, 1, 1) + b"\0" * 12)
    with pytest.raises(NORBFormatError, match="bad-cat.mat.*wrong magic number 0x12345678"):
        read_matrix(bad)
    good = write_matrix(tmp_path / "t-dat.mat", np.zeros((4, 2, 8, 8), np.uint8))
    cut = tmp_path / "cut-dat.mat"
    cut.write_bytes(good.read_bytes()[:-10])
    with pytest.raises(NORBFormatError, match="cut-dat.mat.*truncated"):
        read_matrix(cut)
    cut_gz = tmp_path / "cut-dat.mat.gz"
    cut_gz.write_bytes(gzip.compress(good.read_bytes())[:-30])
    with pytest.raises(NORBFormatError, match="cut-dat.mat.gz"):
        read_matrix(cut_gz)
    short = tmp_path / "short.mat"
    short.write_bytes(struct.pack("<ii", 0x1E3D4C55, 4) + b"\0\0")
    with pytest.raises(NORBFormatError, match="short.mat.*truncated header"):
        read_matrix(short)


def test_files_read_back_with_their_labels(norb_root):
    split = load_norb("train", norb_root)
    assert split.images.shape == (2 * 5 * 2 * 18 * 2, 2, 32, 32) and split.images.dtype == np.uint8
    assert set(split.info[:, 0]) == {4, 6, 7, 8, 9} and set(split.category) == {0, 1}
    assert set(load_norb("test", norb_root).info[:, 0]) == {0, 1, 2, 3, 5}
    assert sorted(p.name for p in norb_root.iterdir()) == sorted(n + ".gz" for n in file_names())


def test_plain_files_read_too(tmp_path):
    write_synthetic_norb(tmp_path, elevations=1, lightings=1, categories=1, size=16, compress=False)
    assert (tmp_path / f"{PREFIX['test']}-dat.mat").exists()
    assert load_norb("test", tmp_path).images.shape == (5 * 18, 2, 16, 16)


def test_missing_files_say_which_and_where(tmp_path):
    with pytest.raises(NORBNotFoundError) as err:
        load_norb("train", tmp_path)
    message = str(err.value)
    assert str(tmp_path / "NORB") in message and all(name in message for name in file_names())


def test_clips_walk_the_azimuth_of_one_toy(norb_root):
    source = NORB(NORBConfig(image_size=16, seq_len=20, split="train", camera=-1), root=norb_root)
    clips = source.sample(12, seed=0)
    assert clips.frames.shape == (12, 20, 1, 16, 16) and 0 <= clips.frames.min() and clips.frames.max() <= 1
    steps = (clips.azimuth.diff(dim=1) % 360)
    assert ((steps == 20) | (steps == 340)).all() and (steps[:, :1] == steps).all()  # one direction per clip
    assert (clips.elevation == clips.elevation[:, :1]).all()
    # the synthetic images encode the instance as brightness: the same in every frame of a clip
    level = clips.frames.amax((2, 3, 4))
    assert (level.max(1).values - level.min(1).values < 0.03).all()
    assert set(clips.camera.tolist()) == {0, 1}
    walk = NORB(NORBConfig(image_size=16, seq_len=8, elevation_every=2), root=norb_root).sample(6, seed=1)
    assert (walk.elevation_index.diff(dim=1).abs() <= 1).all() and walk.elevation_index.diff(dim=1).abs().sum() > 0


def test_download_from_a_local_server(tmp_path, norb_root):
    handler_class = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler_class, directory=str(norb_root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        folder = download_norb(tmp_path / "got", url=url)
        assert sorted(p.name for p in folder.iterdir()) == sorted(n + ".gz" for n in file_names())
        assert np.array_equal(load_norb("test", folder).info, load_norb("test", norb_root).info)
        # nothing to fetch the second time; a missing file on the server is a clear error, nothing half-written
        assert download_norb(tmp_path / "got", url=url) == folder
        with pytest.raises(NORBNotFoundError, match="could not download"):
            download_norb(tmp_path / "other", url=url + "nothing-here/")
        assert not any(p.suffix == ".part" for p in (tmp_path / "other").iterdir())
    finally:
        server.shutdown()
        server.server_close()


def test_offline_download_names_the_files(tmp_path):
    with pytest.raises(NORBNotFoundError) as err:
        download_norb(tmp_path, url="http://127.0.0.1:9/", timeout=2)
    assert all(name in str(err.value) for name in file_names()[:1]) and str(tmp_path) in str(err.value)


def test_labels_out_of_range_are_refused(tmp_path):
    write_synthetic_norb(tmp_path, elevations=1, lightings=1, categories=1, size=16)
    info = read_matrix(tmp_path / f"{PREFIX['train']}-info.mat.gz").copy()
    info[0, 2] = 35  # odd azimuth
    write_matrix(tmp_path / f"{PREFIX['train']}-info.mat.gz", info)
    with pytest.raises(NORBFormatError, match="documented ranges"):
        NORB(NORBConfig(image_size=16), root=tmp_path)
