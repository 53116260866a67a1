import math

import pytest
import torch

from drnet_lite.losses import (
    adversarial_loss,
    reconstruction_loss,
    scene_discriminator_loss,
    shuffled_partner,
    similarity_loss,
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
