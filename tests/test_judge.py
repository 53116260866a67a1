import pytest
import torch

from drnet_lite.data import render
from drnet_lite.judge import DEFAULT_JUDGE, crop_digits, judge_accuracy, load_judge, read_digits


def test_crop_digits_cuts_exactly_the_rendered_boxes():
    torch.manual_seed(0)
    digits = torch.rand(3, 2, 28, 28)
    positions = torch.tensor([[[0, 0], [36, 36]], [[10, 20], [5, 1]], [[36, 0], [0, 36]]])[:, None]  # (B, 1, K, 2)
    frames = render(digits, positions, 64, channels="per-digit")[:, 0]
    crops = crop_digits(frames, positions[:, 0], 28, channels="per-digit")
    assert crops.shape == (3, 2, 1, 28, 28)
    assert torch.equal(crops[:, :, 0], digits)


def test_crop_digits_resizes_other_digit_sizes():
    frames = torch.zeros(2, 1, 64, 64)
    frames[:, :, 10:42, 10:42] = 1.0
    crops = crop_digits(frames, torch.tensor([[[10, 10]], [[10, 10]]]), 32)
    assert crops.shape == (2, 1, 1, 28, 28) and torch.allclose(crops, torch.ones_like(crops))


@pytest.mark.skipif(not DEFAULT_JUDGE.is_file(), reason="shipped judge weights missing")
def test_shipped_judge_reaches_99_percent_on_mnist_test(mnist_root):
    judge = load_judge()
    assert judge_accuracy(judge, "test", root=mnist_root) >= 0.99


@pytest.mark.skipif(not DEFAULT_JUDGE.is_file(), reason="shipped judge weights missing")
def test_judge_reads_digits_placed_in_frames(moving_mnist):
    data = moving_mnist(split="test", num_digits=1, seq_len=3)
    clips = data.sample(200, seed=0)
    reading = read_digits(load_judge(), clips.frames[:, 2], clips.positions[:, 2], 28)
    assert (reading == clips.labels).float().mean() > 0.97
