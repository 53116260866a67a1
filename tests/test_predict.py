"""The pose LSTM: shapes, teacher forcing vs free running, bounded-memory rollouts, training and its checkpoints."""
import dataclasses
import gc
import json
import warnings

import pytest
import torch

from drnet_lite.checkpoint import CheckpointError, load_checkpoint
from drnet_lite.cli import main as cli_main
from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.predict import (LSTMConfig, PoseLSTM, copy_last_frames, decode_poses, encode_sequence,
                                generate_poses, iterate_poses, lstm_loss, oracle_frames, rollout,
                                teacher_forced)
from drnet_lite.presets import lstm_preset
from drnet_lite.train import fit, load_drnet
from drnet_lite.presets import preset
from drnet_lite.train_lstm import PoseBank, drnet_fingerprint, fit_lstm, load_pose_lstm


def _lstm(seed=0, pose_dim=3, content_dim=5, hidden=16, layers=2):
    torch.manual_seed(seed)
    return PoseLSTM(pose_dim, content_dim, hidden, layers).eval()


def _tiny_drnet(seed=0):
    torch.manual_seed(seed)
    return DRNet(DRNetConfig(image_size=32, width=4, content_dim=5, pose_dim=3)).eval()


def test_reference_preset_has_the_values_of_the_paper():
    cfg = lstm_preset("lstm-reference")
    assert (cfg.hidden_size, cfg.num_layers, cfg.observed, cfg.predicted) == (256, 2, 10, 10)
    assert (cfg.lr, cfg.beta1, cfg.batch_size, cfg.bank_clips) == (2e-4, 0.9, 100, 0)
    lstm = PoseLSTM(10, 128, cfg.hidden_size, cfg.num_layers)
    assert lstm.embed.in_features == 138 and lstm.lstm.num_layers == 2
    assert isinstance(lstm.out[1], torch.nn.Tanh)
    with pytest.raises(ValueError, match="unknown LSTM setting"):
        lstm_preset("lstm-lite", hidden=3)
    with pytest.raises(ValueError, match="bank_length"):
        lstm_preset("lstm-lite", bank_clips=10, bank_length=5).validate()


def test_shapes_and_horizon_lengths():
    lstm = _lstm()
    pose, content = torch.rand(4, 6, 3) * 2 - 1, torch.rand(4, 5)
    out, (h, c) = lstm(pose, content)
    assert out.shape == (4, 6, 3) and h.shape == (2, 4, 16)
    assert out.abs().max() <= 1  # tanh
    assert teacher_forced(lstm, pose, content).shape == (4, 5, 3)
    for horizon in (0, 1, 7, 120):
        assert generate_poses(lstm, pose, content, horizon).shape == (4, horizon, 3)
    with pytest.raises(ValueError, match="pose must be"):
        lstm(torch.rand(4, 6, 2), content)
    with pytest.raises(ValueError, match="horizon"):
        generate_poses(lstm, pose, content, -1)


def test_chunked_generation_equals_one_pass():
    lstm = _lstm(1)
    pose, content = torch.rand(2, 4, 3), torch.rand(2, 5)
    whole = generate_poses(lstm, pose, content, 23)
    chunks = list(iterate_poses(lstm, pose, content, 23, chunk=5))
    assert [c.shape[1] for c in chunks] == [5, 5, 5, 5, 3]
    assert torch.allclose(torch.cat(chunks, 1), whole, atol=1e-6)


def test_teacher_forcing_and_free_running_differ_only_where_they_should():
    lstm = _lstm(2)
    observed, horizon = 5, 6
    truth, content = torch.rand(3, observed + horizon, 3) * 2 - 1, torch.rand(3, 5)
    forced = teacher_forced(lstm, truth, content)  # inputs: true poses all the way
    free = generate_poses(lstm, truth[:, :observed], content, horizon)  # inputs: own predictions after the observed ones
    # the first prediction sees the same (true, observed) inputs in both modes
    assert torch.allclose(free[:, 0], forced[:, observed - 1], atol=1e-6)
    # afterwards the inputs differ (prediction vs truth), and so do the outputs
    assert not torch.allclose(free[:, 1:], forced[:, observed:], atol=1e-3)
    # teacher forcing on the free run's own inputs reproduces the free run exactly
    own_inputs = torch.cat([truth[:, :observed], free[:, :-1]], 1)
    assert torch.allclose(lstm(own_inputs, content)[0][:, observed - 1:], free, atol=1e-5)
    # the free run depends on the observed poses only
    altered = truth.clone()
    altered[:, observed:] = 0
    assert torch.allclose(generate_poses(lstm, altered[:, :observed], content, horizon), free)


