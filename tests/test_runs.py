"""The run folder and the guards around saving: locks, stale locks, temp files, resume rules,
the finite guard (an inf gradient injected by a hook), strict JSON, PSNR, model input ranges."""
from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from drnet_lite.atomic import write_json
from drnet_lite.checkpoint import CheckpointError, export_weights, load_checkpoint, save_checkpoint
from drnet_lite.data import load_standard_test_set
from drnet_lite.data.moving_mnist import standard_file_layout
from drnet_lite.metrics import psnr, summarize
from drnet_lite.models import DRNet, DRNetConfig
from drnet_lite.runs import (EXPLODED_LOSS, LOCK_NAME, DeferredInterrupt, RunFolderError, TrainingDiverged,
                             acquire_lock, check_losses, open_run, release_lock)
from drnet_lite.train import fit, load_drnet, write_history_csv
from drnet_lite.presets import preset


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_lock_refuses_a_live_owner_and_takes_over_a_dead_one(tmp_path, capsys):
    lock = tmp_path / LOCK_NAME
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))  # alive: our parent
    with pytest.raises(RunFolderError, match=f"in use by process {os.getppid()}"):
        acquire_lock(tmp_path)
    assert json.loads(lock.read_text())["pid"] == os.getppid()  # not touched
    lock.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    assert acquire_lock(tmp_path) == lock
    assert json.loads(lock.read_text())["pid"] == os.getpid() and "stale lock" in capsys.readouterr().out
    release_lock(lock)
    assert not lock.exists()


def test_a_lock_of_another_host_is_never_taken_over(tmp_path):
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": _dead_pid(), "host": "another-machine"}))
    with pytest.raises(RunFolderError, match="another-machine"):
        acquire_lock(tmp_path)


def test_open_run_cleans_stale_temp_files_and_applies_the_resume_rules(tmp_path):
    (tmp_path / "checkpoint.pt.abcd.tmp").write_bytes(b"x" * 100)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "swap_000001.png.ef.tmp").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    run = open_run(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["notes.txt", LOCK_NAME]
    run.close()
    assert not (tmp_path / LOCK_NAME).exists()
    (tmp_path / "history.csv").write_text("step\n1\n")
    with pytest.raises(RunFolderError, match="already holds a run"):
        open_run(tmp_path)
    with pytest.raises(RunFolderError, match="no checkpoint"):
        open_run(tmp_path, resume=True)
    with pytest.raises(RunFolderError, match="contradict"):
        open_run(tmp_path, resume=True, overwrite=True)
    open_run(tmp_path, overwrite=True).close()
    assert not (tmp_path / "history.csv").exists() and (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / LOCK_NAME).exists()  # every refusal released the lock


def test_open_run_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunFolderError, match="is a file"):
        open_run(tmp_path / "f")
    with pytest.raises(RunFolderError, match="cannot be written"):
        open_run(tmp_path / "f" / "run")


def test_losses_nan_inf_and_explosions_are_caught():
    check_losses({"rec": torch.tensor(0.1), "acc": 0.5}, 3, None)
    for bad in (math.nan, math.inf, 2 * EXPLODED_LOSS):
        with pytest.raises(TrainingDiverged, match="at step 3; nothing was saved"):
            check_losses({"rec": torch.tensor(0.1), "adv": torch.tensor(bad)}, 3, None)


def _tiny(**overrides):
    base = dict(image_size=32, digit_size=20, width=4, content_dim=8, pose_dim=3, batch_size=8, steps=4, log_every=1,
                image_every=100, checkpoint_every=2, max_step=4, device="cpu")
    return preset("mnist-lite", **{**base, **overrides})


def _inf_gradient_at(step_wanted: int):
    """A callback-free fault: a hook on one decoder weight that returns an inf gradient at the given step."""
    calls = {"n": 0}

    def hook(grad):
        calls["n"] += 1
        return torch.full_like(grad, math.inf) if calls["n"] == step_wanted else grad

    return hook


@pytest.mark.parametrize("out", [True, False], ids=["run-folder", "in-memory"])
def test_an_inf_gradient_on_the_last_step_is_never_saved(tmp_path, mnist_root, monkeypatch, out):
    """The loss of the last step is finite (computed before the update); the weights after it are not."""
    original = fit.__globals__["build_model"]

    def build_with_hook(config, device="cpu"):
        model = original(config, device)
        model.decoder.out[0].weight.register_hook(_inf_gradient_at(4))
        return model

    monkeypatch.setitem(fit.__globals__, "build_model", build_with_hook)
    folder = tmp_path / "run" if out else None
    with pytest.raises(TrainingDiverged, match="became NaN or inf by step 4") as err:
        fit(_tiny(), folder, data_root=mnist_root, progress=False)
    if out:
        assert "step 2) is kept" in str(err.value)
        assert load_checkpoint(folder / "checkpoint.pt")["step"] == 2  # the good one, untouched
        assert not (folder / LOCK_NAME).exists()


