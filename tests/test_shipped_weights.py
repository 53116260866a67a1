"""The shipped mnist-lite weights meet their targets on the fixed test set (a regression fails CI).

Targets (issue "Disentanglement that is measured"): swap content accuracy >= 90%
and the pose-to-digit probe within 10 points of chance: both met and asserted here.
The third target, window SSIM >= 0.70 against the exact target, is NOT met by the
shipped weights (0.51 after 10.5 minutes of CPU training; see assets/README.md): the
test below guards the level reached against regressions, it does not claim the target.
Against the target drawn up to 2 px off (best shift) the same swaps score 0.71: the
digits are right and sharp but registered a pixel or two away from the MNIST box.
The numbers shipped in ``assets/mnist-lite.metrics.json`` must also be reproduced
by the evaluation code as it is now.
"""
import json

import pytest

from drnet_lite.assets import REPO_ASSETS
from drnet_lite.experiments.moving_mnist import evaluate
from drnet_lite.judge import load_judge
from drnet_lite.train import load_drnet

WEIGHTS = REPO_ASSETS / "mnist-lite.pt"
METRICS = REPO_ASSETS / "mnist-lite.metrics.json"

pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(), reason="no shipped mnist-lite weights in assets/")


@pytest.fixture(scope="module")
def results(mnist_root):
    model, config = load_drnet(WEIGHTS)
    return evaluate(model, config.data, load_judge(), root=mnist_root, pairs=500, probe_clips=2000)


def test_weights_are_small_and_load_with_weights_only():
    # the one budget of the folder: every file in assets/ (weights, metrics, figures) within 14 MB (the video issue)
    total = sum(p.stat().st_size for p in REPO_ASSETS.rglob("*") if p.is_file())
    assert total <= 14 * 10**6, f"assets/ weighs {total / 10**6:.1f} MB, over 14 MB"
    model, config = load_drnet(WEIGHTS)  # torch.load(weights_only=True) inside
    assert config.data.num_digits == 1


def test_swap_content_accuracy(results):
    assert results["swap_accuracy"] >= 0.90


def test_window_ssim_does_not_regress(results):
    # regression guard at the shipped level (0.514), not the 0.70 target
    assert results["swap_window_ssim"] >= 0.49
    # the swapped digits are right but placed 1-2 px off the MNIST box: against the target drawn
    # up to 2 px off (best shift) they reach 0.708 (a diagnostic, not the exact-target number)
    assert results["swap_window_ssim_within_2px"] >= 0.70


def test_content_carries_the_digit_and_not_the_position(results):
    assert results["content_to_digit_mlp"] >= 0.90
    assert results["content_to_position_r2_mlp"] <= 0.1


def test_pose_does_not_carry_the_digit(results):
    assert results["pose_to_digit_mlp"] <= results["probe_chance"] + 0.10
    assert results["pose_to_digit_linear"] <= results["probe_chance"] + 0.10


def test_shipped_metrics_are_reproduced(results):
    shipped = json.loads(METRICS.read_text())
    for key in ("swap_accuracy", "swap_window_ssim", "swap_window_ssim_within_2px", "swap_ssim", "pose_to_digit_mlp",
                "content_to_digit_mlp"):
        assert results[key] == pytest.approx(shipped[key], abs=0.02), key