def _live_tensors() -> int:
    gc.collect()
    with warnings.catch_warnings():  # isinstance on some deprecated torch objects warns
        warnings.simplefilter("ignore")
        return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def test_a_500_frame_rollout_keeps_no_autograd_history_and_bounded_memory():
    lstm = PoseLSTM(3, 5, 16, 2)  # parameters require grad, as in training
    pose, content = torch.rand(2, 4, 3, requires_grad=True), torch.rand(2, 5)
    counts = []
    total = 0
    for chunk in iterate_poses(lstm, pose, content, 500, chunk=50):
        assert chunk.grad_fn is None and not chunk.requires_grad
        total += chunk.shape[1]
        counts.append(_live_tensors())
        del chunk
    assert total == 500
    assert max(counts[1:]) - min(counts[1:]) <= 2, counts  # no tensors pile up step after step
    drnet = _tiny_drnet()
    result = rollout(drnet, lstm, torch.rand(2, 4, 1, 32, 32), 500, decode=False)
    assert result.pose.shape == (2, 500, 3) and result.frames is None and result.pose.grad_fn is None


def test_rollout_oracle_and_copy_last_baselines():
    drnet, lstm = _tiny_drnet(), _lstm(3)
    clips = torch.rand(2, 7, 1, 32, 32)
    observed, future = clips[:, :4], clips[:, 4:]
    result = rollout(drnet, lstm, observed, 3)
    assert result.frames.shape == (2, 3, 1, 32, 32) and result.observed_pose.shape == (2, 4, 3)
    pose, content = encode_sequence(drnet, observed, content_time=-1)
    assert torch.allclose(result.content, content) and torch.allclose(result.observed_pose, pose)
    assert torch.allclose(result.frames, decode_poses(drnet, content, result.pose), atol=1e-6)
    true_pose, _ = encode_sequence(drnet, future, content_time=0)
    oracle = oracle_frames(drnet, content, future)
    assert torch.allclose(oracle[:, 1], drnet.decode(content, true_pose[:, 1]), atol=1e-6)
    copy = copy_last_frames(observed, 3)
    assert copy.shape == future.shape and torch.equal(copy[:, 2], observed[:, -1])


def test_lstm_loss_is_the_mse_of_the_next_pose():
    a, b = torch.rand(2, 5, 3), torch.rand(2, 5, 3)
    assert torch.isclose(lstm_loss(a, b), torch.nn.functional.mse_loss(a, b))


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def tiny_drnet_checkpoint(tmp_path_factory, mnist_root):
    out = tmp_path_factory.mktemp("drnet")
    config = preset("mnist-lite", image_size=32, digit_size=20, width=4, content_dim=8, pose_dim=3, batch_size=8,
                    steps=2, log_every=1, image_every=10, checkpoint_every=2, device="cpu")
    fit(config, out, data_root=mnist_root, progress=False)
    return out / "checkpoint.pt"


def _tiny_lstm_config(**overrides):
    base = dict(hidden_size=8, observed=3, predicted=2, batch_size=4, steps=6, log_every=2, checkpoint_every=3,
                device="cpu", bank_clips=0)
    return lstm_preset("lstm-lite", **{**base, **overrides})


@pytest.mark.parametrize("bank", [0, 6])
def test_resume_equals_a_straight_run(tmp_path, tiny_drnet_checkpoint, mnist_root, bank):
    # lr_decay = 0: a decay follows the total steps, which this test changes between the two halves
    config = _tiny_lstm_config(bank_clips=bank, bank_length=8, lr_decay=0.0)
    straight = fit_lstm(config, tiny_drnet_checkpoint, tmp_path / "a", data_root=mnist_root, progress=False)
    fit_lstm(_tiny_lstm_config(bank_clips=bank, bank_length=8, lr_decay=0.0, steps=3), tiny_drnet_checkpoint, tmp_path / "b",
             data_root=mnist_root, progress=False)
    resumed = fit_lstm(config, tiny_drnet_checkpoint, tmp_path / "b", resume=True, data_root=mnist_root, progress=False)
    for (name, a), (_, b) in zip(straight.lstm.state_dict().items(), resumed.lstm.state_dict().items()):
        assert torch.equal(a, b), name
    assert straight.history[-1]["mse"] == resumed.history[-1]["mse"] and resumed.step == 6


def test_checkpoint_loads_with_weights_only_and_checks_its_drnet(tmp_path, tiny_drnet_checkpoint, mnist_root):
    result = fit_lstm(_tiny_lstm_config(), tiny_drnet_checkpoint, tmp_path, data_root=mnist_root, progress=False)
    payload = load_checkpoint(result.checkpoint, kind="pose_lstm")  # torch.load(weights_only=True)
    drnet, _ = load_drnet(tiny_drnet_checkpoint)
    assert payload["drnet"]["fingerprint"] == drnet_fingerprint(drnet)
    lstm, config, record = load_pose_lstm(result.checkpoint, drnet)
    for (name, a), (_, b) in zip(lstm.state_dict().items(), result.lstm.state_dict().items()):
        assert torch.equal(a, b), name
    other = DRNet(drnet.config)
    with pytest.raises(CheckpointError, match="another DRNet"):
        load_pose_lstm(result.checkpoint, other)
    with pytest.raises(ValueError, match="another config"):
        fit_lstm(_tiny_lstm_config(hidden_size=9), tiny_drnet_checkpoint, tmp_path, resume=True, data_root=mnist_root,
                 progress=False)


