"""The device rule, checked without a GPU: a model on the ``meta`` device, inputs on the CPU.

Every public function that takes a model must move the frames to the model's
device, run there and hand its result back on the CPU. A model on ``meta``
(shapes only, no values) stands in for a GPU: any op that meets a CPU tensor
and a meta tensor raises, so a function that forgets to move its inputs fails
here exactly as it would on CUDA. Results come back as CPU zeros of the right
shape (:func:`drnet_lite.device.to_cpu`); the values are not the point.
"""
import pytest
import torch

from drnet_lite.course import device_of, to_cpu
from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.predict import (PoseLSTM, decode_poses, encode_sequence, generate_poses, oracle_frames,
                                rollout, teacher_forced)
from drnet_lite.presets import lstm_preset
from drnet_lite.swap import decode_all_pairs, interpolate, reconstruct, reconstruction_figure, swap_figure, swap_matrix
from drnet_lite.widgets import RolloutExplorer, SwapExplorer

CPU = torch.device("cpu")


def _meta_drnet(**overrides):
    torch.manual_seed(0)
    config = dict(image_size=32, width=4, content_dim=5, pose_dim=3) | overrides
    return DRNet(DRNetConfig(**config)).to("meta").eval()


def _meta_lstm():
    torch.manual_seed(0)
    return PoseLSTM(pose_dim=3, content_dim=5, hidden_size=8, num_layers=2).to("meta").eval()


def _on_cpu(x, shape):
    assert x.device == CPU, f"result on {x.device}, expected the CPU"
    assert tuple(x.shape) == shape


def test_meta_mixing_raises_so_the_test_can_fail():
    model = _meta_drnet()
    with pytest.raises((RuntimeError, NotImplementedError)):
        model.encode_pose(torch.rand(2, 1, 32, 32))  # no move: what every function below must avoid


def test_device_of_and_to_cpu():
    assert device_of(_meta_drnet()).type == "meta"
    assert device_of(torch.nn.ReLU()) == CPU
    _on_cpu(to_cpu(torch.empty(2, 3, device="meta")), (2, 3))


@pytest.mark.parametrize("skip", [False, True])
def test_swap_functions_move_frames_and_return_on_the_cpu(skip):
    model = _meta_drnet(skip=skip)
    content, pose = torch.rand(3, 1, 32, 32), torch.rand(4, 1, 32, 32)
    _on_cpu(decode_all_pairs(model, content, pose), (3, 4, 1, 32, 32))
    _on_cpu(swap_matrix(model, content, pose), (3, 4, 1, 32, 32))
    _on_cpu(reconstruct(model, content[:2], pose[:2]), (2, 1, 32, 32))
    assert swap_figure(model, content, pose).ndim == 3
    assert reconstruction_figure(model, content[:2], pose[:2]).ndim == 3
    _on_cpu(interpolate(model, content[0], content[1], pose[0], pose[1], steps=5), (2, 5, 1, 32, 32))


def test_swap_explorer_encodes_on_the_model_device():
    model = _meta_drnet()
    explorer = SwapExplorer(model, torch.rand(2, 3, 1, 32, 32), torch.rand(2, 3, 1, 32, 32))
    _on_cpu(explorer.swap(1, 0, 2), (1, 32, 32))
    assert explorer.panel(0, 1, 2).startswith(b"\x89PNG")


def test_prediction_functions_move_inputs_and_return_on_the_cpu():
    drnet, lstm = _meta_drnet(), _meta_lstm()
    frames = torch.rand(2, 6, 1, 32, 32)
    pose, content = encode_sequence(drnet, frames, content_time=-1)
    _on_cpu(pose, (2, 6, 3))
    _on_cpu(content, (2, 5))
    _on_cpu(teacher_forced(lstm, torch.rand(2, 6, 3), torch.rand(2, 5)), (2, 5, 3))
    _on_cpu(generate_poses(lstm, torch.rand(2, 6, 3), torch.rand(2, 5), horizon=7), (2, 7, 3))
    _on_cpu(decode_poses(drnet, torch.rand(2, 5), torch.rand(2, 4, 3)), (2, 4, 1, 32, 32))
    result = rollout(drnet, lstm, frames, horizon=5)
    for tensor, shape in ((result.content, (2, 5)), (result.observed_pose, (2, 6, 3)), (result.pose, (2, 5, 3)),
                          (result.frames, (2, 5, 1, 32, 32))):
        _on_cpu(tensor, shape)
    _on_cpu(oracle_frames(drnet, torch.rand(2, 5), torch.rand(2, 4, 1, 32, 32)), (2, 4, 1, 32, 32))
    assert RolloutExplorer(frames, result.frames, observed=1).panel(3).startswith(b"\x89PNG")


