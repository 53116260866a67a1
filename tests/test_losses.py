import math

import pytest
import torch

from drnet_lite.losses import (
    adversarial_loss,
    motion_weights,
    other_scene_partner,
    same_scene_partner,
    reconstruction_loss,
    scene_discriminator_loss,
    shuffled_partner,
    similarity_loss,
    weighted_reconstruction_loss,
)


def test_reconstruction_loss_by_hand():
    pred = torch.tensor([[0.0, 1.0], [0.5, 0.5]])
    target = torch.tensor([[0.0, 0.0], [1.0, 0.5]])
    # squared errors 0, 1, 0.25, 0 -> mean 0.3125
    assert reconstruction_loss(pred, target).item() == pytest.approx(0.3125)
    with pytest.raises(ValueError, match="shape"):
        reconstruction_loss(pred, target[:1])


def test_similarity_loss_by_hand_and_target_is_detached():
    h1 = torch.tensor([[1.0, -1.0]], requires_grad=True)
    h2 = torch.tensor([[0.0, 1.0]], requires_grad=True)
    loss = similarity_loss(h1, h2)
    assert loss.item() == pytest.approx((1 + 4) / 2)
    loss.backward()
    assert h2.grad is None
    assert torch.allclose(h1.grad, torch.tensor([[1.0, -2.0]]))  # d/dh1 mean((h1-h2)^2) = (h1-h2)


def test_perfect_discriminator_has_accuracy_one_and_near_zero_loss():
    same = torch.full((8,), 20.0)
    shuffled = torch.full((8,), -20.0)
    loss, accuracy = scene_discriminator_loss(same, shuffled)
    assert accuracy.item() == 1.0
    assert loss.item() < 1e-8


def test_discriminator_labels_same_clip_as_one():
    # a discriminator that says "same" for everything is right on exactly half the pairs
    loss, accuracy = scene_discriminator_loss(torch.full((4,), 5.0), torch.full((4,), 5.0))
    assert accuracy.item() == 0.5
    # the inverted labelling of the reference code would score 0 on a perfect C
    _, inverted = scene_discriminator_loss(torch.full((4,), -5.0), torch.full((4,), 5.0))
    assert inverted.item() == 0.0


def test_discriminator_loss_by_hand():
    loss, _ = scene_discriminator_loss(torch.zeros(3), torch.zeros(3))
    assert loss.item() == pytest.approx(math.log(2))


def test_adversarial_loss_is_minimal_at_one_half():
    logits = torch.linspace(-4, 4, 81)
    values = torch.stack([adversarial_loss(l.view(1)) for l in logits])
    best = logits[values.argmin()]
    assert best.item() == pytest.approx(0.0, abs=1e-6)
    assert values.min().item() == pytest.approx(math.log(2))
    z = torch.zeros(5, requires_grad=True)
    adversarial_loss(z).backward()
    assert torch.allclose(z.grad, torch.zeros(5), atol=1e-7)


def test_shuffled_partner_never_pairs_a_clip_with_itself():
    pose = torch.arange(6.0)[:, None]
    for shift in range(1, 6):
        partner = shuffled_partner(pose, shift)
        assert torch.all(partner != pose)
        assert sorted(partner.flatten().tolist()) == pose.flatten().tolist()
    with pytest.raises(ValueError):
        shuffled_partner(pose, 0)
    with pytest.raises(ValueError, match="at least 2"):
        shuffled_partner(pose[:1], 1)


def test_motion_weights_are_one_where_nothing_moved_and_grow_with_the_change():
    content = torch.zeros(2, 3, 4, 4)
    pose = content.clone()
    pose[0, :, 1, 2] = 1.0  # one pixel lit in all three channels of clip 0
    pose[1, 0, 3, 3] = 0.6  # one pixel changed in one channel of clip 1: mean over channels 0.2
    weights = motion_weights(pose, content, strength=4.0)
    assert weights.shape == (2, 1, 4, 4)
    expected = torch.ones(2, 1, 4, 4)
    expected[0, 0, 1, 2] = 5.0
    expected[1, 0, 3, 3] = 1.0 + 4.0 * 0.2
    assert torch.allclose(weights, expected)
    assert torch.equal(motion_weights(pose, content, 0.0), torch.ones(2, 1, 4, 4))
    with pytest.raises(ValueError, match="motion weight must be >= 0"):
        motion_weights(pose, content, -1.0)


def test_weighted_reconstruction_loss_is_the_weighted_mean_and_plain_mse_with_equal_weights():
    g = torch.Generator().manual_seed(0)
    recon, target = torch.rand(3, 2, 5, 5, generator=g), torch.rand(3, 2, 5, 5, generator=g)
    assert torch.allclose(weighted_reconstruction_loss(recon, target, torch.full((3, 1, 5, 5), 7.0)),
                          reconstruction_loss(recon, target))
    weights = torch.ones(3, 1, 5, 5)
    weights[0, 0, 0, 0] = 11.0  # one pixel counts 11 times
    err = (recon - target).square()
    by_hand = (err.sum() + 10.0 * err[0, :, 0, 0].sum()) / (weights.sum() * 2)
    assert torch.allclose(weighted_reconstruction_loss(recon, target, weights), by_hand)


def test_other_scene_partner_never_pairs_a_clip_with_its_own_scene():
    g = torch.Generator().manual_seed(0)
    for batch, scenes in ((32, 12), (8, 2), (5, 5), (64, 3)):
        for _ in range(50):
            scene = torch.randint(scenes, (batch,), generator=g)
            if scene.unique().numel() < 2:
                continue
            index = other_scene_partner(scene, generator=g)
            assert index.shape == (batch,) and index.dtype == torch.long
            assert bool((scene[index] != scene).all())  # exact: no pair shares its scene


def test_other_scene_partner_draws_uniformly_among_the_other_scenes():
    scene = torch.tensor([0, 0, 1, 1, 1, 2])  # row 0 may take rows 2..5 (4 rows), each 1/4 of the time
    g = torch.Generator().manual_seed(1)
    counts = torch.zeros(6)
    for _ in range(4000):
        counts += torch.bincount(other_scene_partner(scene, generator=g)[:1], minlength=6)
    assert counts[:2].sum() == 0
    assert torch.allclose(counts[2:] / 4000, torch.full((4,), 0.25), atol=0.03)


def test_other_scene_partner_falls_back_to_another_clip_when_the_batch_has_one_scene():
    index = other_scene_partner(torch.tensor([3, 3, 3, 3]))
    assert index.tolist() == [3, 0, 1, 2]  # roll by 1, as shuffled_partner(pose, 1)
    pose = torch.arange(4.0)[:, None]
    assert torch.equal(pose[index], shuffled_partner(pose, 1))
    with pytest.raises(ValueError, match="at least 2"):
        other_scene_partner(torch.tensor([0]))
    with pytest.raises(ValueError, match="one per clip"):
        other_scene_partner(torch.zeros(2, 2, dtype=torch.long))


def test_same_scene_partner_pairs_another_clip_of_the_same_scene_or_keeps_its_own():
    g = torch.Generator().manual_seed(3)
    for _ in range(100):
        scene = torch.randint(6, (16,), generator=g)
        index = same_scene_partner(scene, generator=g)
        assert bool((scene[index] == scene).all())  # exact: always the same scene
        alone = torch.tensor([int((scene == s).sum()) == 1 for s in scene])
        rows = torch.arange(16)
        assert bool((index[alone] == rows[alone]).all())  # the only clip of its scene keeps itself
        assert bool((index[~alone] != rows[~alone]).all())  # every other row takes another clip
