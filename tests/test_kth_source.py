"""KTH conversion into the video cache and the ``"kth"`` clip source, on a miniature KTH.

The miniature set is written in the real formats (see ``drnet_lite.data.kth_mini``);
one listed video is left out of its archive and one archive member is not a
video, so the conversion has something to report.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from drnet_lite.data import kth
from drnet_lite.data.kth import VideoKey
from drnet_lite.data.kth_mini import render_video, write_miniature_kth
from drnet_lite.data.kth_source import KTHConfig, KTHSource, convert_kth
from drnet_lite.data.source import make_source

FRAMES = 80
PERSONS = (1, 2, 17, 18)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kth_root")
    write_miniature_kth(root / "KTH", persons=PERSONS, frames=FRAMES, omit=("person18_running_d1",))
    # one member of jogging.zip is not a video (its CRC is fine: the zip is intact, the file is not)
    path = root / "KTH" / "jogging.zip"
    with zipfile.ZipFile(path) as old:
        members = {n: old.read(n) for n in old.namelist()}
    members["person02_jogging_d1_uncomp.avi"] = b"RIFF\x00\x00\x00\x00AVI garbage" * 50
    with zipfile.ZipFile(path, "w") as new:
        for name, data in members.items():
            new.writestr(name, data)
    return root


@pytest.fixture(scope="module")
def converted(root):
    return convert_kth(root, 64, progress=False, verbose=False)


def test_conversion_reports_and_skips(converted, capsys):
    assert len(converted.decoded) == 6 * len(PERSONS) - 2
    assert converted.missing == ["person18_running_d1_uncomp.avi"]
    assert set(converted.failed) == {"person02_jogging_d1_uncomp.avi"}
    assert "video" in converted.failed["person02_jogging_d1_uncomp.avi"]
    assert converted.frames == FRAMES * len(converted.decoded)
    assert "MB of cache" in converted.estimate and " s (at 700 frames/s" in converted.estimate
    assert "1 missing, 1 failed" in converted.summary()


def test_second_conversion_decodes_nothing(root, converted, monkeypatch):
    import drnet_lite.data.kth_source as module

    def refuse(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(module, "decode_video", refuse)
    again = convert_kth(root, 64, progress=False, verbose=False)
    assert again.decoded == [] and sorted(again.cached) == sorted(converted.decoded)
    assert again.frames == converted.frames


def test_source_split_labels_and_frames(root, converted):
    train = KTHSource(KTHConfig(image_size=64, seq_len=8, split="train"), root=root, progress=False, verbose=False)
    test = make_source(KTHConfig(image_size=64, seq_len=8, split="test"), root=root)
    assert set(train.table[:, 3].tolist()) == {1, 2} and set(test.table[:, 3].tolist()) == {17, 18}
    clips = train.sample(64, seed=0)
    assert clips.frames.shape == (64, 8, 1, 64, 64) and clips.frames.dtype == torch.float32
    assert float(clips.frames.min()) >= 0 and float(clips.frames.max()) <= 1
    assert set(clips.person.tolist()) <= {1, 2} and set(clips.scenario.tolist()) == {1}
    assert set(clips.action.tolist()) <= set(range(6)) and int(clips.segment.min()) >= 1
    assert torch.equal(train.sample(64, seed=0).frames, clips.frames)
    # the frames are those of the labelled video at the labelled start, squashed 160x120 -> 64x64, not cropped
    i = 5
    key = VideoKey(int(clips.person[i]), kth.ACTIONS[int(clips.action[i])], int(clips.scenario[i]))
    original = torch.from_numpy(render_video(key, FRAMES)).float()[:, None] / 255  # (T, 1, 120, 160)
    start = int(clips.start[i])
    window = original[start:start + 8]
    squashed = F.interpolate(window, size=(64, 64), mode="bilinear", antialias=True)
    side = window[..., :, 20:140]  # a centre crop to 120x120
    cropped = F.interpolate(side, size=(64, 64), mode="bilinear", antialias=True)
    err_squash = (clips.frames[i] - squashed).abs().mean()
    err_crop = (clips.frames[i] - cropped).abs().mean()
    assert err_squash < 0.03 < err_crop, (err_squash, err_crop)


def test_ranges_are_clamped_and_dropped_in_the_source(root, converted):
    source = KTHSource(KTHConfig(image_size=64, seq_len=1, split="train"), root=root, progress=False, verbose=False)
    by_video: dict[str, list] = {}
    for seg in source.segments:
        by_video.setdefault(seg.key.name, []).append(seg)
    past = by_video["person01_boxing_d1"]  # last range declared past the 80 frames that decode: clamped
    assert past[-1].stop == FRAMES and past[-1].declared[1] > FRAMES and len(past) == 4
    beyond = by_video["person02_boxing_d1"]  # last range starts after the end: dropped
    assert [s.index for s in beyond] == [1, 2]
    walk = by_video["person01_walking_d1"]
    assert walk[0].stop - 1 == walk[1].start  # the overlap is kept
    assert "person02_jogging_d1" not in by_video  # the corrupt video
    # a clip never crosses a segment boundary
    clips = source.sample(200, seed=1)
    assert len(clips) == 200
    long = KTHSource(KTHConfig(image_size=64, seq_len=20, split="train"), root=root, progress=False, verbose=False)
    assert all(seg.length >= 20 for seg in long.segments)
    with pytest.raises(kth.KTHError, match="no train segment"):
        KTHSource(KTHConfig(image_size=64, seq_len=500), root=root, progress=False, verbose=False)


def test_protocol_windows_follow_mcnet(root, converted):
    # MCnet's loop on a segment 1-40 (1-based, inclusive) with 10 + 20 frames: range(1, 40 - 30 - 1) = 1..8,
    # i.e. 8 windows at stride 1: offsets 0..7 into the segment, range(0, 40 - 30 - 2)
    source = KTHSource(KTHConfig(image_size=64, seq_len=4, split="test"), root=root, progress=False, verbose=False)
    rows, starts = source.protocol_windows(observed=4, predicted=8)
    assert len(rows) == len(starts) > 0
    for row in set(rows.tolist()):
        length = int(source.table[row, 1])
        action = kth.ACTIONS[int(source.table[row, 2])]
        stride = 3 if action in ("running", "jogging") else 20
        expected = list(range(0, length - 12 - 2, stride))
        assert starts[rows == row].tolist() == expected
    # by hand: a 20-frame running segment (1-based 1-20) gives MCnet's j = 1, 4 (j < 20 - 12 - 1 = 7)
    running = [r for r, row in enumerate(source.table.tolist()) if kth.ACTIONS[row[2]] == "running" and row[1] == 20]
    assert running and starts[rows == running[0]].tolist() == [0, 3]
    boxing = [r for r, row in enumerate(source.table.tolist()) if kth.ACTIONS[row[2]] == "boxing" and row[1] == 20]
    assert boxing and starts[rows == boxing[0]].tolist() == [0]
    # every segment that fits a window has its windows
    fitting = {r for r, (_, n, *_) in enumerate(source.table.tolist()) if n - 14 > 0}
    assert set(rows.tolist()) == fitting
    clips = source.windows(rows, starts, 12)
    assert clips.frames.shape == (len(rows), 12, 1, 64, 64)
    assert set(clips.person.tolist()) <= {17, 18}


def test_config_round_trip_and_errors():
    from drnet_lite.data.source import config_from_dict

    config = KTHConfig(image_size=128, seq_len=30, split="test", train_persons=(1, 2), test_persons=(3,))
    assert config_from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="both"):
        KTHConfig(train_persons=(1, 2), test_persons=(2,))
    with pytest.raises(ValueError, match="power of two"):
        KTHConfig(image_size=100)
    with pytest.raises(ValueError, match="subset"):
        KTHConfig(actions=("dancing",))


def test_missing_sequence_file_says_what_to_do(tmp_path):
    with pytest.raises(kth.KTHNotFoundError, match="download kth"):
        convert_kth(tmp_path, 64, progress=False, verbose=False)
