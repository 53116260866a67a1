"""Pose-dimension sliders: the pure drawing functions and the widget that calls them."""
from __future__ import annotations

import pytest
import torch

from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.pose_explorer import PoseExplorer
from drnet_lite.viz import frame_grid, png_bytes


@pytest.fixture(scope="module")
def explorer():
    torch.manual_seed(0)
    config = DRNetConfig(image_size=32, channels=1, content_dim=8, pose_dim=3, width=4)
    model = DRNet(config).eval()
    # the decoder ignores pose dimension 1: its input weights are zero
    with torch.no_grad():
        model.decoder.project[0].weight[config.content_dim + 1] = 0
    frames = torch.rand(2, 1, 32, 32)
    return PoseExplorer(model, frames[0], frames[1], scale=2), model, frames


def test_start_pose_is_the_pose_frames_and_decoding_it_is_the_swap(explorer):
    pose_explorer, model, frames = explorer
    with torch.no_grad():
        torch.testing.assert_close(pose_explorer.start, model.encode_pose(frames[1:2])[0])
        swap = model(frames[0:1], frames[1:2])[0]
    torch.testing.assert_close(pose_explorer.decode(pose_explorer.start), swap)
    expected = png_bytes(frame_grid(torch.stack([frames[0], frames[1], swap])), scale=2)
    assert pose_explorer.panel(pose_explorer.start) == expected


def test_sweep_sets_one_coordinate_and_effects_find_the_ignored_dimension(explorer):
    pose_explorer, _, _ = explorer
    strip = pose_explorer.sweep(0, values=(-1.0, 1.0))
    assert strip.shape == (2, 1, 32, 32)
    pose = pose_explorer.start.clone()
    pose[0] = 1.0
    torch.testing.assert_close(strip[1], pose_explorer.decode(pose))
    effects = pose_explorer.effects()
    assert effects.shape == (3,)
    assert effects[1] == 0 and effects[0] > 0 and effects[2] > 0
    with pytest.raises(ValueError, match="3 values"):
        pose_explorer.decode([0.0, 0.0])
    with pytest.raises(IndexError):
        pose_explorer.sweep(3)


def test_widget_one_slider_per_dimension_starting_at_the_frames_pose(explorer):
    pytest.importorskip("ipywidgets")
    pose_explorer, _, _ = explorer
    box = pose_explorer.widget()
    assert len(box.sliders) == 3
    assert [s.value for s in box.sliders] == pytest.approx(pose_explorer.start.tolist(), abs=1e-6)
    start_png = box.image.value
    box.sliders[0].value = -0.5
    values = [s.value for s in box.sliders]
    assert box.image.value == pose_explorer.panel(values) != start_png
    box.reset.click()
    assert box.image.value == start_png
    assert box.sliders[0].value == pytest.approx(pose_explorer.start[0].item(), abs=1e-6)



def _notebook_06_cell() -> str:
    """The pose-slider cell of notebook 06, read from the notebook itself."""
    import json
    from pathlib import Path

    notebook = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "06_swap.ipynb").read_text())
    found = [''.join(c["source"]) for c in notebook["cells"]
             if c["cell_type"] == "code" and "PoseExplorer(" in ''.join(c["source"])]
    assert len(found) == 1, f"notebook 06 should have one PoseExplorer cell, has {len(found)}"
    return found[0]


def test_the_notebook_06_cell_on_the_shipped_model(mnist_root):
    pytest.importorskip("ipywidgets")
    from drnet_lite.assets import asset_path
    from drnet_lite.data import MovingMNIST
    from drnet_lite.experiments.moving_mnist import test_config
    from drnet_lite.train import load_drnet

    try:
        model, config = load_drnet(asset_path("mnist-lite.pt"))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    clips = MovingMNIST(test_config(config.data), root=mnist_root).sample(16, seed=7)
    shown = []
    namespace = dict(PoseExplorer=PoseExplorer, model=model, clips=clips, torch=torch, frame_grid=frame_grid,
                     show=lambda image, title=None: shown.append(image), display=shown.append)
    exec(_notebook_06_cell(), namespace)
    box = namespace["pose_box"]
    assert shown[0].shape[0] > shown[0].shape[1]  # 10 rows of 5 sweeps
    assert len(box.sliders) == config.model.pose_dim == 10
    assert (namespace["effects"] > 0).all()  # measured on the shipped model: every dimension changes the frame
