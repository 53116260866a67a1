"""A checkpoint whose stored config is bad: the error names the file and what was wrong."""
from __future__ import annotations

import copy

import pytest

from drnet_lite.checkpoint import CheckpointError, load_checkpoint, load_for_resume, save_checkpoint
from drnet_lite.models import DRNet
from drnet_lite.presets import preset
from drnet_lite.train import TrainConfig, load_drnet
from drnet_lite.train_lstm import load_pose_lstm


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict:
    config = preset("mnist-lite", width=8, pose_dim=2, content_dim=4)
    state = {k: v.detach() for k, v in DRNet(config.model).state_dict().items()}
    return {"kind": "drnet", "config": config.to_dict(), "state": state, "step": 0, "history": [],
            "optimizers": {}}


def with_config(payload: dict, change) -> dict:
    payload = copy.deepcopy(payload)
    change(payload)
    return payload


CASES = {
    "image size 63": (lambda p: p["config"]["model"].update(image_size=63), "image_size must be a power of two"),
    "a string": (lambda p: p.__setitem__("config", "mnist-lite"), "dictionary update sequence"),
    "no config": (lambda p: p.pop("config"), "'config' is missing"),
    "no model": (lambda p: p["config"].pop("model"), "lacks the field 'model'"),
    "width a word": (lambda p: p["config"]["model"].update(width="wide"), "width"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_drnet_names_the_file(tmp_path, good, case):
    change, words = CASES[case]
    path = save_checkpoint(with_config(good, change), tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="bad.pt: the config stored in this checkpoint is not valid") as caught:
        load_drnet(path)
    assert words in str(caught.value)


def test_resume_names_the_file(tmp_path, good):
    path = save_checkpoint(with_config(good, CASES["image size 63"][0]), tmp_path / "checkpoint.pt")
    config = TrainConfig.from_dict(good["config"])
    with pytest.raises(CheckpointError, match="checkpoint.pt: the config stored .*image_size must be a power of two"):
        load_for_resume(path, "drnet", config, TrainConfig.from_dict)


def test_the_good_one_loads(tmp_path, good):
    path = save_checkpoint(good, tmp_path / "good.pt")
    model, config = load_drnet(path)
    assert config.model.width == 8 and load_checkpoint(path)["kind"] == "drnet"


def test_a_pose_lstm_with_a_bad_drnet_record_names_the_file(tmp_path, good):
    payload = {"kind": "pose_lstm", "config": {"hidden_size": 8, "num_layers": 1}, "state": {},
               "drnet": {"config": "broken"}}
    path = save_checkpoint(payload, tmp_path / "lstm.pt")
    with pytest.raises(CheckpointError, match=r"lstm.pt \(its DRNet's record\): the config stored .* not valid"):
        load_pose_lstm(path)
    path = save_checkpoint(dict(payload, config=["hidden_size"]), tmp_path / "lstm2.pt")
    with pytest.raises(CheckpointError, match="lstm2.pt: the config stored in this checkpoint is not valid"):
        load_pose_lstm(path)
