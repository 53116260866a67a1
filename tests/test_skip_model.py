"""A skip-connection DRNet (skip=True) through every path that decodes a frame.

The content of a skip DRNet is its vector *and* the content encoder's feature
maps; every decode must carry both, from the same content frame. Each test
checks a path against the same frames decoded directly with
``model.decode(h_c, h_p, skips)``, so a path that dropped or mixed up the
maps fails (a skip decoder without maps raises; with another frame's maps it
draws another picture).
"""
from __future__ import annotations

import pytest
import torch

from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.predict import (PoseLSTM, decode_poses, encode_sequence, generate_poses, oracle_frames,
                                rollout)
from drnet_lite.swap import interpolate, reconstruct, swap_figure, swap_matrix
from drnet_lite.train_lstm import PoseBank
from drnet_lite.widgets import SwapExplorer


@pytest.fixture(scope="module")
def model() -> DRNet:
    torch.manual_seed(0)
    net = DRNet(DRNetConfig(image_size=16, channels=1, content_dim=8, pose_dim=3, width=4, skip=True))
    for p in net.parameters():  # random but not tiny weights, so that the skips visibly matter
        p.data.normal_(0, 0.3) if p.dim() > 1 else None
    return net.eval()


@pytest.fixture(scope="module")
def clips() -> torch.Tensor:
    return torch.rand(3, 6, 1, 16, 16, generator=torch.Generator().manual_seed(1))


def direct(model: DRNet, content_frames: torch.Tensor, pose_frames: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        h_c, skips = model.encode_content(content_frames)
        return model.decode(h_c, model.encode_pose(pose_frames), skips)


def test_skips_change_the_picture(model, clips):
    """The premise of every test below: the same vectors with another frame's maps decode differently."""
    with torch.no_grad():
        h_c, skips = model.encode_content(clips[:, 0])
        _, other = model.encode_content(clips[:, 1])
        h_p = model.encode_pose(clips[:, 2])
        assert (model.decode(h_c, h_p, skips) - model.decode(h_c, h_p, other)).abs().max() > 1e-3
        with pytest.raises(ValueError, match="skip"):
            model.decoder(h_c, h_p, None)


def test_swap_matrix_reconstruct_and_figure(model, clips):
    content, pose = clips[:, 0], clips[:, 3]
    swaps = swap_matrix(model, content, pose)
    assert swaps.shape == (3, 3, 1, 16, 16)
    for i in range(3):
        assert torch.allclose(swaps[i], direct(model, content[i:i + 1].expand(3, -1, -1, -1), pose), atol=1e-5)
    assert torch.allclose(reconstruct(model, content, pose), direct(model, content, pose), atol=1e-6)
    assert swap_figure(model, content, pose).shape[:2] == (4 * 16 + 5 * 2, 4 * 16 + 5 * 2)


def test_interpolation_ends_are_the_swaps(model, clips):
    a, b = clips[0, 0], clips[1, 0]
    pa, pb = clips[0, 4], clips[1, 4]
    rows = interpolate(model, a, b, pa, pb, steps=5)
    assert rows.shape == (2, 5, 1, 16, 16)
    assert torch.allclose(rows[0, 0], direct(model, a[None], pa[None])[0], atol=1e-5)
    assert torch.allclose(rows[0, -1], direct(model, a[None], pb[None])[0], atol=1e-5)
    assert torch.allclose(rows[1, -1], direct(model, b[None], pa[None])[0], atol=1e-5)  # content a -> b, maps too


def test_swap_explorer(model, clips):
    explorer = SwapExplorer(model, clips, clips.flip(0))
    frame = explorer.swap(1, 0, 4)
    assert torch.allclose(frame, direct(model, clips[1, :1], clips.flip(0)[0, 4:5])[0], atol=1e-5)
    assert isinstance(explorer.panel(0, 2, 5), bytes)


def test_encode_sequence_and_decode_poses(model, clips):
    pose, content, skips = encode_sequence(model, clips, content_time=2, with_skips=True)
    assert pose.shape == (3, 6, 3) and content.shape == (3, 8)
    frames = decode_poses(model, content, pose, skips=skips, batch=4)  # chunks that cut across clips
    for t in range(6):
        assert torch.allclose(frames[:, t], direct(model, clips[:, 2], clips[:, t]), atol=1e-5)
    assert len(encode_sequence(model, clips, content_time=2)) == 2  # the old two-item form is unchanged
    with pytest.raises(ValueError, match="skip connections"):
        decode_poses(model, content, pose)


def test_rollout_and_oracle(model, clips):
    torch.manual_seed(0)
    lstm = PoseLSTM(3, 8, hidden_size=8, num_layers=1).eval()
    observed, future = clips[:, :4], clips[:, 4:]
    result = rollout(model, lstm, observed, horizon=5)
    assert result.frames.shape == (3, 5, 1, 16, 16)
    _, content, skips = encode_sequence(model, observed, content_time=-1, with_skips=True)
    expected_pose = generate_poses(lstm, encode_sequence(model, observed, -1)[0], content, 5)
    assert torch.allclose(result.pose, expected_pose)
    with torch.no_grad():
        expected = torch.stack([model.decode(content, result.pose[:, k], skips) for k in range(5)], 1)
    assert torch.allclose(result.frames, expected, atol=1e-5)
    assert torch.allclose(result.decode(model), result.frames)
    oracle = oracle_frames(model, result.content, future, skips=result.skips)
    for k in range(2):
        assert torch.allclose(oracle[:, k], direct(model, observed[:, -1], future[:, k]), atol=1e-5)


def test_pose_bank_on_a_skip_model(model):
    class Frames:  # a source of fixed random clips
        def sample(self, n, generator=None, times=None):
            frames = torch.rand(n, times.shape[1], 1, 16, 16, generator=generator)
            return type("Clips", (), {"frames": frames, "times": times})()

    bank = PoseBank.build(model, Frames(), clips=5, length=7, seed=0, batch=2)
    assert bank.pose.shape == (5, 7, 3) and bank.content.shape == (5, 7, 8)
    g = torch.Generator().manual_seed(0)
    regenerated = Frames().sample(2, generator=g, times=torch.arange(7).expand(2, -1)).frames
    pose, content = encode_sequence(model, regenerated, content_time=3)
    assert torch.allclose(bank.pose[:2], pose, atol=1e-5) and torch.allclose(bank.content[:2, 3], content, atol=1e-5)
    pose_w, content_w = bank.windows(4, 5, 2, torch.Generator().manual_seed(0))
    assert pose_w.shape == (4, 5, 3) and content_w.shape == (4, 8)
