"""The clip-source contract, the registry, and old checkpoints loading as Moving MNIST.

Every registered source must have an example here (a tiny config); the
contract test then checks shapes, dtype, value range, seeding and ``times``
for each. A new source that is registered without an example fails
``test_every_registered_source_has_a_contract_example``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from drnet_lite.assets import REPO_ASSETS
from drnet_lite.data import ClipSource, MovingMNISTConfig, config_from_dict, make_source, register_source, source_names
from drnet_lite.data.source import registered_sources
from drnet_lite.data.video import VideoConfig, write_synthetic_video


@pytest.fixture(scope="module")
def synthetic_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    write_synthetic_video(folder / "a.avi", frames=30, width=64, height=48, seed=1)
    write_synthetic_video(folder / "b.mp4", frames=26, width=48, height=48, seed=2)
    return folder


def _mnist_example(request):
    root = request.getfixturevalue("mnist_root")
    config = MovingMNISTConfig(image_size=32, num_digits=2, digit_size=16, seq_len=12, channels="per-digit")
    return config, root


def _video_example(request):
    folder = request.getfixturevalue("synthetic_folder")
    cache = request.getfixturevalue("tmp_path") / "cache"
    return VideoConfig(videos=(str(folder),), image_size=16, channels="rgb", tiles=(1, 2), seq_len=12,
                       split_by="video", test_fraction=0.5), cache


@pytest.fixture(scope="module")
def miniature_kth(tmp_path_factory) -> Path:
    from drnet_lite.data.kth_mini import write_miniature_kth

    root = tmp_path_factory.mktemp("kth")
    write_miniature_kth(root / "KTH", persons=(1, 17), actions=("boxing", "walking"), frames=48)
    return root


def _kth_example(request):
    from drnet_lite.data.kth_source import KTHConfig

    return KTHConfig(image_size=16, seq_len=12, actions=("boxing", "walking")), request.getfixturevalue("miniature_kth")



def _turntable_example(request):
    from drnet_lite.data.turntable import TurntableConfig
    return TurntableConfig(image_size=16, channels="rgb", seq_len=12, instances=2), None


def _norb_example(request):
    from drnet_lite.data.norb import NORBConfig, write_synthetic_norb
    root = write_synthetic_norb(request.getfixturevalue("tmp_path") / "norb", elevations=1, lightings=1, size=32)
    return NORBConfig(image_size=16, seq_len=12), root


#: source name -> (request -> (a small config, the root it needs))
CONTRACT_EXAMPLES = {"moving-mnist": _mnist_example, "video": _video_example, "kth": _kth_example,
                     "turntable": _turntable_example, "norb": _norb_example}


def test_every_registered_source_has_a_contract_example():
    assert set(source_names()) <= set(CONTRACT_EXAMPLES), "add an example for every registered source"


@pytest.mark.parametrize("name", sorted(CONTRACT_EXAMPLES))
def test_source_contract(name, request):
    config, root = CONTRACT_EXAMPLES[name](request)
    assert config.source == name
    source = make_source(config, root=root)
    assert isinstance(source, ClipSource)
    assert (source.image_size, source.channels, source.seq_len) == (config.image_size, config.num_channels, config.seq_len)

    clips = source.sample(5, seed=3)
    s, c, t = source.image_size, source.channels, source.seq_len
    assert clips.frames.shape == (5, t, c, s, s)
    assert clips.frames.dtype == torch.float32
    assert float(clips.frames.min()) >= 0.0 and float(clips.frames.max()) <= 1.0
    assert float(clips.frames.std()) > 0.01, "frames should not be blank"
    assert clips.times.shape == (5, t) and torch.equal(clips.times[0], torch.arange(t))

    # seeding: a seed, or a generator in the same state, gives the same clips; another seed other clips
    assert torch.equal(source.sample(5, seed=3).frames, clips.frames)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(source.sample(5, generator=g1).frames, source.sample(5, generator=g2).frames)
    assert torch.equal(source.sample(5, generator=g1).frames, source.sample(5, generator=g2).frames)  # streams go on alike
    assert not torch.equal(source.sample(5, seed=4).frames, clips.frames)

    # times: chosen frames of the same clips
    times = torch.tensor([[t - 1, 0, 2], [1, 1, 0], [0, 3, 5], [2, 2, 2], [4, 0, t - 1]])
    chosen = source.sample(5, seed=3, times=times)
    assert chosen.frames.shape == (5, 3, c, s, s)
    expected = clips.frames[torch.arange(5)[:, None], times]
    assert torch.allclose(chosen.frames, expected)
    assert torch.equal(chosen.times.cpu(), times)
    with pytest.raises(ValueError, match="times"):
        source.sample(5, seed=3, times=torch.zeros(4, 2, dtype=torch.long))

    # the config round-trips through its dict (what checkpoints store), and the test split is a source too
    assert config_from_dict(config.to_dict()) == config
    test = make_source(dataclasses.replace(config, split="test"), root=root)
    assert test.sample(2, seed=0).frames.shape == (2, t, c, s, s)


def test_config_without_a_name_is_moving_mnist():
    old = {"image_size": 64, "num_digits": 1, "digit_size": 28, "seq_len": 41, "speed": [1, 4], "channels": "grey",
           "split": "train"}
    config = config_from_dict(old)
    assert isinstance(config, MovingMNISTConfig) and config.source == "moving-mnist"
    assert {k: v for k, v in config.to_dict().items() if k != "source"} == {**old, "speed": (1, 4)}


def test_registry_errors_name_the_choices():
    with pytest.raises(ValueError, match="moving-mnist.*video"):
        config_from_dict({"source": "nope"})
    with pytest.raises(ValueError, match="no field"):
        config_from_dict({"source": "video", "colour": "pink"})
    with pytest.raises(TypeError, match="source"):
        make_source(object())

    @dataclasses.dataclass(frozen=True)
    class Bad:
        image_size: int = 8

    with pytest.raises(TypeError, match="lacks"):
        register_source("bad", Bad, lambda config, root=None, device="cpu": None)
    with pytest.raises(ValueError, match="already registered"):
        @dataclasses.dataclass(frozen=True)
        class Other:
            image_size: int = 8
            seq_len: int = 2
            split: str = "train"
            source: str = "video"
        register_source("video", Other, lambda config, root=None, device="cpu": None)
    assert "bad" not in registered_sources()


@pytest.mark.parametrize("name", ["mnist-lite.pt", "mnist-lite-lstm.pt"])
def test_shipped_checkpoints_load_as_moving_mnist(name):
    """The shipped assets predate the registry (their data dicts carry no source name) and load unchanged;
    test_shipped_weights / test_shipped_lstm check that they reproduce their shipped metrics."""
    path = REPO_ASSETS / name
    if not path.is_file():
        pytest.skip(f"{path} is not shipped")
    payload = torch.load(path, weights_only=True)
    if name == "mnist-lite.pt":
        from drnet_lite.train import load_drnet

        stored = payload["config"]["data"]
        _, config = load_drnet(path)
    else:
        from drnet_lite.train_lstm import load_pose_lstm

        stored = payload["drnet"]["config"]["data"]
        from drnet_lite.train import TrainConfig
        load_pose_lstm(path)
        config = TrainConfig.from_dict(payload["drnet"]["config"])
    assert "source" not in stored
    assert isinstance(config.data, MovingMNISTConfig)
    assert {k: v for k, v in config.data.to_dict().items() if k != "source"} == {**stored, "speed": tuple(stored["speed"])}
