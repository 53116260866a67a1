"""After a resume the history is the history of a run never interrupted: the first row averages the
steps before the interruption too (their loss sums travel in the checkpoint)."""
from __future__ import annotations

import os
import signal

import pytest
import torch

from drnet_lite import train as train_module
from drnet_lite.checkpoint import load_checkpoint
from drnet_lite.loop import LoopState, start_state, train_loop
from drnet_lite.presets import preset
from drnet_lite.runs import Interrupted, open_run
from drnet_lite.train import fit


def losses(at: int) -> dict[str, torch.Tensor]:
    return {"rec": torch.tensor(1.0 / (at + 3)), "adv": torch.tensor(0.1 * at)}


def test_the_loop_carries_the_unlogged_steps_across_a_resume():
    straight = train_loop(open_run(None), LoopState(), 10, losses, lambda at: None, log_every=5,
                          checkpoint_every=100, progress=False)
    saved: dict = {}
    first = LoopState()

    def save(at: int) -> None:
        saved.update(step=at, history=list(first.history), elapsed=first.elapsed, log_partial=first.partial_record(),
                     rng={"torch": torch.get_rng_state()})

    def stopped_at_step_7(at: int) -> dict[str, torch.Tensor]:
        if at == 6:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during step 7: saved after it, between rows
        return losses(at)

    with pytest.raises(Interrupted):
        train_loop(open_run(None), first, 10, stopped_at_step_7, save, log_every=5, checkpoint_every=100,
                   progress=False)
    assert saved["step"] == 7 and saved["log_partial"]["steps"] == 2 and len(saved["history"]) == 1
    state = start_state(open_run(None), saved, lambda rng: None)
    resumed = train_loop(open_run(None), state, 10, losses, lambda at: None, log_every=5, checkpoint_every=100,
                         progress=False)
    assert [(r["step"], r["rec"], r["adv"]) for r in resumed.history] == \
           [(r["step"], r["rec"], r["adv"]) for r in straight.history]


def test_fit_resumed_after_a_crash_between_rows_logs_what_a_straight_run_logs(tmp_path, mnist_root, monkeypatch):
    config = dict(image_size=32, digit_size=20, width=4, content_dim=8, pose_dim=3, batch_size=8, steps=8,
                  log_every=4, image_every=100, checkpoint_every=3, max_step=4, device="cpu")
    straight = fit(preset("mnist-lite", **config), tmp_path / "straight", data_root=mnist_root, progress=False)

    real, calls = train_module.train_step, []

    def crash_at_step_5(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt  # a hard stop after the checkpoint of step 3, before any of step 6
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_step", crash_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        fit(preset("mnist-lite", **config), tmp_path / "split", data_root=mnist_root, progress=False)
    monkeypatch.undo()
    payload = load_checkpoint(tmp_path / "split" / "checkpoint.pt")
    assert payload["step"] == 3 and payload["log_partial"]["steps"] == 3 and payload["history"] == []
    resumed = fit(preset("mnist-lite", **config), tmp_path / "split", resume=True, data_root=mnist_root,
                  progress=False)
    for key in ("step", "rec", "sim", "adv", "scene_acc"):
        assert [r[key] for r in resumed.history] == [r[key] for r in straight.history], key
    assert (tmp_path / "split" / "history.csv").read_text().splitlines()[1:] != []
