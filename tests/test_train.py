import dataclasses
import math

import pytest
import torch

import drnet_lite.train as train_module
from drnet_lite.checkpoint import CheckpointError, load_checkpoint
from drnet_lite.cli import main as cli_main
from drnet_lite.train import (Optimizers, TrainConfig, TrainingDiverged, build_model, fit, load_drnet, noisy_pose,
                              sample_times, train_step)
from drnet_lite.presets import preset


def tiny(**overrides) -> TrainConfig:
    """A model small enough for unit tests: 32x32 frames, width 4, batch 8."""
    base = dict(image_size=32, digit_size=20, width=4, content_dim=8, pose_dim=3, batch_size=8,
                steps=6, log_every=2, image_every=3, checkpoint_every=3, max_step=4, device="cpu")
    return preset("mnist-lite", **{**base, **overrides})


def test_sample_times_are_within_max_step():
    g = torch.Generator().manual_seed(0)
    times = sample_times(500, 7, g)
    assert times.shape == (500, 4)
    assert times.min() == 0 and times.max() == 7
    assert len(set(map(tuple, times.tolist()))) > 400  # drawn afresh, not always the first frames


def test_overrides_route_to_the_right_config():
    cfg = preset("mnist-paper", pose_dim=5, num_digits=3, channels="per-digit", lr=1e-3, image_size=32, digit_size=16)
    assert cfg.model.pose_dim == 5 and cfg.data.num_digits == 3 and cfg.lr == 1e-3
    assert cfg.model.image_size == cfg.data.image_size == 32
    assert cfg.model.channels == 3  # follows the data
    cfg.validate()
    with pytest.raises(ValueError, match="unknown setting"):
        preset("mnist-lite", posedim=3)
    with pytest.raises(ValueError, match="unknown preset"):
        preset("imagenet")


def test_paper_preset_has_the_reference_hyperparameters():
    cfg = preset("mnist-paper")
    assert (cfg.lr, cfg.beta1, cfg.batch_size) == (2e-3, 0.5, 100)
    assert (cfg.model.content_dim, cfg.model.pose_dim, cfg.model.width) == (128, 10, 64)
    assert (cfg.similarity_weight, cfg.adversarial_weight, cfg.max_step) == (1.0, 1e-4, 20)


def test_validate_catches_model_data_mismatch():
    cfg = preset("mnist-lite")
    bad = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, channels=3))
    with pytest.raises(ValueError, match="channels"):
        bad.validate()
    with pytest.raises(ValueError, match="batch_size"):
        dataclasses.replace(cfg, batch_size=1).validate()