def test_bank_windows_cut_the_right_frames(tiny_drnet_checkpoint, mnist_root):
    from drnet_lite.data import MovingMNIST
    import dataclasses

    drnet, config = load_drnet(tiny_drnet_checkpoint)
    data = MovingMNIST(dataclasses.replace(config.data, seq_len=9), root=mnist_root)
    bank = PoseBank.build(drnet, data, clips=5, length=9, seed=0, batch=2)
    assert bank.pose.shape == (5, 9, 3) and bank.content.shape == (5, 9, 8)
    g = torch.Generator().manual_seed(0)
    pose, content = bank.windows(7, 4, content_time=2, generator=g)
    g = torch.Generator().manual_seed(0)
    clip, start = torch.randint(5, (7,), generator=g), torch.randint(6, (7,), generator=g)
    for i in range(7):
        assert torch.equal(pose[i], bank.pose[clip[i], start[i]:start[i] + 4])
        assert torch.equal(content[i], bank.content[clip[i], start[i] + 2])
    # the bank holds what the encoders give for those frames
    frames = data.sample(2, generator=torch.Generator().manual_seed(0), times=torch.arange(9).expand(2, -1)).frames
    expected, _ = encode_sequence(drnet, frames, content_time=0)
    assert torch.allclose(bank.pose[:2], expected, atol=1e-5)


def test_cli_train_lstm_predict_and_evaluate(tmp_path, tiny_drnet_checkpoint, mnist_root, capsys):
    run = tmp_path / "lstm"
    code = cli_main(["train-lstm", "--drnet", str(tiny_drnet_checkpoint), "--steps", "4", "--hidden-size", "8",
                     "--observed", "3", "--predicted", "2", "--batch-size", "4", "--bank-clips", "4",
                     "--out", str(run), "--data", str(mnist_root), "--device", "cpu"])
    assert code == 0
    out = tmp_path / "predict"
    code = cli_main(["predict", "--checkpoint", str(run / "checkpoint.pt"), "--observe", "3", "--horizon", "12",
                     "--clips", "2", "--out", str(out), "--data", str(mnist_root)])
    assert code == 0
    assert (out / "strip.png").read_bytes()[:4] == b"\x89PNG" and (out / "rollout.gif").read_bytes()[:3] == b"GIF"
    from PIL import Image

    assert Image.open(out / "rollout.gif").n_frames == 15
    code = cli_main(["evaluate-lstm", "--checkpoint", str(run / "checkpoint.pt"), "--observe", "3", "--horizon", "4",
                     "--clips", "6", "--long-clips", "4", "--long-at", "5", "9", "--out", str(tmp_path / "m.json"),
                     "--data", str(mnist_root)])
    assert code == 0
    results = json.loads((tmp_path / "m.json").read_text())
    assert len(results["curves"]["lstm"]["window_ssim"]) == 4 and "judge_accuracy_9" in results
    assert (tmp_path / "m.png").is_file()
    # a small file in the standard test set's layout (uint8, time first), at this tiny model's 32 px
    from drnet_lite.data import MovingMNIST, save_standard_test_set

    drnet, config = load_drnet(tiny_drnet_checkpoint)
    clips = MovingMNIST(dataclasses.replace(config.data, seq_len=20, split="test"), root=mnist_root).sample(3, seed=0)
    standard = save_standard_test_set(tmp_path / "mnist_test_seq.npy", clips.frames)
    code = cli_main(["predict", "--checkpoint", str(run / "checkpoint.pt"), "--observe", "10", "--horizon", "3",
                     "--clips", "1", "--out", str(out), "--data", str(mnist_root), "--standard-file", str(standard)])
    assert code == 0
    mse = json.loads((out / "standard_file_mse.json").read_text())
    assert mse["clips"] == 3 and len(mse["mse_sum_per_frame"]) == 10 and "summed over the pixels" in mse["unit"]
    exported = tmp_path / "slim.pt"
    assert cli_main(["export", "--checkpoint", str(run / "checkpoint.pt"), "--out", str(exported)]) == 0
    assert "optimizer" not in load_checkpoint(exported) and load_pose_lstm(exported)[0] is not None


def test_cli_predict_names_a_missing_checkpoint(tmp_path, capsys):
    assert cli_main(["predict", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_lstm_config_round_trips():
    cfg = LSTMConfig(hidden_size=32, steps=5)
    assert LSTMConfig.from_dict(cfg.to_dict()) == cfg
