"""The turntable experiment: presets, the probe table and swap scores run end to end on a tiny model."""
import math

import numpy as np
import torch

from drnet_lite.data.turntable import Turntable, TurntableConfig
from drnet_lite.experiments.turntable import (encode, format_table, probe_codes, probe_table, swap_frames, swap_panel, swap_scores,
                                              train_object_classifier)
from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.presets import preset

DATA = TurntableConfig(image_size=16, seq_len=6, instances=2, azimuth_steps=6, elevations=(10.0, 30.0))


def _model(pose_dim=3):
    torch.manual_seed(0)
    return DRNet(DRNetConfig(image_size=16, channels=1, content_dim=8, pose_dim=pose_dim, width=4)).eval()


def test_presets_are_consistent():
    for name in ("turntable-lite", "norb"):
        config = preset(name)
        config.validate()
        assert config.data.source == name.split("-")[0]
        assert config.max_step < config.data.seq_len
    assert preset("turntable-lite", pose_dim=2, adversarial_weight=0.0).model.pose_dim == 2


def test_encode_gives_codes_with_their_ground_truth():
    codes = encode(_model(), Turntable(DATA), 20, seed=0)
    assert codes["content"].shape == (20, 8) and codes["pose"].shape == (20, 3)
    assert torch.allclose(codes["azimuth"].norm(dim=1), torch.ones(20))
    assert set(codes["category"].tolist()) <= set(range(5))


def _codes(n, objects, seed):
    """Codes that are right by construction: content = which toy, pose = the azimuth and elevation."""
    g = torch.Generator().manual_seed(seed)
    obj = objects[torch.randint(len(objects), (n,), generator=g)]
    az = torch.rand(n, generator=g) * 2 * math.pi
    el = torch.randint(2, (n, 1), generator=g).float()
    content = torch.nn.functional.one_hot(obj, 10).float() + 0.05 * torch.randn(n, 10, generator=g)
    pose = torch.cat([az.cos()[:, None], az.sin()[:, None], el], 1) + 0.05 * torch.randn(n, 3, generator=g)
    return {"content": content, "pose": pose, "object": obj, "category": obj // 2,
            "azimuth": torch.stack([az.cos(), az.sin()], 1), "elevation": el}


def test_probes_read_what_the_codes_carry():
    seen, unseen = torch.tensor([0, 2, 4, 6, 8]), torch.tensor([1, 3, 5, 7, 9])
    results = probe_codes(_codes(400, seen, 0), _codes(400, unseen, 1), seen, 5, epochs=150)
    assert results["content_identity_linear"] > 0.95 and results["pose_identity_linear"] < 0.4
    assert results["pose_azimuth_linear"] > 0.95 and results["content_azimuth_mlp"] < 0.2
    assert results["pose_elevation_linear"] > 0.9 and results["content_elevation_linear"] < 0.2
    # the unseen toys have other one-hot slots: category does not carry over from identity codes
    assert results["content_category_linear"] < 0.5
    assert 0.15 < results["chance_identity"] < 0.35
    text = format_table({"probes": results})
    assert "object identity" in text and "azimuth" in text


def test_probe_table_runs_on_a_model():
    results = probe_table(_model(), DATA, count=40, epochs=10)
    assert all(math.isfinite(v) for v in results.values()) and 0 <= results["content_identity_mlp"] <= 1


def test_swap_scores_and_classifier():
    source = Turntable(DATA)
    classifier = train_object_classifier(source, steps=30, batch=16)
    scores = swap_scores(_model(), source, pairs=8, classifier=classifier)
    for key in ("swap_psnr", "swap_ssim", "pose_frame_psnr", "classifier_on_swaps", "classifier_on_targets"):
        assert math.isfinite(scores[key])
    assert scores["classifier_chance"] == 1 / len(source.objects)


def test_swap_panel_shows_the_exact_target():
    source = Turntable(DATA)
    frames = swap_frames(_model(), source, content_object=1, azimuth_index=2, pose_object=0)
    assert frames.shape == (4, 1, 16, 16)
    obj = source.objects[torch.tensor([1])]
    target = source.frames(obj, torch.tensor([2]), torch.tensor([0]), torch.tensor([[30.0, 30.0]]))
    assert torch.equal(frames[3], target[0])
    pose = source.frames(source.objects[torch.tensor([0])], torch.tensor([2]), torch.tensor([0]), torch.tensor([[30.0, 30.0]]))
    assert torch.equal(frames[1], pose[0])
    image = swap_panel(_model(), source, 1, 2)
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape[2] == 3


def test_azimuth_given_toy_reads_a_viewpoint_that_each_toy_holds_in_its_own_frame():
    from drnet_lite.evaluate_frames import fit_probe
    from drnet_lite.experiments.turntable import azimuth_given_toy

    g = torch.Generator().manual_seed(0)
    toy = torch.randint(6, (1200,), generator=g)
    azimuth = torch.rand(1200, generator=g) * 2 * torch.pi
    target = torch.stack([azimuth.cos(), azimuth.sin()], 1)
    phase = torch.arange(6) * 1.0  # every toy's own "front": one shared code cannot read the azimuth...
    pose = torch.stack([(azimuth + phase[toy]).cos(), (azimuth + phase[toy]).sin()], 1)
    shared = fit_probe(pose[:600], target[:600], pose[600:], target[600:], None, 128, 300)
    given = azimuth_given_toy(pose, toy, target)
    assert shared < 0.3  # ...but once the toy is known, the viewpoint is there
    assert given["pose_and_toy_azimuth_mlp"] > 0.8 and given["toy_alone_azimuth_mlp"] < 0.05
    empty = azimuth_given_toy(torch.randn(1200, 2, generator=g), toy, target)  # a pose that holds no viewpoint
    assert empty["pose_and_toy_azimuth_mlp"] < 0.1
