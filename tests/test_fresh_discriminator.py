"""The fresh scene discriminator on frozen pose pairs: it reads a leak, sees nothing in a clean pose, and
(standardising its input) is not fooled by a leak hidden in a tiny scale. The motion floor names a scene
from where things move."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from drnet_lite.evaluate_frames import fresh_scene_discriminator, motion_scene_floor


def _pose_pairs(clips: int, leak: bool, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    """(clips, 2, 6): 2 numbers new in every frame, then 4 fixed per clip (leak) or new per frame (clean)."""
    g = torch.Generator().manual_seed(seed)
    position = torch.rand(clips, 2, 2, generator=g) * 2 - 1
    identity = torch.rand(clips, 1, 4, generator=g) * 2 - 1
    rest = identity.expand(clips, 2, 4) if leak else torch.rand(clips, 2, 4, generator=g) * 2 - 1
    return torch.cat([position, rest], dim=2) * scale


@pytest.mark.parametrize("normalize", [False, True])
def test_a_leak_is_read_and_a_clean_pose_is_not(normalize):
    leaky = fresh_scene_discriminator(_pose_pairs(2000, leak=True), 1500, 6, 100, steps=400, normalize=normalize)
    clean = fresh_scene_discriminator(_pose_pairs(2000, leak=False), 1500, 6, 100, steps=400, normalize=normalize)
    assert leaky > 0.9
    assert 0.4 < clean < 0.6


def test_a_leak_hidden_in_a_tiny_scale_fools_the_plain_C_only():
    tiny = _pose_pairs(2000, leak=True, scale=1e-4)
    assert fresh_scene_discriminator(tiny, 1500, 6, 100, steps=400) < 0.6
    assert fresh_scene_discriminator(tiny, 1500, 6, 100, steps=400, normalize=True) > 0.9


class _QuadrantScenes:
    """Clips whose scene says in which quadrant a bright square moves (and nothing else differs)."""

    seq_len = 8

    def sample(self, count, generator=None, times=None):
        scene = torch.randint(0, 4, (count,), generator=generator)
        frames = torch.zeros(count, times.shape[1], 1, 16, 16)
        for b in range(count):  # a test fixture: a few hundred tiny clips
            top, left = 8 * (int(scene[b]) // 2), 8 * (int(scene[b]) % 2)
            for i, t in enumerate(times[b].tolist()):
                frames[b, i, 0, top + 2:top + 5, left + t % 5:left + t % 5 + 3] = 1.0
        return SimpleNamespace(frames=frames, scene=scene)


def test_the_motion_floor_names_a_scene_from_where_things_move():
    floor = motion_scene_floor(_QuadrantScenes(), clips=400, grid=2, apart=1)
    assert 0.2 < floor["chance"] < 0.35
    assert floor["moved_mask_2x2_to_scene_mlp"] > 0.95          # where it moved names the quadrant
    assert floor["moved_share_to_scene_mlp"] < 0.45               # how much moved is the same in every scene
    with pytest.raises(ValueError, match="apart=8"):
        motion_scene_floor(_QuadrantScenes(), clips=10, apart=8)