def test_config_round_trips_through_a_dict():
    cfg = preset("mnist-paper")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_train_step_updates_discriminator_and_autoencoder():
    cfg = tiny()
    model = build_model(cfg)
    opt = Optimizers.create(model, cfg)
    before_c = [p.clone() for p in model.scene_discriminator.parameters()]
    before_d = [p.clone() for p in model.decoder.parameters()]
    frames = torch.rand(8, 4, 1, 32, 32)
    losses = train_step(model, opt, frames, cfg, shift=3)
    assert set(losses) == {"rec", "sim", "adv", "scene", "scene_acc", "total"}
    assert all(math.isfinite(v.item()) for v in losses.values())
    expected = losses["rec"] + cfg.similarity_weight * losses["sim"] + cfg.adversarial_weight * losses["adv"]
    assert losses["total"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert any(not torch.equal(a, b) for a, b in zip(before_c, model.scene_discriminator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, model.decoder.parameters()))


def test_several_discriminator_steps_update_c_that_many_times_on_the_same_pairs():
    frames = torch.rand(8, 4, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    states = {}
    for steps in (1, 3):
        cfg = tiny(discriminator_steps=steps)
        model = build_model(cfg)
        opt = Optimizers.create(model, cfg)
        losses = train_step(model, opt, frames, cfg, shift=1)
        states[steps] = (losses, opt.discriminator.state[next(iter(model.scene_discriminator.parameters()))]["step"])
    assert float(states[1][1]) == 1 and float(states[3][1]) == 3  # Adam counted 3 updates of C
    assert states[1][0]["scene"].item() == pytest.approx(states[3][0]["scene"].item())  # logged: C before its updates
    with pytest.raises(ValueError, match="discriminator_steps"):
        tiny(discriminator_steps=0).validate()
    with pytest.raises(ValueError, match="partner"):
        tiny(partner="video").validate()


def test_scene_partner_is_refused_for_clips_without_scene_labels(mnist_root):
    cfg = dataclasses.replace(tiny(partner="scene"), steps=1)
    with pytest.raises(ValueError, match="partner='scene'"):
        fit(cfg, data_root=mnist_root, progress=False)


def test_adversary_off_gives_zero_adversarial_term():
    cfg = tiny(adversarial_weight=0.0)
    model = build_model(cfg)
    losses = train_step(model, Optimizers.create(model, cfg), torch.rand(8, 4, 1, 32, 32), cfg, shift=1)
    assert losses["adv"].item() == 0.0


def test_motion_weight_weights_the_reconstruction_term_towards_moved_pixels():
    cfg, weighted = tiny(), tiny(motion_weight=5.0)
    frames = torch.rand(8, 4, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    losses = {}
    for name, config in (("plain", cfg), ("weighted", weighted)):
        torch.manual_seed(0)
        model = build_model(config)
        with torch.no_grad():  # the decoded frame before the update, to recompute L_rec by hand
            h_c, skips = model.encode_content(frames[:, 0])
            pose = model.encode_pose(torch.cat([frames[:, 2], frames[:, 3]]))[:8]  # BatchNorm sees both pose frames, as in train_step
            decoded = model.decode(h_c, pose, skips)
        torch.manual_seed(0)
        model = build_model(config)
        losses[name] = train_step(model, Optimizers.create(model, config), frames, config, shift=2)
        error = (decoded - frames[:, 2]).square()
        if name == "plain":
            assert losses[name]["rec"].item() == pytest.approx(error.mean().item(), rel=1e-4)
        else:
            w = 1 + 5.0 * (frames[:, 2] - frames[:, 0]).abs()
            assert losses[name]["rec"].item() == pytest.approx(((w * error).sum() / w.sum()).item(), rel=1e-4)
    assert losses["plain"]["rec"].item() != pytest.approx(losses["weighted"]["rec"].item(), rel=1e-3)
    with pytest.raises(ValueError, match="motion_weight"):
        tiny(motion_weight=-1.0).validate()


def test_pose_noise_reaches_the_decoder_only():
    pose = torch.rand(4000, 10) * 2 - 1
    assert noisy_pose(pose, 0.0) is pose
    torch.manual_seed(0)
    assert (noisy_pose(pose, 0.5) - pose).std().item() == pytest.approx(0.5, rel=0.02)
    frames = torch.rand(8, 4, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    runs = {}
    for noise in (0.0, 0.5):
        config = tiny(pose_noise=noise)
        torch.manual_seed(0)
        model = build_model(config)
        torch.manual_seed(1)  # the same draws for both, apart from the noise itself
        runs[noise] = train_step(model, Optimizers.create(model, config), frames, config, shift=2)
    clean, noisy = runs[0.0], runs[0.5]
    # C's loss (computed before the decoder runs) is the same; the reconstruction term differs (an untrained
    # decoder reads pose weakly, so by little)
    assert noisy["scene"].item() == pytest.approx(clean["scene"].item(), abs=1e-7)
    assert abs(noisy["rec"].item() - clean["rec"].item()) > 1e-6
    with pytest.raises(ValueError, match="pose_noise"):
        tiny(pose_noise=-0.1).validate()


def test_short_lite_run_lowers_the_reconstruction_loss(mnist_root):
    cfg = preset("mnist-lite", width=8, batch_size=16, steps=60, log_every=10, device="cpu")
    result = fit(cfg, None, data_root=mnist_root, progress=False)
    first, last = result.history[0]["rec"], result.history[-1]["rec"]
    assert last < 0.5 * first, (first, last)


def test_checkpoint_round_trip(tmp_path, mnist_root):
    cfg = tiny()
    result = fit(cfg, tmp_path / "run", data_root=mnist_root, progress=False)
    model, loaded_cfg = load_drnet(result.checkpoint)
    assert loaded_cfg == cfg
    x = torch.rand(4, 1, 32, 32)
    assert torch.equal(model(x, x), result.model.eval()(x, x))
    assert all(p.is_contiguous() for p in result.model.parameters())  # same layout as a reloaded model
    payload = load_checkpoint(result.checkpoint)
    assert payload["step"] == 6 and len(payload["history"]) == 3
    assert (tmp_path / "run" / "history.csv").read_text().startswith("step,")
    assert sorted(p.name for p in (tmp_path / "run" / "images").iterdir())[0] == "reconstruction_000003.png"


def test_resume_equals_a_straight_run(tmp_path, mnist_root):
    # N = 4 steps, then save, resume and 4 more, against 8 straight (4 is a log boundary)
    straight = fit(tiny(steps=8), tmp_path / "straight", data_root=mnist_root, progress=False)
    fit(tiny(steps=4), tmp_path / "split", data_root=mnist_root, progress=False)
    resumed = fit(tiny(steps=8), tmp_path / "split", resume=True, data_root=mnist_root, progress=False)
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert [r["rec"] for r in straight.history] == [r["rec"] for r in resumed.history]


def test_resume_refuses_another_config(tmp_path, mnist_root):
    fit(tiny(steps=3), tmp_path / "run", data_root=mnist_root, progress=False)
    with pytest.raises(ValueError, match="another config"):
        fit(tiny(steps=6, pose_dim=4), tmp_path / "run", resume=True, data_root=mnist_root, progress=False)


def test_export_keeps_the_model_and_drops_the_optimiser(tmp_path, mnist_root):
    result = fit(tiny(steps=3), tmp_path / "run", data_root=mnist_root, progress=False)
    assert cli_main(["export", "--checkpoint", str(result.checkpoint), "--out", str(tmp_path / "slim.pt")]) == 0
    slim = load_checkpoint(tmp_path / "slim.pt", kind="drnet")
    assert "optimizers" not in slim and "rng" not in slim and slim["step"] == 3
    model, _ = load_drnet(tmp_path / "slim.pt")
    x = torch.rand(2, 1, 32, 32)
    assert torch.equal(model(x, x), load_drnet(result.checkpoint)[0](x, x))
    assert (tmp_path / "slim.pt").stat().st_size < result.checkpoint.stat().st_size / 2


def test_half_export_loads_as_float32_with_rounded_weights(tmp_path, mnist_root):
    result = fit(tiny(steps=3), tmp_path / "run", data_root=mnist_root, progress=False)
    full, half = tmp_path / "full.pt", tmp_path / "half.pt"
    assert cli_main(["export", "--checkpoint", str(result.checkpoint), "--out", str(full)]) == 0
    assert cli_main(["export", "--checkpoint", str(result.checkpoint), "--out", str(half), "--half"]) == 0
    stored = torch.load(half, weights_only=True)
    assert stored["storage"] == "float16" and all(v.dtype != torch.float32 for v in stored["state"].values())
    model, _ = load_drnet(half)
    reference = load_drnet(full)[0].state_dict()
    for key, value in model.state_dict().items():
        assert value.dtype == reference[key].dtype, key
        assert torch.equal(value, reference[key].half().to(value.dtype) if value.is_floating_point() else reference[key]), key
    assert half.stat().st_size < 0.6 * full.stat().st_size


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_checkpoint_gives_a_clear_error(tmp_path, mnist_root, damage):
    result = fit(tiny(steps=3), tmp_path / "run", data_root=mnist_root, progress=False)
    path = result.checkpoint
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a checkpoint" * 100)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_drnet(path)


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, mnist_root, monkeypatch):
    run = tmp_path / "run"
    fit(tiny(steps=3), run, data_root=mnist_root, progress=False)
    good = (run / "checkpoint.pt").read_bytes()
    real = train_module.reconstruction_loss
    monkeypatch.setattr(train_module, "reconstruction_loss", lambda a, b: real(a, b) * float("nan"))
    with pytest.raises(TrainingDiverged, match="last good checkpoint"):
        fit(tiny(steps=6), run, resume=True, data_root=mnist_root, progress=False)
    assert (run / "checkpoint.pt").read_bytes() == good
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 3


def test_cli_train_and_resume(tmp_path, mnist_root, capsys):
    args = ["train", "--preset", "mnist-lite", "--steps", "2", "--width", "4", "--batch-size", "4",
            "--image-size", "32", "--out", str(tmp_path / "cli"), "--data", str(mnist_root), "--device", "cpu"]
    # digit_size 28 fits in 32 px frames; the CLI keeps model and data in step
    assert cli_main(args) == 0
    assert (tmp_path / "cli" / "checkpoint.pt").is_file()
    assert cli_main(args[:4] + ["4"] + args[5:] + ["--resume"]) == 0
    assert load_checkpoint(tmp_path / "cli" / "checkpoint.pt")["step"] == 4
    assert "checkpoint:" in capsys.readouterr().out


def test_cli_reports_bad_input_without_a_traceback(tmp_path, mnist_root, capsys):
    code = cli_main(["train", "--steps", "1", "--image-size", "16", "--out", str(tmp_path / "x"), "--data", str(mnist_root)])
    assert code == 2
    assert "digit_size 28 is larger than image_size 16" in capsys.readouterr().err


def test_learning_rate_decays_linearly_over_the_last_share_of_the_steps():
    from drnet_lite.train import learning_rate

    cfg = tiny(steps=100, lr=1e-3, lr_decay=0.5)
    assert learning_rate(cfg, 0) == learning_rate(cfg, 49) == 1e-3
    assert learning_rate(cfg, 75) == pytest.approx(0.5e-3)
    assert learning_rate(cfg, 99) == pytest.approx(0.02e-3)
    assert learning_rate(tiny(steps=100, lr=1e-3), 99) == 1e-3  # lr_decay 0: constant, as in the paper
    with pytest.raises(ValueError, match="lr_decay"):
        tiny(lr_decay=1.5).validate()


def test_demo_also_draws_a_shipped_two_digit_model(tmp_path, mnist_root, monkeypatch):
    import drnet_lite.cli as cli

    two = fit(tiny(steps=2, num_digits=2, channels="per-digit"), tmp_path / "two", data_root=mnist_root, progress=False)
    shipped = tmp_path / "mnist2-lite.pt"
    assert cli_main(["export", "--checkpoint", str(two.checkpoint), "--out", str(shipped), "--half"]) == 0
    one = fit(tiny(steps=2), tmp_path / "one", data_root=mnist_root, progress=False)
    monkeypatch.setattr(cli, "SHIPPED_DRNET", tmp_path / "absent.pt")
    monkeypatch.setattr(cli, "SHIPPED_DRNET2", shipped)
    monkeypatch.setattr(cli, "SHIPPED_LSTM", tmp_path / "absent-lstm.pt")
    monkeypatch.setattr(cli, "SHIPPED_VIDEO", tmp_path / "absent-video.pt")  # its pictures: test_shipped_video.py
    # an explicit --checkpoint draws that model only; without it the shipped two-digit model comes too
    assert cli_main(["demo", "--out", str(tmp_path / "a"), "--checkpoint", str(one.checkpoint), "--data", str(mnist_root)]) == 0
    assert not (tmp_path / "a" / "swap_two_digits.png").exists()
    monkeypatch.setattr(cli, "SHIPPED_DRNET", one.checkpoint)
    assert cli_main(["demo", "--out", str(tmp_path / "b"), "--data", str(mnist_root)]) == 0
    assert (tmp_path / "b" / "swap_two_digits.png").is_file() and (tmp_path / "b" / "swap.png").is_file()
