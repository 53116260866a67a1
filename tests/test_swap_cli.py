"""``python -m drnet_lite swap`` on tiny videos written here, with a DRNet trained here for 2 steps."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from drnet_lite.checkpoint import save_checkpoint
from drnet_lite.cli import main
from drnet_lite.data.video import file_clips, reading_config, write_synthetic_video
from drnet_lite.presets import preset
from drnet_lite.swap import swap_figure
from drnet_lite.train import fit, load_drnet
from drnet_lite.viz import png_bytes

FRAMES = 40


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("swap")
    files = {
        "a.mp4": write_synthetic_video(folder / "a.mp4", frames=FRAMES, width=96, height=64, seed=1, codec="libx264"),
        "b.avi": write_synthetic_video(folder / "b.avi", frames=FRAMES, width=64, height=64, seed=2),
        "c.webm": write_synthetic_video(folder / "c.webm", frames=FRAMES, width=80, height=60, seed=3,
                                        codec="libvpx-vp9"),
    }
    return folder, files


@pytest.fixture(scope="module")
def video_drnet(videos, tmp_path_factory):
    """A video DRNet (2 x 2 tiles, colour, 16 px) trained for 2 steps on two of the videos."""
    folder, files = videos
    config = preset("video-64", videos=[str(files["a.mp4"]), str(files["b.avi"])], image_size=16, channels="rgb",
                    tiles=(2, 2), seq_len=8, width=4, content_dim=8, pose_dim=3, batch_size=4, steps=2, max_step=4,
                    log_every=1, image_every=100, checkpoint_every=2, device="cpu")
    out = tmp_path_factory.mktemp("run")
    fit(config, out, data_root=out / "cache", progress=False)
    return out / "checkpoint.pt"


def test_swap_of_video_files(videos, video_drnet, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DRNET_CACHE", str(tmp_path / "cache"))
    folder, files = videos
    out = tmp_path / "out"
    argv = ["swap", "--checkpoint", str(video_drnet), "--content", str(files["c.webm"]), "--pose", str(files["a.mp4"]),
            str(files["b.avi"]), "--clips", "1", "--frames", "6", "--start", "3", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "read as this DRNet's video source reads frames: colour (RGB), each frame cut into 2x2 tiles, " \
           "centre-cropped to a square, resized to 16x16" in printed
    assert "content: 1 clip(s) of 1 frame(s) from frame 3: c.webm" in printed
    assert "pose: 2 clip(s) of 6 frame(s) from frame 3: a.mp4, b.avi" in printed
    assert sorted(p.name for p in out.iterdir()) == ["swap_content_0.gif", "swap_matrix.png"]
    # the matrix is the library's picture of the frames read the checkpoint's way: inputs on the edges
    model, config = load_drnet(video_drnet)
    reading = reading_config(config.data, 16, 3)
    content = file_clips(files["c.webm"], reading, 1, 3, [0], verbose=False)[:, 0]
    pose = torch.cat([file_clips(files[n], reading, 6, 3, [0], verbose=False) for n in ("a.mp4", "b.avi")])
    expected = np.asarray(Image.open(io.BytesIO(png_bytes(swap_figure(model, content, pose[:, 0]), scale=2))))
    assert np.array_equal(np.asarray(Image.open(out / "swap_matrix.png")), expected)
    assert expected.shape[:2] == (2 * (2 * 18 + 2), 2 * (3 * 18 + 2))  # 2 rows x 3 columns of 16 px + padding
    gif = Image.open(out / "swap_content_0.gif")
    assert gif.n_frames == 6 and gif.size == (2 * (3 * 18 + 2), 2 * (2 * 18 + 2))  # 3 columns, a row per pose clip


def test_swap_without_files_uses_the_checkpoint_s_source(video_drnet, tmp_path, capsys):
    assert main(["swap", "--checkpoint", str(video_drnet), "--clips", "2", "--frames", "5", "--out",
                 str(tmp_path / "out"), "--data", str(tmp_path / "cache")]) == 0
    printed = capsys.readouterr().out
    assert "content: 2 test clip(s) of the checkpoint's video source" in printed
    assert len(list((tmp_path / "out").glob("swap_content_*.gif"))) == 2
    assert "read as" not in printed  # no files, nothing converted


def error_of(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_clear_errors_before_any_picture(videos, video_drnet, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DRNET_CACHE", str(tmp_path / "cache"))
    folder, files = videos
    out = tmp_path / "out"
    base = ["swap", "--checkpoint", str(video_drnet), "--out", str(out), "--clips", "1"]
    lstm = save_checkpoint({"kind": "pose_lstm", "config": {}, "state": {}}, tmp_path / "lstm.pt")
    assert "is not a DRNet checkpoint: it holds a pose LSTM (written by train-lstm); pass the DRNet it was " \
           "trained on" in error_of([*base[:1], "--checkpoint", str(lstm), *base[3:]], capsys)
    judge = save_checkpoint({"kind": "digit_judge", "state": {}}, tmp_path / "judge.pt")
    assert "holds the digit judge" in error_of([*base[:1], "--checkpoint", str(judge), *base[3:]], capsys)
    short = error_of([*base, "--content", str(files["a.mp4"]), "--pose", str(files["b.avi"]), "--frames", "50"], capsys)
    assert f"b.avi gives {FRAMES} frames; frames 0 to 49 are needed" in short
    (tmp_path / "notes.mp4").write_text("not a video\n" * 20)
    assert "notes.mp4" in error_of([*base, "--content", str(tmp_path / "notes.mp4")], capsys)
    assert "no such video file or folder: " in error_of([*base, "--pose", str(tmp_path / "nope.avi")], capsys)
    (tmp_path / "empty").mkdir()
    assert "no video files in" in error_of([*base, "--pose", str(tmp_path / "empty")], capsys)
    assert not out.exists()  # nothing written by any of them


def test_a_per_digit_drnet_cannot_read_video(videos, tmp_path, capsys, monkeypatch, mnist_root):
    config = preset("mnist2-lite", steps=1, width=4, batch_size=2, image_size=32, digit_size=16, device="cpu",
                    init_from="")  # the shipped starting point is width 16, image 64
    fit(config, tmp_path / "run", data_root=mnist_root, progress=False)
    _, files = videos
    err = error_of(["swap", "--checkpoint", str(tmp_path / "run" / "checkpoint.pt"), "--content",
                    str(files["a.mp4"]), "--out", str(tmp_path / "out"), "--data", str(mnist_root)], capsys)
    assert "reads 2-channel frames (one channel per digit)" in err
