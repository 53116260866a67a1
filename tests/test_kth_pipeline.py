"""KTH end to end on a miniature set served from 127.0.0.1, through the command line.

download -> parse -> split (no test person in train) -> decode into the cache
(a second run decodes nothing) -> clips with labels -> one DRNet step of
kth-64 (tiny) -> a pose LSTM step and rollout -> MCnet's windows scored
against copy-last and the oracle -> the action probe.
"""
from __future__ import annotations

import hashlib
import json

import pytest

from drnet_lite import cli
from drnet_lite.data import kth
from drnet_lite.data.kth_mini import write_miniature_kth
from drnet_lite.data.kth_source import KTHConfig, KTHSource
from drnet_lite.experiments.kth import action_probe, format_curves, format_probe, protocol_curves
from drnet_lite.presets import PRESETS, preset
from drnet_lite.train import load_drnet
from drnet_lite.train_lstm import load_pose_lstm
from kth_fixtures import serve

TINY = ["--steps", "1", "--batch-size", "4", "--width", "4", "--device", "cpu"]


def test_kth_end_to_end(tmp_path, monkeypatch, capsys):
    site = tmp_path / "site"
    write_miniature_kth(site, persons=(1, 2, 17, 18), actions=kth.ACTIONS, frames=64)
    known = {"boxing.zip": hashlib.sha256((site / "boxing.zip").read_bytes()).hexdigest()}
    monkeypatch.setattr(kth, "KNOWN_SHA256", known)
    root = tmp_path / "data"
    with serve(site) as server:
        assert cli.main(["download", "kth", "--root", str(root), "--mirror", server.url, "--min-archive-mb", "0.001"]) == 0
    out = capsys.readouterr().out
    assert "7 downloaded" in out and "24 videos extracted" in out

    # kth-64, shrunk to a CPU step: clips of 9 frames, content/pose frames up to 8 apart
    run = tmp_path / "run"
    monkeypatch.setitem(PRESETS, "kth-64", _tiny(preset("kth-64")))
    assert cli.main(["train", "--preset", "kth-64", "--root", str(root), "--out", str(run), *TINY]) == 0
    drnet, config = load_drnet(run / "checkpoint.pt")
    assert config.data.source == "kth" and drnet.config.skip and config.data.image_size == 64

    # split and labels: no test person in train; the cache is reused
    import drnet_lite.data.kth_source as module
    monkeypatch.setattr(module, "decode_video", lambda *a, **k: pytest.fail("decoded again"))
    train = KTHSource(config.data, root=root, progress=False)
    test = KTHSource(KTHConfig(image_size=64, seq_len=4, split="test"), root=root, progress=False)
    assert set(train.table[:, 3].tolist()) == {1, 2} and set(test.table[:, 3].tolist()) == {17, 18}
    clips = train.sample(8, seed=0)
    assert clips.frames.shape == (8, 9, 1, 64, 64) and len(set(clips.action.tolist())) > 1

    # the pose LSTM through the CLI (one step), then a rollout scored on MCnet's windows
    lstm_run = tmp_path / "lstm"
    assert cli.main(["train-lstm", "--preset", "kth-64-lstm", "--drnet", str(run / "checkpoint.pt"), "--out",
                     str(lstm_run), "--steps", "1", "--batch-size", "4", "--observed", "4", "--predicted", "4",
                     "--hidden-size", "16", "--device", "cpu", "--root", str(root)]) == 0
    lstm, _, _ = load_pose_lstm(lstm_run / "checkpoint.pt", drnet)
    result = protocol_curves(drnet, lstm, test, observed=4, predicted=6)
    rows, _ = test.protocol_windows(4, 6)
    assert result["windows"] == len(rows) > 0
    for method in ("lstm", "oracle", "copy_last"):
        assert len(result["curves"][method]["psnr"]) == 6
        assert all(0 < v < 60 for v in result["curves"][method]["psnr"])
        assert all(-1 <= v <= 1 for v in result["curves"][method]["ssim"])
    # copy-last is exact at no step (the figures move) but scores best at t+1 where little has moved
    copy = result["curves"]["copy_last"]["psnr"]
    assert copy[0] > copy[-1]
    table = format_curves(result)
    assert "MCnet protocol" in table and "PSNR lstm" in table and "SSIM oracle" in table

    probe_train = KTHSource(KTHConfig(image_size=64, seq_len=4), root=root, progress=False)
    probe = action_probe(drnet, probe_train, test, clips=48, frames=4, epochs=20)
    assert set(probe) >= {"pose_linear", "content_linear", "pose_mlp", "content_mlp", "chance"}
    assert all(0 <= probe[k] <= 1 for k in ("pose_linear", "content_linear", "chance"))
    assert "miniature" in format_probe(probe, "the miniature KTH")

    assert cli.main(["evaluate-kth", "--checkpoint", str(lstm_run / "checkpoint.pt"), "--root", str(root),
                     "--observe", "4", "--horizon", "6", "--probe-clips", "24", "--probe-frames", "4"]) == 0
    printed = capsys.readouterr().out
    assert "not the full KTH" in printed and "MCnet protocol" in printed and "action probe on a KTH-format set" in printed
    saved = json.loads((lstm_run / "kth_metrics.json").read_text())
    assert saved["windows"] == result["windows"] and "action_probe" in saved
    # the generic commands work on a KTH run as on any source
    assert cli.main(["evaluate-lstm", "--checkpoint", str(lstm_run / "checkpoint.pt"), "--data", str(root),
                     "--observe", "4", "--horizon", "6", "--clips", "8"]) == 0
    assert (lstm_run / "prediction_metrics.json").is_file()


def _tiny(config):
    def make():
        return config.__class__(**{**config.__dict__, "data": KTHConfig(image_size=64, seq_len=9),
                                   "max_step": 8, "image_every": 10**6})
    return make


def test_offline_cli_message(tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert cli.main(["download", "kth", "--root", str(tmp_path), "--mirror", f"http://127.0.0.1:{port}/"]) == 2
    err = capsys.readouterr().err
    assert "boxing.zip" in err and str(tmp_path / "KTH") in err and f"127.0.0.1:{port}/boxing.zip" in err
