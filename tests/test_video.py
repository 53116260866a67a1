"""Real video: decoding with PyAV, the uint8 cache, bad files, splits, and the real vtest.avi."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from drnet_lite.data import video as video_module
from drnet_lite.data.video import (
    VTEST,
    VideoCache,
    VideoConfig,
    VideoSource,
    decode_video,
    find_videos,
    load_videos,
    synthetic_frames,
    tile_and_resize,
    write_synthetic_video,
)


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory) -> Path:
    return write_synthetic_video(tmp_path_factory.mktemp("v") / "shapes.avi", frames=24, width=96, height=64, seed=0)


def test_synthetic_video_decodes_to_its_frames(clip_file):
    config = VideoConfig(videos=(str(clip_file),), image_size=32, channels="rgb", resize="squash")
    array, facts = decode_video(clip_file, config)
    assert array.dtype == np.uint8 and array.shape == (24, 1, 3, 32, 32)
    assert (facts["width"], facts["height"], facts["decoded"]) == (96, 64, 24)
    # the decoded frames match the frames that were written (lossy codec: close, not equal)
    truth = tile_and_resize(torch.from_numpy(synthetic_frames(24, 96, 64, seed=0)).permute(0, 3, 1, 2), (1, 1), 32, "squash")
    error = (torch.from_numpy(array).float() - truth.float()).abs().mean() / 255
    assert error < 0.03
    # the moving shapes make consecutive frames differ; the background stays
    assert (array[1:].astype(int) - array[:-1]).std() > 2


def test_grey_crop_tiles_and_frame_step(clip_file):
    config = VideoConfig(videos=(str(clip_file),), image_size=16, channels="grey", tiles=(2, 3), frame_step=3)
    array, _ = decode_video(clip_file, config)
    assert array.shape == (8, 6, 1, 16, 16)


def test_tiles_are_the_blocks_of_the_frame():
    frames = torch.arange(2 * 1 * 8 * 12, dtype=torch.float32).view(2, 1, 8, 12) % 251
    tiles = tile_and_resize(frames, (2, 3), 4, "squash")  # 4x4 blocks: no resizing
    assert tiles.shape == (2, 6, 1, 4, 4)
    assert torch.equal(tiles[1, 4].float(), frames[1, :, 4:8, 4:8])  # row 1, column 1
    crop = tile_and_resize(frames, (1, 1), 8, "crop")  # 8x12 -> the centre 8x8
    assert torch.equal(crop[0, 0].float(), frames[0, :, :, 2:10])


def test_second_load_decodes_nothing_and_a_changed_file_is_decoded_again(tmp_path, monkeypatch):
    path = write_synthetic_video(tmp_path / "v.avi", frames=20, width=64, height=48, seed=3)
    cache = tmp_path / "cache"
    config = VideoConfig(videos=(str(path),), image_size=16, seq_len=5)
    _, first, summary = load_videos(config, cache, progress=False, verbose=False)
    assert summary.decoded == [str(path.resolve())] and summary.cached == []
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".npy"]

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the cache is valid")

    monkeypatch.setattr(video_module, "decode_video", no_decoding)
    _, second, summary = load_videos(config, cache, progress=False, verbose=False)
    assert summary.cached == [str(path.resolve())] and summary.decoded == []
    assert np.array_equal(first[0], second[0])
    monkeypatch.undo()

    # other settings are another cache entry; a changed file is decoded again and replaces its entry
    _, _, summary = load_videos(VideoConfig(videos=(str(path),), image_size=32), cache, progress=False, verbose=False)
    assert summary.decoded
    time.sleep(0.01)
    write_synthetic_video(path, frames=30, width=64, height=48, seed=4)
    _, third, summary = load_videos(config, cache, progress=False, verbose=False)
    assert summary.decoded == [str(path.resolve())]
    assert len(third[0]) == 30
    assert not list(cache.glob("*.tmp"))


def test_bad_files_are_named_skipped_and_counted(tmp_path, capsys):
    good = write_synthetic_video(tmp_path / "good.avi", frames=12, width=32, height=32, seed=0)
    (tmp_path / "notes.mp4").write_text("this is not a video\n" * 50)
    (tmp_path / "readme.txt").write_text("ignored: not a video name")
    cache = tmp_path / "cache"
    config = VideoConfig(videos=(str(tmp_path),), image_size=16, seq_len=4)
    source = VideoSource(config, root=cache, progress=False)
    summary = source.summary
    assert [Path(p).name for p in summary.decoded] == ["good.avi"]
    assert [Path(p).name for p, _ in summary.skipped] == ["notes.mp4"]
    printed = capsys.readouterr().out
    assert "notes.mp4" in printed and "1 skipped" in printed
    assert source.paths == [good.resolve()]
    cached = [p.name for p in cache.iterdir() if p.name != "index.json"]
    assert len(cached) == 1 and cached[0].startswith("good-") and cached[0].endswith(".npy")  # nothing of the bad files
    with pytest.raises(ValueError, match="no video could be loaded.*notes.mp4"):
        VideoSource(VideoConfig(videos=(str(tmp_path / "notes.mp4"),), image_size=16), root=cache, verbose=False)


def test_a_mistyped_path_is_an_error_before_any_decoding(tmp_path, monkeypatch):
    good = write_synthetic_video(tmp_path / "good.avi", frames=12, width=32, height=32, seed=0)
    monkeypatch.setattr(video_module, "decode_video", lambda *a, **k: pytest.fail("decoded before the check"))
    config = VideoConfig(videos=(str(good), str(tmp_path / "godo.avi")), image_size=16, seq_len=4)
    with pytest.raises(ValueError, match="no such video file or folder: .*godo.avi"):
        load_videos(config, tmp_path / "cache", progress=False, verbose=False)


def test_an_interrupted_write_leaves_no_cache_file(tmp_path, monkeypatch):
    path = write_synthetic_video(tmp_path / "v.avi", frames=10, width=32, height=32)
    cache = tmp_path / "cache"

    def crash(handle, array, allow_pickle=False):
        handle.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(video_module.np, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        load_videos(VideoConfig(videos=(str(path),), image_size=16), cache, progress=False, verbose=False)
    assert list(cache.iterdir()) == []
    monkeypatch.undo()
    assert VideoCache(cache).lookup(path.resolve(), VideoConfig(videos=(str(path),), image_size=16)) is None


@pytest.fixture(scope="module")
def two_videos(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("split")
    write_synthetic_video(folder / "a.avi", frames=40, width=64, height=32, seed=5)
    write_synthetic_video(folder / "b.avi", frames=40, width=64, height=32, seed=6)
    return folder, folder / "cache"


@pytest.mark.parametrize("split_by", ["time", "video", "tile"])
def test_train_and_test_do_not_overlap(two_videos, split_by):
    folder, cache = two_videos
    base = VideoConfig(videos=(str(folder),), image_size=16, tiles=(1, 2), seq_len=6, split_by=split_by, test_fraction=0.5)
    train = VideoSource(base, root=cache, verbose=False)
    test = VideoSource(base, root=cache, verbose=False, split="test")
    a, b = train.sample(200, seed=0), test.sample(200, seed=0)
    if split_by == "video":
        assert set(a.video.tolist()).isdisjoint(b.video.tolist())
    elif split_by == "tile":
        assert set(a.tile.tolist()).isdisjoint(b.tile.tolist())
    else:
        assert int((a.start + 5).max()) < int(b.start.min())  # every train frame comes before every test frame
    assert set(a.scene.tolist()) and set(b.scene.tolist())


def test_clips_of_any_length(two_videos):
    folder, cache = two_videos
    for seq_len in (1, 7, 32):
        source = VideoSource(VideoConfig(videos=(str(folder),), image_size=16, seq_len=seq_len), root=cache, verbose=False)
        clips = source.sample(3, seed=1)
        assert clips.frames.shape == (3, seq_len, 1, 16, 16)
        # frame t of a clip is cached frame start + t of its video
        whole = source.frames[source.offsets[clips.video[0]] + clips.start[0] + torch.arange(seq_len), clips.tile[0]]
        assert torch.equal((clips.frames[0] * 255).round().to(torch.uint8), whole)
    with pytest.raises(ValueError, match="no train scene has 40 frames"):
        VideoSource(VideoConfig(videos=(str(folder),), image_size=16, seq_len=40), root=cache, verbose=False)
    with pytest.raises(ValueError, match="split_by='video' needs at least 2 videos"):
        VideoSource(VideoConfig(videos=(str(folder / "a.avi"),), image_size=16, split_by="video"), root=cache,
                    verbose=False)


def test_bad_settings_are_named():
    for bad, match in (({"image_size": 60}, "power of two"), ({"channels": "cmyk"}, "channels"),
                       ({"tiles": (0, 2)}, "tiles"), ({"resize": "fit"}, "resize"), ({"split_by": "day"}, "split_by"),
                       ({"test_fraction": 1.0}, "test_fraction"), ({"frame_step": 0}, "frame_step")):
        with pytest.raises(ValueError, match=match):
            VideoConfig(**bad)


def test_find_videos_takes_named_files_and_video_names_in_folders(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("sub/x.MP4", "y.avi", "z.txt", ".hidden.avi"):
        (tmp_path / name).write_bytes(b"")
    found, missing = find_videos([tmp_path, tmp_path / "z.txt", tmp_path / "nope"])
    assert [p.name for p in found] == ["x.MP4", "y.avi", "z.txt"]
    assert [p.name for p in missing] == ["nope"]


@pytest.mark.skipif(not VTEST.is_file(), reason=f"{VTEST} is absent: install Debian's opencv-doc package "
                                                "(apt-get install opencv-doc), as .ci/run does")
def test_real_vtest_avi(tmp_path):
    """The real footage: 768 x 576, cut 3 x 4 into twelve 192 x 192 scenes (first 60 frames here)."""
    config = VideoConfig(videos=(str(VTEST),), image_size=64, tiles=(3, 4), seq_len=10, max_frames=60)
    source = VideoSource(config, root=tmp_path, progress=False, verbose=False)
    assert source.frames.shape == (60, 12, 1, 64, 64)
    assert source.summary.decoded == [str(VTEST.resolve())]
    entry = next(iter(VideoCache(tmp_path).read_index().values()))
    assert (entry["width"], entry["height"]) == (768, 576) and entry["size"] == os.path.getsize(VTEST)
    clips = source.sample(4, seed=0)
    assert clips.frames.shape == (4, 10, 1, 64, 64)
    # real pixels: textured scenes (not blank), and tiles differ from each other
    tiles = source.frames[0].float()
    assert float(tiles.std()) > 10
    assert float((tiles[0] - tiles[5]).abs().mean()) > 5
    again = VideoSource(config, root=tmp_path, progress=False, verbose=False)
    assert again.summary.cached and not again.summary.decoded


def test_scene_medians_are_each_tiles_median_over_its_videos_frames(two_videos):
    folder, cache = two_videos
    source = VideoSource(VideoConfig(videos=(str(folder),), image_size=16, tiles=(1, 2), seq_len=6, test_fraction=0.5),
                         root=cache, verbose=False, split="test")
    medians = source.scene_medians()
    assert medians.shape == (2 * 2, 1, 16, 16)  # two videos, two tiles each, indexed video * tiles + tile
    frames = source.frames.numpy()
    for video, (lo, n) in enumerate(zip(source.offsets.tolist(), source.lengths)):
        for tile in range(2):
            # torch's median of an even count is the lower middle value: sort and take it by hand
            by_hand = np.sort(frames[lo:lo + n, tile], axis=0)[(n - 1) // 2] / 255.0
            assert np.allclose(medians[video * 2 + tile].numpy(), by_hand)
    clips = source.sample(5, seed=0)
    assert medians[clips.scene].shape == (5, 1, 16, 16)
