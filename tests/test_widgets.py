import pytest
import torch

from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.swap import interpolate, pca_2d, swap_matrix
from drnet_lite.widgets import SwapExplorer


def _explorer(skip=False):
    torch.manual_seed(0)
    model = DRNet(DRNetConfig(image_size=32, width=4, content_dim=6, pose_dim=3, skip=skip)).eval()
    content = torch.rand(3, 4, 1, 32, 32)
    pose = torch.rand(2, 5, 1, 32, 32)
    return model, content, pose, SwapExplorer(model, content, pose, scale=2)


def test_panel_is_png_and_matches_the_swap_matrix():
    model, content, pose, explorer = _explorer(skip=True)
    png = explorer.panel(2, 1, 3)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    expected = swap_matrix(model, content[:, 0], pose[:, 3])[2, 1]
    assert torch.allclose(explorer.swap(2, 1, 3), expected, atol=1e-6)


def test_sliders_redraw_the_image_with_the_pure_function():
    _, _, _, explorer = _explorer()
    box = explorer.widget()
    content, pose, time = box.sliders
    first = box.image.value
    assert first == explorer.panel(0, 0, 0)
    time.value = 4
    assert box.image.value != first
    assert box.image.value == explorer.panel(0, 0, 4)
    content.value, pose.value = 2, 1
    assert box.image.value == explorer.panel(2, 1, 4)


def test_out_of_range_index_is_a_clear_error():
    _, _, _, explorer = _explorer()
    with pytest.raises(IndexError, match="content_index"):
        explorer.panel(5, 0, 0)


def test_interpolation_ends_at_the_codes():
    model, content, pose, _ = _explorer()
    lines = interpolate(model, content[0, 0], content[1, 0], pose[0, 0], pose[1, 0], steps=5)
    assert lines.shape == (2, 5, 1, 32, 32)
    ends = swap_matrix(model, content[:2, 0], pose[:2, 0])
    assert torch.allclose(lines[0, 0], ends[0, 0], atol=1e-5) and torch.allclose(lines[0, -1], ends[0, 1], atol=1e-5)
    assert torch.allclose(lines[1, -1], ends[1, 0], atol=1e-5)


def test_pca_2d_finds_the_main_direction():
    torch.manual_seed(0)
    t = torch.randn(200, 1)
    vectors = torch.cat([5 * t, 0.1 * torch.randn(200, 3)], dim=1)
    projected = pca_2d(vectors)
    assert projected.shape == (200, 2)
    assert abs(torch.corrcoef(torch.stack([projected[:, 0], t[:, 0]]))[0, 1]) > 0.99


def _rollout_explorer():
    from drnet_lite.widgets import RolloutExplorer

    torch.manual_seed(1)
    truth, predicted = torch.rand(2, 9, 1, 16, 16), torch.rand(2, 6, 1, 16, 16)
    return truth, predicted, RolloutExplorer(truth, predicted, observed=3, scale=2)


def test_rollout_panel_shows_truth_and_prediction():
    truth, predicted, explorer = _rollout_explorer()
    assert explorer.steps == 9
    frames = explorer.frames(5)
    assert torch.equal(frames[:, 0], truth[:, 5]) and torch.equal(frames[:, 1], predicted[:, 2])
    assert torch.equal(explorer.frames(1)[:, 1], truth[:, 1])  # observed steps: the prediction column shows the input
    assert explorer.panel(5)[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(IndexError):
        explorer.panel(9)
    from drnet_lite.widgets import RolloutExplorer

    with pytest.raises(ValueError, match="observed frames"):
        RolloutExplorer(truth, predicted, observed=2)


def test_rollout_slider_redraws_with_the_pure_function():
    _, _, explorer = _rollout_explorer()
    box = explorer.widget()
    (time,) = box.sliders
    assert box.image.value == explorer.panel(3)  # starts at the first predicted step
    time.value = 8
    assert box.image.value == explorer.panel(8) and box.image.value != explorer.panel(3)


def test_toggle_switches_between_explorers_with_their_own_sliders():
    from drnet_lite.widgets import explorer_toggle

    _, _, _, one = _explorer()
    torch.manual_seed(1)
    two_model = DRNet(DRNetConfig(image_size=32, channels=2, width=4, content_dim=6, pose_dim=3)).eval()
    two = SwapExplorer(two_model, torch.rand(3, 4, 2, 32, 32), torch.rand(2, 5, 2, 32, 32), scale=2)
    box = explorer_toggle({"one digit": one, "two digits": two})
    assert box.children[1] is box.panels["one digit"]
    box.panels["one digit"].sliders[2].value = 3
    box.toggle.value = "two digits"
    assert box.children[1] is box.panels["two digits"]
    assert box.children[1].image.value == two.panel(0, 0, 0)
    box.toggle.value = "one digit"
    assert box.children[1].image.value == one.panel(0, 0, 3)
    with pytest.raises(ValueError, match="at least one"):
        explorer_toggle({})
