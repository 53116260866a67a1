"""The shipped pose LSTM meets its targets on the fixed test set (a regression fails CI).

Targets (issue "Future prediction"): above copy-last-frame on window SSIM at every step from t+3
on, and digit judge accuracy >= 80% at frame t+100 of a rollout. Also: the decoder fed the true
future poses (oracle) bounds the LSTM, and the numbers shipped in
``assets/mnist-lite-lstm.metrics.json`` are reproduced by the code as it is now (on fewer clips
here, to keep CI fast, hence the tolerances).
"""
import json

import pytest

from drnet_lite.assets import REPO_ASSETS
from drnet_lite.evaluate_prediction import evaluate_prediction
from drnet_lite.judge import load_judge
from drnet_lite.train import load_drnet
from drnet_lite.train_lstm import load_pose_lstm

LSTM = REPO_ASSETS / "mnist-lite-lstm.pt"
METRICS = REPO_ASSETS / "mnist-lite-lstm.metrics.json"
DRNET = REPO_ASSETS / "mnist-lite.pt"

pytestmark = pytest.mark.skipif(not LSTM.is_file(), reason="no shipped pose LSTM in assets/")


@pytest.fixture(scope="module")
def results(mnist_root):
    drnet, config = load_drnet(DRNET)
    lstm, _, _ = load_pose_lstm(LSTM, drnet)  # weights_only, and the fingerprint of its DRNet checked
    return evaluate_prediction(drnet, config.data, lstm, load_judge(), root=mnist_root, clips=100, horizon=50,
                               long_clips=100, long_at=(100, 500))


def test_lstm_beats_copy_last_frame_on_window_ssim_from_t_plus_3(results):
    # the 10 -> 10 protocol: every predicted step from t+3 to t+10 (all of them, in fact)
    lstm, copy = results["curves"]["lstm"]["window_ssim"], results["curves"]["copy_last"]["window_ssim"]
    losing = [k + 1 for k in range(10) if lstm[k] <= copy[k]]
    assert not losing, f"window SSIM at or below copy-last-frame at steps {losing}"
    # and well above it for the first 30 steps of the longer horizon (after that both sit at the
    # level of a digit drawn in the wrong place, and copy-last wins where the true digit happens
    # to come back to where it was; see assets/README.md)
    assert sum(lstm[:30]) > 2 * sum(copy[:30])


def test_content_survives_a_long_rollout(results):
    assert results["judge_accuracy_100"] >= 0.80
    assert results["judge_accuracy_500"] >= 0.70  # guard at the level reached, see assets/README.md


def test_the_oracle_pose_bounds_the_lstm(results):
    curves = results["curves"]
    for metric in ("window_ssim", "window_psnr", "ssim", "psnr"):
        oracle, lstm = curves["oracle"][metric], curves["lstm"][metric]
        assert sum(oracle) >= sum(lstm), metric
        tolerance = 0.01 if "ssim" in metric else 0.2
        assert all(o >= p - tolerance for o, p in zip(oracle, lstm)), metric


def test_shipped_metrics_are_reproduced(results):
    shipped = json.loads(METRICS.read_text())
    for key in ("lstm_window_ssim_mean_10", "oracle_window_ssim_mean_10", "copy_last_window_ssim_mean_10",
                "lstm_window_ssim_mean_50", "lstm_ssim_mean_10"):
        assert results[key] == pytest.approx(shipped[key], abs=0.03), key
    assert results["judge_accuracy_100"] == pytest.approx(shipped["judge_accuracy_100"], abs=0.08)
