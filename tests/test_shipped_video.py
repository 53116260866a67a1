"""The shipped video-64 weights (skip DRNet on tiles of vtest.avi, and its pose LSTM) load and reproduce
their shipped metrics (assets/video-64.metrics.json, assets/video-64-lstm.metrics.json).

Needs Debian's opencv-doc (vtest.avi), which .ci/run installs; skipped with the reason otherwise.
"""
import json

import pytest
import torch

from drnet_lite.assets import REPO_ASSETS
from drnet_lite.data.video import VTEST
from drnet_lite.evaluate_frames import evaluate_frames
from drnet_lite.evaluate_prediction import evaluate_prediction
from drnet_lite.train import load_drnet
from drnet_lite.train_lstm import load_pose_lstm

DRNET = REPO_ASSETS / "video-64.pt"
LSTM = REPO_ASSETS / "video-64-lstm.pt"

pytestmark = [
    pytest.mark.skipif(not DRNET.is_file(), reason="no shipped video-64 weights in assets/"),
    pytest.mark.skipif(not VTEST.is_file(), reason=f"{VTEST} is absent: apt-get install opencv-doc (as .ci/run does)"),
]


@pytest.fixture(scope="module")
def drnet(tmp_path_factory):
    model, config = load_drnet(DRNET)
    return model, config, tmp_path_factory.mktemp("video-cache")


def test_the_shipped_drnet_is_a_half_precision_skip_model_of_vtest(drnet):
    model, config, _ = drnet
    payload = torch.load(DRNET, weights_only=True)
    assert payload["storage"] == "float16" and config.model.skip
    assert config.data.source == "video" and config.data.videos == (str(VTEST),) and config.data.tiles == (3, 4)


def test_shipped_reconstruction_metrics_are_reproduced(drnet):
    model, config, cache = drnet
    shipped = json.loads((REPO_ASSETS / "video-64.metrics.json").read_text())
    results = evaluate_frames(model, config.data, root=cache, count=shipped["pairs"], probe_clips=shipped["probe_clips"])
    for key in ("reconstruction_psnr", "reconstruction_ssim", "content_frame_baseline_psnr", "content_to_scene_linear",
                "pose_to_scene_linear"):
        assert results[key] == pytest.approx(shipped[key], abs=0.02), key


def test_shipped_prediction_metrics_are_reproduced(drnet):
    model, config, cache = drnet
    lstm, _, _ = load_pose_lstm(LSTM, model)
    shipped = json.loads((REPO_ASSETS / "video-64-lstm.metrics.json").read_text())
    results = evaluate_prediction(model, config.data, lstm, root=cache, clips=shipped["clips"],
                                  observe=shipped["observed"], horizon=shipped["horizon"])
    for method in ("lstm", "oracle", "copy_last"):
        for k in (1, 5, 10):
            for metric in ("psnr", "ssim"):
                key = f"{method}_{metric}_at_{k}"
                assert results[key] == pytest.approx(shipped[key], abs=0.02), key
