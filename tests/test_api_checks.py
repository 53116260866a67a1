"""The Python API refuses what the command line refuses: configs of the wrong kind, a 0-step fit's
checkpoint, digits in [0, 255] and fractional positions."""
from __future__ import annotations

import pytest
import torch

from drnet_lite.checkpoint import load_checkpoint
from drnet_lite.data.moving_mnist import render
from drnet_lite.models import DRNetConfig
from drnet_lite.presets import PRESETS, preset
from drnet_lite.train import fit, load_drnet


@pytest.mark.parametrize("override, words", [
    ({"width": 8.5}, "width must be a whole number, got 8.5"),
    ({"steps": "3"}, "steps must be a whole number, got '3'"),
    ({"lr": "1e-3"}, "lr must be a number, got '1e-3'"),
    ({"amp": "yes"}, "amp must be True or False"),
    ({"skip": 1}, "skip must be True or False"),
    ({"batch_size": 1}, "batch_size must be at least 2"),  # values are checked when the preset is made, too
])
def test_preset_names_the_bad_value(override, words):
    with pytest.raises(ValueError, match=words):
        preset("mnist-lite", **override)


def test_every_preset_passes_and_numbers_of_other_int_kinds_do():
    for name in PRESETS:
        preset(name)
    assert preset("mnist-lite", lr=1, steps=torch.tensor(3).item()).lr == 1
    with pytest.raises(ValueError, match="pose_dim must be a whole number"):
        DRNetConfig(pose_dim=2.0)


def test_a_fit_of_0_steps_writes_the_checkpoint_it_returns(tmp_path, mnist_root):
    config = preset("mnist-lite", steps=0, width=4, batch_size=2, device="cpu", image_size=32, digit_size=16)
    result = fit(config, tmp_path / "run", data_root=mnist_root, progress=False)
    assert result.checkpoint.is_file() and result.step == 0
    payload = load_checkpoint(result.checkpoint)
    assert payload["step"] == 0 and payload["history"] == []
    model, _ = load_drnet(result.checkpoint)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), result.model.state_dict().values()))


def test_render_refuses_0_to_255_digits_and_fractional_positions():
    digits = torch.rand(1, 1, 4, 4)
    positions = torch.zeros(1, 2, 1, 2, dtype=torch.int64)
    assert render(digits, positions, 8).shape == (1, 2, 1, 8, 8)
    with pytest.raises(ValueError, match="digits must lie in \\[0, 1\\], got values from .* to .*; divide by 255"):
        render(digits * 255, positions, 8)
    with pytest.raises(ValueError, match="digits must be float images"):
        render((digits * 255).to(torch.uint8), positions, 8)
    with pytest.raises(ValueError, match="positions must be whole pixels"):
        render(digits, positions.float() + 0.5, 8)
    assert torch.equal(render(digits, positions.float() + 2, 8), render(digits, positions + 2, 8))  # whole floats


@pytest.mark.parametrize("base", ["video-64", "turntable-lite"])
def test_ablations_of_a_source_without_digits_are_refused_before_training(tmp_path, base):
    from drnet_lite.ablations import run_ablations

    with pytest.raises(ValueError, match=f"need a Moving MNIST preset .*mnist-lite.*; '{base}' trains on"):
        run_ablations(base=base, names=["full"], out_root=tmp_path / "runs", steps=1)
    assert not (tmp_path / "runs").exists()
