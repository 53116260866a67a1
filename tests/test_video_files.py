"""Any decodable video works: real files and files written here with PyAV (several codecs, grey and colour,
a 200 x 150 frame, headers that over- and under-state their frame count, files cut in the middle, a file
that is not a video). Every file is tiny: 12 frames."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from drnet_lite.data import video as video_module
from drnet_lite.data.video import (
    VideoCache,
    VideoConfig,
    VideoDecodeError,
    decode_video,
    load_videos,
    synthetic_frames,
    tile_and_resize,
    write_synthetic_video,
)
from drnet_lite.data.video_samples import OPENCV_SAMPLES

TREE = OPENCV_SAMPLES / "tree.avi"
FRAMES, WIDTH, HEIGHT = 12, 200, 150
#: name, codec, pixel format
FILES = {
    "h264.mp4": ("libx264", "yuv420p"),
    "vp9.webm": ("libvpx-vp9", "yuv420p"),
    "mjpeg.avi": ("mjpeg", "yuvj420p"),
    "grey.avi": ("ffv1", "gray"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("files")
    for name, (codec, pix_fmt) in FILES.items():
        write_synthetic_video(folder / name, frames=FRAMES, width=WIDTH, height=HEIGHT, seed=1, codec=codec,
                              pix_fmt=pix_fmt)
    return folder


def truth(size: int, grey: bool) -> torch.Tensor:
    """The frames that were written, as (T, C, size, size) floats, squashed like the decoder squashes them."""
    pixels = synthetic_frames(FRAMES, WIDTH, HEIGHT, seed=1)
    frames = torch.from_numpy(pixels).permute(0, 3, 1, 2).float()
    if grey:
        frames = frames.mean(1, keepdim=True).round()
    return tile_and_resize(frames, (1, 1), size, "squash")[:, 0].float()


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("channels", ["grey", "rgb"])
def test_every_codec_decodes_to_the_frames_written(folder, name, channels):
    config = VideoConfig(image_size=32, channels=channels, resize="squash")
    array, facts = decode_video(folder / name, config)
    c = 1 if channels == "grey" else 3
    assert array.shape == (FRAMES, 1, c, 32, 32) and array.dtype == np.uint8
    assert (facts["width"], facts["height"], facts["decoded"]) == (WIDTH, HEIGHT, FRAMES)
    assert facts["warning"] == ""
    grey_file = FILES[name][1] == "gray"
    decoded = torch.from_numpy(array[:, 0]).float()
    if grey_file and c == 3:  # a grey file read as colour: three equal channels
        assert torch.equal(decoded[:, 0], decoded[:, 1]) and torch.equal(decoded[:, 1], decoded[:, 2])
    # lossy codecs and colour-space round trips: close to what was written, not equal
    expected = truth(32, grey=grey_file or c == 1)
    if c == 3 and grey_file:
        expected = expected.expand(-1, 3, -1, -1)
    assert float((decoded - expected).abs().mean()) / 255 < 0.04


def patched_count(source: Path, target: Path, count: int) -> Path:
    """A copy of an AVI file whose headers (avih's total frames, strh's length) announce ``count`` frames."""
    data = bytearray(source.read_bytes())
    struct.pack_into("<I", data, data.index(b"avih") + 8 + 16, count)
    struct.pack_into("<I", data, data.index(b"strh") + 8 + 32, count)
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("announced", [40, 5])
def test_a_header_that_misstates_its_count_is_a_warning_and_the_decoded_frames_are_cached(folder, tmp_path, announced, capsys):
    path = patched_count(folder / "mjpeg.avi", tmp_path / f"says-{announced}.avi", announced)
    config = VideoConfig(videos=(str(path),), image_size=16, seq_len=4)
    paths, arrays, summary = load_videos(config, tmp_path / "cache", progress=False, verbose=True)
    assert len(arrays[0]) == FRAMES
    message = f"its header announces {announced} frames, {FRAMES} decoded; the {FRAMES} decoded frames are used"
    assert summary.warnings == [(str(path.resolve()), message)]
    printed = capsys.readouterr().out
    assert sum(message in line for line in printed.splitlines()) == 1  # one line
    entry = next(iter(VideoCache(tmp_path / "cache").read_index().values()))
    assert (entry["decoded"], entry["announced"], entry["shape"][0]) == (FRAMES, announced, FRAMES)
    _, again, summary = load_videos(config, tmp_path / "cache", progress=False, verbose=False)
    assert summary.cached and np.array_equal(again[0], arrays[0])


def cut(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


@pytest.mark.parametrize("name", ["grey.avi", "mjpeg.avi", "vp9.webm"])
def test_a_file_cut_in_the_middle_gives_the_frames_that_decoded_with_a_warning(folder, tmp_path, name):
    path = cut(folder / name, tmp_path / f"cut-{name}")
    array, facts = decode_video(path, VideoConfig(image_size=16))
    n = len(array)
    assert 0 < n < FRAMES and facts["decoded"] == n
    # a WebM header counts no frames; its duration (1.2 s) at 10 fps says 12
    said = "its header's duration (1.2 s at 10 fps) suggests" if name.endswith(".webm") else "its header announces"
    assert facts["warning"] == f"{said} {FRAMES} frames, {n} decoded; the {n} decoded frames are used"
    # the frames that decoded are the first frames of the whole file
    whole, _ = decode_video(folder / name, VideoConfig(image_size=16))
    assert np.abs(whole[: len(array)].astype(int) - array).mean() < 2


class FailingAfter:
    """A PyAV container whose decoding raises (as ffmpeg does on a damaged packet) after ``good`` frames."""

    def __init__(self, container, good: int) -> None:
        self.container, self.good = container, good

    def __getattr__(self, name):
        return getattr(self.container, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.container.__exit__(*exc)

    def decode(self, stream):
        for k, frame in enumerate(self.container.decode(stream)):
            if k == self.good:
                raise OSError("Invalid data found when processing input")
            yield frame


@pytest.mark.parametrize("good", [0, 4])
def test_a_decoding_error_after_some_frames_keeps_them_and_before_any_refuses(folder, monkeypatch, good):
    """ffmpeg raises part way through a damaged file with some thread settings (ffv1 cut in half, decoded
    without frame threads, stops after 5 frames); the frames before the error are used."""
    av = video_module.require_av()
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda path, *a, **k: FailingAfter(real_open(path, *a, **k), good))
    if good == 0:
        with pytest.raises(VideoDecodeError, match="mjpeg.avi: cannot be decoded as a video.*Invalid data"):
            decode_video(folder / "mjpeg.avi", VideoConfig(image_size=16))
        return
    array, facts = decode_video(folder / "mjpeg.avi", VideoConfig(image_size=16))
    assert len(array) == facts["decoded"] == good
    assert facts["warning"] == ("decoding stopped after 4 frames (OSError: Invalid data found when processing "
                                "input); the 4 decoded frames are used")


def test_a_cut_file_with_no_frame_left_is_refused_by_name(folder, tmp_path):
    path = cut(folder / "h264.mp4", tmp_path / "cut.mp4")  # an mp4's index (moov) is written at its end
    with pytest.raises(VideoDecodeError, match="cut.mp4: cannot be decoded as a video"):
        decode_video(path, VideoConfig(image_size=16))
    data = (folder / "vp9.webm").read_bytes()
    (tmp_path / "cut.webm").write_bytes(data[: len(data) // 10])  # the header and no whole frame
    with pytest.raises(VideoDecodeError, match="cut.webm: holds no video frames"):
        decode_video(tmp_path / "cut.webm", VideoConfig(image_size=16))


def test_a_file_that_is_not_a_video_is_refused_by_name(tmp_path):
    path = tmp_path / "notes.avi"
    path.write_text("a shopping list, not a video\n" * 20)
    with pytest.raises(VideoDecodeError, match="notes.avi: cannot be decoded as a video"):
        decode_video(path, VideoConfig(image_size=16))
    with pytest.raises(ValueError, match="no video could be loaded.*notes.avi"):
        load_videos(VideoConfig(videos=(str(path),), image_size=16), tmp_path / "cache", progress=False, verbose=False)


@pytest.mark.skipif(not TREE.is_file(), reason=f"{TREE} is absent: install Debian's opencv-doc package")
def test_tree_avi_decodes_with_a_warning_about_its_header(tmp_path, capsys):
    """tree.avi (cinepak, 320 x 240): its index holds 444 entries, most of them empty "repeat the previous
    frame" chunks; 68 frames decode, to its end, without an error."""
    config = VideoConfig(videos=(str(TREE),), image_size=32, seq_len=10)
    _, arrays, summary = load_videos(config, tmp_path, progress=False, verbose=True)
    assert arrays[0].shape == (68, 1, 1, 32, 32)
    assert summary.decoded == [str(TREE.resolve())] and not summary.skipped
    assert summary.warnings == [(str(TREE.resolve()),
                                 "its header announces 444 frames, 68 decoded; the 68 decoded frames are used")]
    assert "warning" in capsys.readouterr().out
    assert float(torch.from_numpy(arrays[0]).float().std()) > 10  # real pixels
