"""The two-digit diagnosis: per-digit measurements during training, through fit's callback."""
import torch

from drnet_lite.experiments.moving_mnist import DiagnosisLogger, Snapshots, diagnosis_figure, measure, read_rows
from drnet_lite.presets import preset
from drnet_lite.train import fit, load_drnet


def _config():
    return preset("mnist2-joint", width=4, batch_size=8, steps=4, log_every=2, image_every=10**6, checkpoint_every=10**6)


def test_measure_reads_both_digits_and_leaves_the_model_as_it_found_it(mnist_root):
    config = _config()
    torch.manual_seed(0)
    from drnet_lite.models import DRNet

    model = DRNet(config.model).train()
    rng = torch.get_rng_state()
    row = measure(model, config.data, clips=40, root=mnist_root)
    assert model.training and torch.equal(torch.get_rng_state(), rng)
    for k in (0, 1):
        assert 0 <= row[f"content_to_digit_{k}"] <= 1 and 0 <= row[f"pose_to_digit_{k}"] <= 1
        assert row[f"pose_to_position_r2_{k}"] <= 1
        # an all-black channel's error is the mean square of the target frames: about 2% of a 64 x 64 frame is a digit
        assert 0.005 < row[f"blank_mse_channel_{k}"] < 0.05 and row[f"rec_mse_channel_{k}"] > 0
    assert 0 <= row["scene_acc"] <= 1 and "swap_accuracy_digit_0" not in row


def test_the_logger_runs_inside_fit_and_writes_its_rows(mnist_root, tmp_path):
    config = _config()
    logger = DiagnosisLogger(tmp_path / "diagnosis.csv", config, every=4, clips=40, root=mnist_root)
    snapshots = Snapshots(tmp_path / "snaps", config, every=2)
    result = fit(config, data_root=mnist_root, progress=False, callback=lambda *a: (logger(*a), snapshots(*a)))
    rows = read_rows(tmp_path / "diagnosis.csv")
    assert [r["step"] for r in rows] == [4.0] and rows[0]["measure_cpu_s"] > 0
    assert rows[0]["rec_mse_channel_1"] == logger.rows[0]["rec_mse_channel_1"] or abs(
        rows[0]["rec_mse_channel_1"] / logger.rows[0]["rec_mse_channel_1"] - 1) < 1e-5
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == ["step_000002.pt", "step_000004.pt"]
    last, _ = load_drnet(tmp_path / "snaps" / "step_000004.pt")
    x = torch.rand(2, 2, 64, 64)
    assert torch.allclose(last(x, x), result.model(x, x), atol=1e-6)
    figure = diagnosis_figure({"a": rows, "b": rows})
    assert len(figure.axes) == 5
