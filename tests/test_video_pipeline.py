"""The whole pipeline on real video files, through the command line, with a tiny skip DRNet.

train --preset video-64 --videos FILE -> train-lstm --drnet -> predict --video -> evaluate-lstm,
evaluate and demo: every command works with a source other than Moving MNIST.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from drnet_lite.cli import build_parser, main
from drnet_lite.data.video import write_synthetic_video
from drnet_lite.train import load_drnet
from drnet_lite.train_lstm import load_pose_lstm


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    video = write_synthetic_video(root / "walk.avi", frames=120, width=64, height=32, seed=7)
    cache = root / "cache"
    run, run2 = root / "run", root / "run2"
    assert main(["train", "--preset", "video-64", "--videos", str(video), "--out", str(run), "--steps", "4",
                 "--image-size", "16", "--width", "2", "--tiles", "1", "2", "--seq-len", "12", "--max-step", "3",
                 "--batch-size", "4", "--content-dim", "8", "--pose-dim", "3", "--data", str(cache)]) == 0
    assert main(["train-lstm", "--drnet", str(run / "checkpoint.pt"), "--out", str(run2), "--steps", "3",
                 "--hidden-size", "8", "--bank-clips", "4", "--batch-size", "4", "--data", str(cache)]) == 0
    return {"root": root, "video": video, "cache": cache, "run": run, "run2": run2}


def test_train_records_the_video_source(pipeline):
    model, config = load_drnet(pipeline["run"] / "checkpoint.pt")
    assert config.data.source == "video" and config.model.skip
    assert config.data.videos == (str(pipeline["video"]),) and config.data.tiles == (1, 2)
    assert sorted(p.name for p in (pipeline["run"] / "images").glob("swap_*.png"))
    lstm, lstm_config, record = load_pose_lstm(pipeline["run2"] / "checkpoint.pt", model)
    assert lstm_config.bank_length == 40 and lstm_config.hidden_size == 8  # the lstm-video preset, overridden


def test_predict_from_a_video_file(pipeline, capsys):
    out = pipeline["root"] / "predict"
    assert main(["predict", "--checkpoint", str(pipeline["run2"] / "checkpoint.pt"), "--video", str(pipeline["video"]),
                 "--observe", "4", "--horizon", "6", "--out", str(out), "--data", str(pipeline["cache"])]) == 0
    strip = np.asarray(Image.open(out / "strip.png"))
    assert strip.ndim == 3 and strip.shape[0] > 16 and strip.shape[1] > 16
    gif = Image.open(out / "rollout.gif")
    assert gif.n_frames == 10
    assert "2 clip(s) of 10 frames" in capsys.readouterr().out  # one clip per tile
    with pytest.raises(SystemExit):
        build_parser().parse_args(["predict", "--video"])
    assert main(["predict", "--checkpoint", str(pipeline["run2"] / "checkpoint.pt"), "--video", str(pipeline["video"]),
                 "--observe", "100", "--horizon", "50", "--out", str(out), "--data", str(pipeline["cache"])]) == 2


def test_evaluate_lstm_prints_per_step_psnr_and_ssim(pipeline, capsys):
    out = pipeline["root"] / "pm.json"
    assert main(["evaluate-lstm", "--checkpoint", str(pipeline["run2"] / "checkpoint.pt"), "--observe", "4",
                 "--horizon", "5", "--clips", "6", "--out", str(out), "--data", str(pipeline["cache"])]) == 0
    printed = capsys.readouterr().out
    assert "per step" in printed and "t+5" in printed and "copy_last psnr" in printed
    results = json.loads(out.read_text())
    for method in ("lstm", "oracle", "copy_last"):
        assert len(results["curves"][method]["psnr"]) == 5
        assert math.isfinite(results[f"{method}_psnr_at_1"]) and 0 < results[f"{method}_ssim_at_5"] <= 1
    assert not any(k.startswith("judge") or "window" in k for k in results)  # no digits in real video
    assert out.with_suffix(".png").is_file()


def test_evaluate_and_demo_work_with_a_video_checkpoint(pipeline, capsys):
    out = pipeline["root"] / "metrics.json"
    assert main(["evaluate", "--checkpoint", str(pipeline["run"] / "checkpoint.pt"), "--pairs", "8",
                 "--probe-clips", "16", "--out", str(out), "--data", str(pipeline["cache"])]) == 0
    results = json.loads(out.read_text())
    assert results["data"]["source"] == "video"
    for key in ("reconstruction_psnr", "reconstruction_ssim", "content_frame_baseline_psnr", "content_to_scene_linear",
                "pose_to_scene_linear", "fresh_scene_discriminator_accuracy"):
        assert math.isfinite(results[key]), key
    assert results["scene_classes"] == 2
    assert 0 < results["moved_pixel_share"] < 1  # the synthetic shapes move over a still background
    for key in ("reconstruction_moved_psnr", "content_frame_baseline_moved_psnr", "scene_median_baseline_moved_psnr",
                "scene_median_baseline_psnr", "scene_median_baseline_ssim"):
        assert math.isfinite(results[key]), key
    assert results["content_frame_baseline_moved_psnr"] < results["content_frame_baseline_psnr"]  # copying fails where things moved
    # the synthetic shapes cover a small part of a still background: its median is a better guess where they moved
    assert results["scene_median_baseline_moved_psnr"] > results["content_frame_baseline_moved_psnr"]
    demo = pipeline["root"] / "demo"
    assert main(["demo", "--checkpoint", str(pipeline["run"] / "checkpoint.pt"), "--lstm",
                 str(pipeline["run2"] / "checkpoint.pt"), "--horizon", "4", "--out", str(demo),
                 "--data", str(pipeline["cache"])]) == 0
    for name in ("video_clips.png", "reconstruction.png", "swap.png", "prediction_strip.png", "prediction_rollout.gif"):
        assert (demo / name).is_file(), name
    assert not (demo / "moving_mnist_grey.png").exists()


def test_help_names_the_datasets(capsys):
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    assert "video-64" in text and "moving-mnist" in text and "video:" in text and "--videos" in text


def test_half_precision_export_loads_and_computes_alike(pipeline):
    import torch

    out = pipeline["root"] / "half.pt"
    assert main(["export", "--checkpoint", str(pipeline["run"] / "checkpoint.pt"), "--out", str(out), "--half"]) == 0
    full, _ = load_drnet(pipeline["run"] / "checkpoint.pt")
    half, config = load_drnet(out)
    assert torch.load(out, weights_only=True)["state"]["decoder.out.0.weight"].dtype == torch.float16
    assert next(half.parameters()).dtype == torch.float32
    x = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (full(x, x.flip(0)) - half(x, x.flip(0))).abs().max() < 2e-2
