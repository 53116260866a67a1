"""The scene discriminator's options: partners from another scene, several updates per step, the siamese comparator."""
import dataclasses

import pytest
import torch

import drnet_lite.train as train_module
from drnet_lite.data.source import scene_labels
from drnet_lite.data.turntable import Turntable, TurntableConfig
from drnet_lite.models import DRNet, DRNetConfig, SceneDiscriminator
from drnet_lite.presets import preset
from drnet_lite.train import fit

DATA = TurntableConfig(image_size=16, seq_len=6, instances=2, azimuth_steps=6, elevations=(10.0, 30.0))


def test_turntable_clips_name_their_toy_as_the_scene():
    clips = Turntable(DATA).sample(5, seed=3)
    assert torch.equal(scene_labels(clips), clips.object_id)
    assert scene_labels(object()) is None  # a batch without scene labels


def test_siamese_discriminator_is_symmetric_and_trains_to_tell_same_scene_pairs():
    torch.manual_seed(0)
    disc = SceneDiscriminator(4, 32, kind="siamese")
    a, b = torch.randn(6, 4), torch.randn(6, 4)
    assert torch.allclose(disc(a, b), disc(b, a))
    # pose vectors that are a scene's code plus noise: same-scene pairs vs other-scene pairs
    codes = torch.randn(8, 4)
    opt = torch.optim.Adam(disc.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(1)
    for _ in range(300):
        scene = torch.randint(8, (64,), generator=g)
        other = (scene + torch.randint(1, 8, (64,), generator=g)) % 8
        x, y, z = (codes[s] + 0.1 * torch.randn(64, 4, generator=g) for s in (scene, scene, other))
        loss = torch.nn.functional.softplus(-disc(x, y)).mean() + torch.nn.functional.softplus(disc(x, z)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        accuracy = ((disc(x, y) > 0).float().mean() + (disc(x, z) <= 0).float().mean()) / 2
    assert accuracy > 0.95
    with pytest.raises(ValueError, match="discriminator"):
        DRNetConfig(discriminator="transformer")


def test_model_with_a_siamese_discriminator_round_trips_its_config():
    config = DRNetConfig(image_size=16, width=4, content_dim=8, pose_dim=3, discriminator="siamese")
    model = DRNet(config)
    again = DRNet(DRNetConfig(**config.to_dict()))
    again.load_state_dict(model.state_dict())
    assert again.scene_discriminator.kind == "siamese"


def test_training_with_scene_partners_never_pairs_a_clip_with_its_own_toy(monkeypatch):
    seen, same = [], []

    def spy(original, record):
        def wrapped(scene, generator=None):
            index = original(scene, generator)
            record.append((scene.clone(), index.clone()))
            return index
        return wrapped

    monkeypatch.setattr(train_module, "other_scene_partner", spy(train_module.other_scene_partner, seen))
    monkeypatch.setattr(train_module, "same_scene_partner", spy(train_module.same_scene_partner, same))
    config = preset("turntable-lite", image_size=16, seq_len=6, instances=2, azimuth_steps=6, width=4, content_dim=8,
                    pose_dim=3, batch_size=8, max_step=3, steps=4, log_every=2, partner="scene",
                    discriminator="siamese", discriminator_steps=2, scene_positives=True, device="cpu")
    result = fit(config, progress=False)
    assert result.step == 4 and len(seen) == 4 and len(same) == 4
    for scene, index in same:
        assert bool((scene[index] == scene).all())
    for scene, index in seen:
        if scene.unique().numel() > 1:
            assert bool((scene[index] != scene).all())
    assert all(torch.isfinite(torch.tensor(row["scene"])) for row in result.history)


def test_old_configs_without_the_new_fields_load_with_the_paper_defaults():
    config = preset("turntable-lite")
    d = config.to_dict()
    for key in ("partner", "discriminator_steps", "scene_positives"):
        d.pop(key)
    d["model"].pop("discriminator")
    d["model"].pop("discriminator_norm")
    again = train_module.TrainConfig.from_dict(d)
    assert (again.partner, again.discriminator_steps, again.scene_positives, again.model.discriminator) == ("clip", 1, False, "mlp")
    assert dataclasses.replace(again, partner="scene").partner == "scene"


def test_normalised_discriminator_sees_a_pose_dimension_shrunk_towards_zero():
    torch.manual_seed(0)
    plain, normed = SceneDiscriminator(2, 16), SceneDiscriminator(2, 16, normalize=True)
    pose = torch.randn(64, 2)
    tiny = pose * torch.tensor([1e-3, 1.0])  # dimension 0 shrunk 1,000 times
    normed.train()
    a, b = normed(tiny, tiny.roll(1, 0)), normed(pose, pose.roll(1, 0))
    assert torch.allclose(a, b, atol=1e-3)  # standardised over the batch: the scale of a dimension does not matter
    # the plain C hardly sees the shrunk dimension: its output barely depends on it
    changed = tiny.clone()
    changed[:, 0] = -changed[:, 0]
    assert (plain(tiny, tiny) - plain(changed, changed)).abs().max() < 1e-3
    assert (normed(tiny, tiny) - normed(changed, changed)).abs().max() > 1e-2
    model = DRNet(DRNetConfig(image_size=16, width=4, content_dim=8, pose_dim=3, discriminator_norm=True))
    assert model.scene_discriminator.norm is not None and model.scene_discriminator.norm.weight is None
