import math

import pytest
import torch
from skimage.metrics import structural_similarity

from drnet_lite.data import render
from drnet_lite.metrics import best_pairing_scores, crop_windows, psnr, psnr_where, ssim, swap_targets, window_scores


@pytest.fixture()
def grey_pair(moving_mnist):
    data = moving_mnist(split="test", num_digits=2, seq_len=2)
    a = data.sample(20, seed=1)
    b = data.sample(20, seed=2)
    return data, a, b


def test_ssim_matches_scikit_image():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 40, 48)
    y = (0.7 * x + 0.3 * torch.rand_like(x)).clamp(0, 1)
    ours = ssim(x, y)
    for i in range(4):
        ref = structural_similarity(x[i, 0].double().numpy(), y[i, 0].double().numpy(), gaussian_weights=True,
                                    sigma=1.5, use_sample_covariance=False, data_range=1.0)
        assert ours[i].item() == pytest.approx(ref, abs=1e-5)


def test_psnr_by_hand():
    x = torch.zeros(1, 1, 4, 4)
    y = torch.full((1, 1, 4, 4), 0.1)
    assert psnr(x, y).item() == pytest.approx(20.0, abs=1e-4)  # 10 log10(1 / 0.01)
    assert math.isinf(psnr(x, x).item())


def test_exact_target_scores_perfectly(grey_pair):
    data, a, b = grey_pair
    targets = swap_targets(a.digits, b.positions[:, 0], 64, "grey")
    scores = best_pairing_scores(targets[0], targets, b.positions[:, 0], 28)
    assert torch.isinf(scores["psnr"]).all() and torch.isinf(scores["window_psnr"]).all()
    assert torch.allclose(scores["ssim"], torch.ones(20)) and torch.allclose(scores["window_ssim"], torch.ones(20))


def test_digit_permuted_target_scores_perfectly_under_best_pairing(grey_pair):
    data, a, b = grey_pair
    swapped_digits = a.digits.flip(1)  # digit 0 drawn where digit 1 should be, and vice versa
    output = render(swapped_digits, b.positions[:, :1], 64, "grey")[:, 0]
    targets = swap_targets(a.digits, b.positions[:, 0], 64, "grey")
    assert len(targets) == 2
    scores = best_pairing_scores(output, targets, b.positions[:, 0], 28)
    assert torch.allclose(scores["window_ssim"], torch.ones(20))
    assert (scores["pairing"] == 1).all()


def test_blank_frame_scores_high_on_the_whole_frame_but_low_on_the_windows(moving_mnist):
    data = moving_mnist(split="test", num_digits=1, seq_len=1)
    clips = data.sample(50, seed=3)
    target = clips.frames[:, 0]
    blank = torch.zeros_like(target)
    whole = ssim(blank, target).mean().item()
    windows = window_scores(blank, target, clips.positions[:, 0], 28)["ssim"].mean().item()
    assert whole > 0.6 and windows < 0.35, (whole, windows)
    blurred_by_shift = torch.roll(target, 1, dims=-1)
    assert window_scores(blurred_by_shift, target, clips.positions[:, 0], 28)["ssim"].mean() > windows


def test_crop_windows_returns_the_boxes():
    frames = torch.arange(2 * 3 * 10 * 10, dtype=torch.float32).view(2, 3, 10, 10)
    positions = torch.tensor([[[1, 2]], [[5, 0]]])
    boxes = crop_windows(frames, positions, 4)
    assert boxes.shape == (2, 1, 3, 4, 4)
    assert torch.equal(boxes[0, 0], frames[0, :, 1:5, 2:6])
    assert torch.equal(boxes[1, 0], frames[1, :, 5:9, 0:4])


def test_per_digit_mode_has_one_pairing(moving_mnist):
    data = moving_mnist(split="test", num_digits=2, seq_len=1, channels="per-digit")
    a, b = data.sample(4, seed=0), data.sample(4, seed=1)
    assert len(swap_targets(a.digits, b.positions[:, 0], 64, "per-digit")) == 1


def test_per_digit_windows_read_only_their_own_channel(moving_mnist):
    data = moving_mnist(split="test", num_digits=2, seq_len=1, channels="per-digit")
    clips = data.sample(30, seed=4)
    target = clips.frames[:, 0]
    wrong_channel = target.flip(1)  # each digit drawn in the other digit's channel
    own = window_scores(wrong_channel, target, clips.positions[:, 0], 28, channels="per-digit")["ssim"].mean()
    assert own < 0.35


def test_shift_tolerant_window_ssim_forgives_a_small_misplacement_only(moving_mnist):
    from drnet_lite.data.moving_mnist import render
    from drnet_lite.metrics import shift_tolerant_window_ssim, window_scores

    data = moving_mnist(num_digits=1, split="test", seq_len=1)
    clips = data.sample(20, seed=4)
    positions = clips.positions[:, 0].clamp(3, 33)  # room to move 2 px either way
    exact = render(clips.digits, positions[:, None], 64)[:, 0]
    moved = render(clips.digits, (positions + torch.tensor([1, -2]))[:, None], 64)[:, 0]
    assert torch.allclose(shift_tolerant_window_ssim(exact, clips.digits, positions, 64), torch.ones(20))
    # a digit 1 px down and 2 px left: the exact score drops, the tolerant one forgives it ...
    assert window_scores(moved, exact, positions, 28)["ssim"].mean() < 0.4
    assert torch.allclose(shift_tolerant_window_ssim(moved, clips.digits, positions, 64), torch.ones(20))
    # ... but not 3 px, a blank frame or another digit in the right place
    far = render(clips.digits, (positions + torch.tensor([3, 0]))[:, None], 64)[:, 0]
    assert shift_tolerant_window_ssim(far, clips.digits, positions, 64).mean() < 0.8
    assert shift_tolerant_window_ssim(torch.zeros_like(exact), clips.digits, positions, 64).mean() < 0.2
    other = render(clips.digits.roll(1, 0), positions[:, None], 64)[:, 0]
    assert shift_tolerant_window_ssim(other, clips.digits, positions, 64).mean() < 0.35


def test_psnr_where_scores_only_the_masked_pixels():
    target = torch.zeros(3, 2, 4, 4)
    guess = target.clone()
    guess[:, :, 0, 0] = 0.1   # wrong by 0.1 at one pixel of every frame
    guess[:, :, 3, 3] = 0.5   # and by 0.5 at another
    mask = torch.zeros(3, 1, 4, 4, dtype=torch.bool)
    mask[0, 0, 0, 0] = True                         # frame 0: only the small error
    mask[1, 0, 0, 0] = mask[1, 0, 3, 3] = True       # frame 1: both
    values = psnr_where(guess, target, mask)         # frame 2: no pixel to score
    assert values[0].item() == pytest.approx(20.0, abs=1e-4)                          # MSE 0.01
    assert values[1].item() == pytest.approx(10 * math.log10(1 / 0.13), abs=1e-4)    # MSE (0.01 + 0.25) / 2
    assert math.isnan(values[2].item())
    full = torch.ones(3, 1, 4, 4, dtype=torch.bool)
    assert torch.allclose(psnr_where(guess, target, full), psnr(guess, target))