def test_non_finite_checkpoints_are_refused_naming_the_file(tmp_path):
    model = DRNet(DRNetConfig(image_size=8, width=2, content_dim=2, pose_dim=2))
    state = model.state_dict()
    state["decoder.out.0.weight"] = torch.full_like(state["decoder.out.0.weight"], math.nan)
    config = _tiny().to_dict()
    path = save_checkpoint({"kind": "drnet", "config": config, "state": state}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match=f"{path} holds non-finite values.*decoder.out.0.weight"):
        load_drnet(path)


def test_export_refuses_its_own_checkpoint(tmp_path):
    path = save_checkpoint({"kind": "drnet", "optimizers": {}, "state": {}}, tmp_path / "c.pt")
    before = path.read_bytes()
    with pytest.raises(ValueError, match="is the checkpoint itself"):
        export_weights(path, tmp_path / "." / "c.pt")
    assert path.read_bytes() == before


def test_json_refuses_nan_and_inf_and_writes_nothing(tmp_path):
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="swap.psnr is not a finite number"):
            write_json({"swap": {"psnr": bad}}, tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(IsADirectoryError, match="is a folder"):
        write_json({"a": 1}, tmp_path)
    assert json.loads(write_json({"a": [1.5]}, tmp_path / "m.json").read_text()) == {"a": [1.5]}


def test_concurrent_writers_of_one_file_never_collide(tmp_path):
    errors = []

    def writer(i):
        try:
            for _ in range(20):
                write_json({"writer": i}, tmp_path / "m.json")
                write_history_csv([{"step": i}], tmp_path / "history.csv")
        except Exception as exc:  # noqa: BLE001 - the test reports any
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert json.loads((tmp_path / "m.json").read_text())["writer"] in range(4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "m.json"]


def test_psnr_never_turns_nan_into_inf():
    x = torch.rand(3, 1, 8, 8)
    assert math.isinf(summarize(psnr(x, x)))  # exact match: +inf is right
    broken = x.clone()
    broken[1] = math.nan
    assert math.isnan(summarize(psnr(broken, x)))
    assert summarize(torch.tensor([10.0, math.inf, 20.0])) == 15.0


def test_drnet_refuses_frames_outside_float_0_1():
    model = DRNet(DRNetConfig(image_size=8, width=2, content_dim=2, pose_dim=2)).eval()
    frames = torch.rand(2, 1, 8, 8)
    model(frames, frames)
    with pytest.raises(ValueError, match="float in \\[0, 1\\], got torch.uint8"):
        model((frames * 255).to(torch.uint8), frames)
    with pytest.raises(ValueError, match="max 255.*divide 0..255 frames by 255"):
        model(frames, frames * 0 + 255)
    with pytest.raises(ValueError, match="got min -0"):
        model.encode_pose(frames * 2 - 1 - 0.01)


def test_clip_first_standard_files_are_recognised(tmp_path, moving_mnist):
    frames = (moving_mnist(image_size=32, digit_size=16, num_digits=2, seq_len=6, split="test")
              .sample(4, seed=0).frames[:, :, 0] * 255).round().to(torch.uint8).numpy()  # (N, T, H, W)
    assert standard_file_layout(frames.transpose(1, 0, 2, 3)) == "time-first"
    assert standard_file_layout(frames) == "clip-first"
    np.save(tmp_path / "clip_first.npy", frames)
    assert torch.equal(load_standard_test_set(tmp_path / "clip_first.npy")[:, :, 0], torch.from_numpy(frames))
    rng = np.random.default_rng(0).integers(0, 256, (6, 4, 32, 32), dtype=np.uint8)
    assert standard_file_layout(rng) == "unclear"  # no evidence: refused rather than guessed
    np.save(tmp_path / "noise.npy", rng)
    with pytest.raises(ValueError, match="noise.npy: its frames do not show which axis is time.*4 clips of 6 frames.*"
                                         "6 clips of 4 frames.*layout='time-first' or 'clip-first'"):
        load_standard_test_set(tmp_path / "noise.npy")
    assert load_standard_test_set(tmp_path / "noise.npy", layout="clip-first").shape == (6, 4, 1, 32, 32)
    assert load_standard_test_set(tmp_path / "noise.npy", layout="time-first").shape == (4, 6, 1, 32, 32)


@pytest.mark.parametrize("content, words", [(b"", "is empty"), (b"PK\x03\x04rest", ".npz"), (b"1 2 3\n", "not a .npy")])
def test_bad_standard_files_never_suggest_unpickling(tmp_path, content, words):
    (tmp_path / "f.npy").write_bytes(content)
    with pytest.raises(ValueError, match=words) as err:
        load_standard_test_set(tmp_path / "f.npy")
    assert "allow_pickle" not in str(err.value)


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="holds Python objects") as err:
        load_standard_test_set(tmp_path / "objects.npy")
    assert "allow_pickle" not in str(err.value)


def test_deferred_interrupt_waits_for_the_step_boundary():
    stop = DeferredInterrupt().install()
    try:
        os.kill(os.getpid(), 2)  # SIGINT: only recorded
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C is not deferred
            os.kill(os.getpid(), 2)
    finally:
        stop.restore()
