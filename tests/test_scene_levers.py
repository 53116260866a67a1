"""The extra levers against content in pose (none of them in the paper): L_swap, L_kernel, L_dep and the
scene classifier. Their measured effect is in assets/README.md; here, what each term computes."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drnet_lite.leak_losses import (kernel_alignment, pose_content_dependence, scene_classifier_loss, scene_confusion_loss,
                               scene_kernel_loss, swap_pose_loss)
from drnet_lite.presets import preset
from drnet_lite.train import Optimizers, build_model, fit, train_step


def tiny_turntable(**overrides):
    base = dict(width=4, content_dim=8, pose_dim=3, batch_size=8, steps=4, log_every=2, image_every=10**6,
                checkpoint_every=10**6, azimuth_steps=6, seq_len=6, elevations=(10.0,), instances=2, image_size=16,
                max_step=2, device="cpu")
    return preset("turntable-lite", **{**base, **overrides})


def hsic_by_hand(x: np.ndarray, y: np.ndarray) -> float:
    """CKA of median-width Gaussian kernels, written out with explicit loops over the matrix entries."""
    def gram(a):
        n = len(a)
        d = np.array([[((a[i] - a[j]) ** 2).sum() for j in range(n)] for i in range(n)])
        off = np.sort(d[d > 0])
        scale = off[(len(off) - 1) // 2]  # torch's median: the lower middle value
        k = np.exp(-d / scale)
        h = np.eye(n) - np.ones((n, n)) / n
        return h @ k @ h
    k, l = gram(x), gram(y)
    return float((k * l).sum() / math.sqrt((k * k).sum() * (l * l).sum()))


def test_kernel_alignment_matches_the_formula_and_its_invariances():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(24, 5, generator=g), torch.randn(24, 3, generator=g)
    assert kernel_alignment(x, y).item() == pytest.approx(hsic_by_hand(x.double().numpy(), y.double().numpy()), rel=1e-4)
    assert kernel_alignment(x, x).item() == pytest.approx(1.0, abs=1e-5)
    rotation = torch.linalg.qr(torch.randn(5, 5, generator=g))[0]
    # Gaussian kernels of median width: the same under rotation, scale and shift of either input
    assert kernel_alignment(3 * x @ rotation + 1, y).item() == pytest.approx(kernel_alignment(x, y).item(), rel=1e-4)


def test_pose_content_dependence_is_zero_for_independent_codes_and_large_when_pose_names_the_content():
    g = torch.Generator().manual_seed(1)
    objects = torch.randint(6, (64,), generator=g)
    content = F.one_hot(objects, 6).float() + 0.05 * torch.randn(64, 6, generator=g)
    view = torch.randn(64, 2, generator=g)
    clean = torch.stack([pose_content_dependence(torch.randn(64, 2, generator=g), content) for _ in range(50)])
    assert clean.mean().item() < 0.02  # the rolled-content floor takes out a small batch's bias
    leaky = pose_content_dependence(torch.cat([view, content], 1), content)
    assert leaky.item() > 0.2
    assert pose_content_dependence(torch.zeros(64, 2), content).item() == 0.0  # a constant pose gains nothing


def test_scene_kernel_loss_sees_pairs_that_share_a_code():
    g = torch.Generator().manual_seed(2)
    code = torch.randn(32, 4, generator=g)
    same_clip = scene_kernel_loss(code + 0.1 * torch.randn(32, 4, generator=g), code + 0.1 * torch.randn(32, 4, generator=g))
    unrelated = scene_kernel_loss(torch.randn(32, 4, generator=g), torch.randn(32, 4, generator=g))
    assert same_clip.item() > 0.3 and abs(unrelated.item()) < 0.1


def test_scene_confusion_is_zero_when_the_classifier_is_unsure_and_positive_when_it_is_sure():
    scene = torch.tensor([0, 3, 3, 5])
    assert scene_confusion_loss(torch.zeros(4, 8), scene).item() == pytest.approx(0.0, abs=1e-6)
    sure = 10 * F.one_hot(scene, 8).float()
    assert scene_confusion_loss(sure, scene).item() > 1.0
    assert scene_classifier_loss(sure, scene).item() < 1e-3 < scene_classifier_loss(torch.zeros(4, 8), scene).item()
    assert swap_pose_loss(torch.ones(2, 3), torch.zeros(2, 3)).item() == 1.0


@pytest.mark.parametrize("lever", [dict(swap_weight=1.0), dict(kernel_weight=1.0), dict(dependence_weight=1.0),
                                   dict(classifier_weight=1.0, scene_classes=4)])
def test_each_lever_is_logged_and_reaches_the_pose_encoder(lever):
    config = tiny_turntable(**lever)
    torch.manual_seed(0)
    model = build_model(config)
    frames = torch.rand(8, 4, 1, 16, 16, generator=torch.Generator().manual_seed(3))
    scene = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    before = [p.detach().clone() for p in model.pose_encoder.parameters()]
    kwargs = {"scene": scene} if "classifier_weight" in lever else {}
    losses = train_step(model, Optimizers.create(model, config), frames, config, shift=3, **kwargs)
    name = {"swap_weight": "swap", "kernel_weight": "kernel", "dependence_weight": "dependence",
            "classifier_weight": "confusion"}[next(iter(lever))]
    assert name in losses and torch.isfinite(losses[name])
    assert all(k not in losses for k in {"swap", "kernel", "dependence", "confusion"} - {name})  # only the run's own
    assert any(not torch.equal(a, b) for a, b in zip(before, model.pose_encoder.parameters()))
    if "classifier_weight" in lever:
        assert 0.0 <= losses["classifier_acc"].item() <= 1.0
        with pytest.raises(ValueError, match="scene"):
            train_step(model, Optimizers.create(model, config), frames, config, shift=3)


def test_the_scene_classifier_is_named_before_work_starts(tmp_path):
    with pytest.raises(ValueError, match="scene_classes"):
        tiny_turntable(classifier_weight=0.5).validate()
    with pytest.raises(ValueError, match="scene_classes 2 is too small"):
        fit(tiny_turntable(classifier_weight=0.5, scene_classes=2), None, data_root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="negative|>= 0"):
        tiny_turntable(dependence_weight=-1.0)


class _PoseIsTheFrame(torch.nn.Module):
    """A stand-in DRNet whose pose vector is the whole frame and whose decoder draws it back (``ignore``: draws
    the content frame whatever the pose)."""

    def __init__(self, ignore: bool) -> None:
        super().__init__()
        self.ignore = ignore

    def encode_content(self, x):
        return x.flatten(1), None

    def encode_pose(self, x):
        return x.flatten(1)

    def decode(self, content, pose, skips=None):
        return (content if self.ignore else pose).view(-1, 1, 16, 16)

    def forward(self, content_frame, pose_frame):
        return self.decode(*self.encode_content(content_frame)[:1], self.encode_pose(pose_frame))


@pytest.mark.parametrize("ignore, effect", [(True, 0.0), (False, 1.0)])
def test_pose_effect_is_zero_when_the_decoder_ignores_pose_and_one_when_it_redraws_the_motion(tmp_path, ignore, effect):
    from drnet_lite.data import make_source
    from drnet_lite.evaluate_frames import reconstruction_scores

    source = make_source(tiny_turntable().data, root=tmp_path)
    scores = reconstruction_scores(_PoseIsTheFrame(ignore), source, count=24, batch=10)
    assert scores["pose_effect"] == pytest.approx(effect, abs=1e-6)