@pytest.fixture
def judge():
    from drnet_lite.judge import DEFAULT_JUDGE, load_judge

    if not DEFAULT_JUDGE.is_file():
        pytest.skip("shipped judge weights missing")
    return load_judge()


def test_evaluation_runs_on_the_model_device(moving_mnist, judge):
    from drnet_lite.experiments.moving_mnist import evaluate_swaps, leakage_probes

    data = moving_mnist(split="test", image_size=32, digit_size=16, num_digits=1, seq_len=6)
    model = _meta_drnet()
    swaps = evaluate_swaps(model, data, judge, count=8, batch=4)
    assert swaps["pairs"] == 8
    probes = leakage_probes(model, data, count=40)
    assert "fresh_scene_discriminator_accuracy" in probes


def test_prediction_evaluation_runs_on_the_model_device(moving_mnist, judge):
    from drnet_lite.experiments.moving_mnist import long_horizon_accuracy
    from drnet_lite.evaluate_prediction import prediction_curves, standard_file_mse

    data = moving_mnist(split="test", image_size=32, digit_size=16, num_digits=1, seq_len=9)
    drnet, lstm = _meta_drnet(), _meta_lstm()
    curves = prediction_curves(drnet, lstm, data, clips=4, observe=5, horizon=4, batch=2)
    assert len(curves["lstm"]["window_ssim"]) == 4
    accuracy = long_horizon_accuracy(drnet, lstm, data, judge, clips=4, observe=5, at=(2, 4), batch=2)
    assert {"judge_accuracy_2", "judge_accuracy_4", "judge_accuracy_true_position_2",
            "judge_accuracy_true_position_4", "extra_digit_4"} <= set(accuracy)
    mse = standard_file_mse(drnet, lstm, torch.randint(0, 256, (3, 8, 1, 32, 32), dtype=torch.uint8), observe=5)
    assert len(mse["mse_sum_per_frame"]) == 3


@pytest.mark.parametrize("crash", [False, True])
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_fit_lstm_hands_a_caller_s_drnet_back_in_its_layout(mnist_root, layout, crash, monkeypatch):
    """fit_lstm trains on channels_last; the caller's DRNet comes back as it was, after a crash too.

    (A meta model cannot test the device half: nothing can be copied off meta. The
    same ``finally`` restores device and layout together.)
    """
    from drnet_lite import train_lstm
    from drnet_lite.presets import preset

    drnet_config = preset("mnist-lite", width=4, image_size=32, digit_size=16)
    torch.manual_seed(0)
    drnet = DRNet(drnet_config.model).to(memory_format=layout).eval()
    config = lstm_preset("lstm-lite", steps=2, bank_clips=4, bank_length=60, log_every=1, device="cpu")
    if crash:
        def broken(*args, **kwargs):
            raise KeyboardInterrupt  # as if the student stopped the cell while the bank was encoded
        monkeypatch.setattr(train_lstm.PoseBank, "build", broken)
        with pytest.raises(KeyboardInterrupt):
            train_lstm.fit_lstm(config, drnet, drnet_config=drnet_config, data_root=mnist_root, progress=False)
    else:
        train_lstm.fit_lstm(config, drnet, drnet_config=drnet_config, data_root=mnist_root, progress=False)
    weights = [p for p in drnet.parameters() if p.dim() == 4 and p.shape[1] > 1]
    assert all(p.device == CPU for p in drnet.parameters())
    assert all(p.is_contiguous(memory_format=layout) for p in weights)
