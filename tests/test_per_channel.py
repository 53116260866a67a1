"""The per_channel DRNet: one set of networks shared by the colour channels, each channel encoded and drawn alone."""
import pytest
import torch

from drnet_lite.checkpoint import save_checkpoint
from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.presets import preset
from drnet_lite.train import load_drnet

SMALL = dict(image_size=32, width=4, content_dim=12, pose_dim=6, normalize_content=True, content_pool=True)


def _scrambled(model):
    """Weights far from DCGAN's small start, so that every input visibly changes the output."""
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.5)
    return model.eval()


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return _scrambled(DRNet(DRNetConfig(channels=2, per_channel=True, **{**SMALL, **kw})))


def test_shapes():
    model = _model()
    x = torch.rand(3, 2, 32, 32)
    content, _ = model.encode_content(x)
    assert content.shape == (3, 12) and model.encode_pose(x).shape == (3, 6)
    assert model(x, x).shape == (3, 2, 32, 32)
    assert model.scene_discriminator.net[0].in_features == 2 * 6  # C sees both frames' whole (concatenated) pose


def test_channel_n_depends_only_on_channel_n():
    model = _model()
    a, b = torch.rand(4, 2, 32, 32), torch.rand(4, 2, 32, 32)
    out = model(a, b)
    a2, b2 = a.clone(), b.clone()
    a2[:, 1], b2[:, 1] = torch.rand(4, 32, 32), torch.rand(4, 32, 32)  # change channel 1 of both frames
    out2 = model(a2, b2)
    assert torch.equal(out[:, 0], out2[:, 0])
    assert not torch.equal(out[:, 1], out2[:, 1])
    content, content2 = model.encode_content(a)[0], model.encode_content(a2)[0]
    assert torch.equal(content[:, :6], content2[:, :6]) and not torch.equal(content[:, 6:], content2[:, 6:])


def test_equals_the_one_channel_model_on_each_channel():
    model = _model()
    torch.manual_seed(1)
    one = _scrambled(DRNet(model.config.channel_config()))
    assert one.config.channels == 1 and one.config.content_dim == 6 and one.config.pose_dim == 3
    model.start_from(one)
    a, b = torch.rand(4, 2, 32, 32), torch.rand(4, 2, 32, 32)
    out = model(a, b)
    for n in range(2):
        assert torch.allclose(out[:, n:n + 1], one(a[:, n:n + 1], b[:, n:n + 1]), atol=1e-6)
        assert torch.allclose(model.encode_pose(b)[:, 3 * n:3 * n + 3], one.encode_pose(b[:, n:n + 1]), atol=1e-6)


def test_start_from_refuses_a_mismatched_model():
    with pytest.raises(ValueError, match="content_dim"):
        _model().start_from(DRNet(DRNetConfig(channels=1, **{**SMALL, "content_dim": 12})))
    with pytest.raises(ValueError, match="channels"):
        DRNet(DRNetConfig(channels=2, **SMALL)).start_from(DRNet(DRNetConfig(channels=1, **SMALL)))
    same = DRNet(DRNetConfig(channels=2, **SMALL))
    assert torch.equal(DRNet(DRNetConfig(channels=2, **SMALL)).start_from(same).decoder.out[0].weight, same.decoder.out[0].weight)


def test_dimensions_must_divide_by_channels():
    with pytest.raises(ValueError, match="pose_dim 5 .*divide by channels"):
        DRNetConfig(channels=2, per_channel=True, pose_dim=5)
    assert DRNetConfig(channels=1, per_channel=True, pose_dim=5).channel_config().pose_dim == 5


def test_stored_in_checkpoints_and_old_configs_still_load(tmp_path):
    config = preset("mnist2-lite", per_channel=True, content_dim=24, pose_dim=4, width=4)
    model = DRNet(config.model).eval()
    save_checkpoint({"kind": "drnet", "config": config.to_dict(), "state": model.state_dict(), "step": 0}, tmp_path / "m.pt")
    loaded, loaded_config = load_drnet(tmp_path / "m.pt")
    assert loaded_config.model.per_channel
    x = torch.rand(2, 2, 64, 64)
    assert torch.equal(loaded(x, x), model(x, x))
    old = config.to_dict()
    del old["model"]["per_channel"]  # a checkpoint written before the option existed
    old["model"].update(content_dim=128, pose_dim=10)
    assert not type(config).from_dict(old).model.per_channel


def test_a_run_starts_from_the_model_named_by_init_from(tmp_path):
    from drnet_lite.train import build_model

    one = preset("mnist-lite", width=4)
    torch.manual_seed(3)
    one_model = DRNet(one.model).eval()
    save_checkpoint({"kind": "drnet", "config": one.to_dict(), "state": one_model.state_dict(), "step": 0}, tmp_path / "one.pt")
    two = preset("mnist2-lite", width=4, init_from=str(tmp_path / "one.pt"))
    assert two.model.per_channel and two.model.channel_config() == one.model
    model = build_model(two).eval()
    x = torch.rand(2, 2, 64, 64)
    assert torch.allclose(model(x, x)[:, 1:], one_model(x[:, 1:], x[:, 1:]), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="no-such.pt"):
        build_model(preset("mnist2-lite", width=4, init_from="no-such.pt"))
    with pytest.raises(ValueError, match=r"init_from=.*one.pt.*'width': \(8, 4\).*--init-from ''"):
        build_model(preset("mnist2-lite", width=8, init_from=str(tmp_path / "one.pt")))


def test_the_train_command_can_start_from_scratch_or_from_another_model():
    from drnet_lite.cli import build_parser
    from drnet_lite.cli.train import train_config

    parse = build_parser().parse_args
    shipped = train_config(parse(["train", "--preset", "mnist2-lite"]))
    assert shipped.model.per_channel and shipped.init_from == "mnist-lite.pt"
    scratch = train_config(parse(["train", "--preset", "mnist2-lite", "--init-from", ""]))
    assert scratch.model.per_channel and scratch.init_from == ""
    joint = train_config(parse(["train", "--preset", "mnist2-lite", "--init-from", "", "--no-per-channel"]))
    assert not joint.model.per_channel
