import pytest
import torch

from drnet_lite.models import DRNet, DRNetConfig, SceneDiscriminator, count_parameters


@pytest.mark.parametrize("image_size", [32, 64, 128])
@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("channels", [1, 2])
def test_shapes_for_every_size_and_variant(image_size, skip, channels):
    config = DRNetConfig(image_size=image_size, channels=channels, width=8, content_dim=16, pose_dim=5, skip=skip)
    model = DRNet(config)
    x = torch.rand(3, channels, image_size, image_size)
    content, skips = model.encode_content(x)
    pose = model.encode_pose(x)
    assert content.shape == (3, 16) and pose.shape == (3, 5)
    assert len(skips) == config.stages
    assert [s.shape[-1] for s in skips] == [image_size // 2 ** (i + 1) for i in range(config.stages)]
    out = model.decode(content, pose, skips)
    assert out.shape == x.shape
    assert out.min() >= 0 and out.max() <= 1  # sigmoid
    assert content.abs().max() <= 1 and pose.abs().max() <= 1  # tanh
    assert model.scene_discriminator(pose, pose).shape == (3,)


def test_skip_decoder_uses_the_content_feature_maps():
    torch.manual_seed(0)
    model = DRNet(DRNetConfig(image_size=32, width=8, skip=True)).eval()
    content, skips = model.encode_content(torch.rand(2, 1, 32, 32))
    pose = model.encode_pose(torch.rand(2, 1, 32, 32))
    base = model.decode(content, pose, skips)
    altered = model.decode(content, pose, [s + 1.0 for s in skips])
    assert not torch.allclose(base, altered)
    with pytest.raises(ValueError, match="skip"):
        model.decoder(content, pose, None)


def test_plain_decoder_ignores_skips():
    model = DRNet(DRNetConfig(image_size=32, width=8, skip=False)).eval()
    content, skips = model.encode_content(torch.rand(2, 1, 32, 32))
    pose = model.encode_pose(torch.rand(2, 1, 32, 32))
    assert torch.equal(model.decode(content, pose, skips), model.decode(content, pose, None))


def test_width_multiplier_scales_parameters():
    small = count_parameters(DRNet(DRNetConfig(width=16)))
    paper = count_parameters(DRNet(DRNetConfig(width=64)))
    assert paper > 8 * small


def test_dcgan_initialisation():
    torch.manual_seed(0)
    model = DRNet(DRNetConfig(width=32))
    conv = model.content_encoder.stages[1][0].weight
    assert abs(conv.std().item() - 0.02) < 0.002
    bn = model.content_encoder.stages[1][1]
    assert abs(bn.weight.mean().item() - 1.0) < 0.01 and torch.all(bn.bias == 0)


def test_normalized_content_head_has_no_learnable_scale():
    model = DRNet(DRNetConfig(width=8, image_size=32, normalize_content=True))
    content_norm = [m for m in model.content_encoder.head if isinstance(m, torch.nn.BatchNorm2d)][0]
    pose_norm = [m for m in model.pose_encoder.head if isinstance(m, torch.nn.BatchNorm2d)][0]
    assert content_norm.affine is False and pose_norm.affine is True
    # unit variance per dimension before the tanh: content cannot collapse in training mode
    model.train()
    content, _ = model.encode_content(torch.rand(64, 1, 32, 32))
    pre_tanh = torch.atanh(content.clamp(-0.999999, 0.999999))
    assert torch.allclose(pre_tanh.var(0, unbiased=False), torch.ones(128), atol=0.05)


def test_bad_frames_give_a_clear_error():
    model = DRNet(DRNetConfig(image_size=64, width=8))
    with pytest.raises(ValueError, match=r"\(B, 1, 64, 64\)"):
        model.encode_pose(torch.rand(2, 1, 32, 32))


@pytest.mark.parametrize("bad", [dict(image_size=48), dict(image_size=4), dict(pose_dim=0), dict(width=0)])
def test_bad_config(bad):
    with pytest.raises(ValueError):
        DRNetConfig(**bad)


def test_scene_discriminator_is_an_mlp_on_the_pair():
    c = SceneDiscriminator(pose_dim=4, hidden=7)
    a, b = torch.rand(5, 4), torch.rand(5, 4)
    assert c.net[0].in_features == 8 and c.net[2].in_features == 7
    assert not torch.allclose(c(a, b), c(b, a))  # order matters: it is a pair


def test_pooled_content_head_ends_in_a_global_max_pool():
    model = DRNet(DRNetConfig(image_size=64, width=8, content_pool=True))
    assert isinstance(model.content_encoder.head[0], torch.nn.AdaptiveMaxPool2d)
    assert not isinstance(model.pose_encoder.head[0], torch.nn.AdaptiveMaxPool2d)  # pose keeps its spatial head
    x = torch.rand(3, 1, 64, 64)
    assert model.encode_content(x)[0].shape == (3, 128)
