"""SIGTERM is deferred and saved like Ctrl-C; a second signal in a finaliser prints no stray traceback."""
from __future__ import annotations

import gc
import os
import signal
import sys

import pytest

from drnet_lite.loop import LoopState, train_loop
from drnet_lite.runs import DeferredInterrupt, Interrupted, open_run


def test_sigterm_is_only_recorded_then_a_second_signal_interrupts():
    before = signal.getsignal(signal.SIGTERM)
    stop = DeferredInterrupt().install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signal_name == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        stop.restore()
    assert signal.getsignal(signal.SIGTERM) == before


class RaisesWhenCollected:
    def __del__(self):
        raise KeyboardInterrupt  # as a second Ctrl-C landing in a finaliser does


def test_a_second_signal_in_a_finaliser_is_dropped_quietly(capfd):
    seen: list[type] = []
    before = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: seen.append(unraisable.exc_type)  # stands for Python's printing hook
    try:
        stop = DeferredInterrupt().install()
        try:
            RaisesWhenCollected()  # before any signal: not ours to drop
            gc.collect()
            stop.requested = True  # the first signal came
            RaisesWhenCollected()
            gc.collect()
        finally:
            stop.restore()
        assert seen == [KeyboardInterrupt]
        assert sys.unraisablehook is not stop._unraisable  # the hook is handed back
    finally:
        sys.unraisablehook = before


def test_the_loop_saves_on_sigterm_and_names_it(tmp_path):
    run = open_run(tmp_path / "run")
    saved: list[int] = []

    def step(at: int) -> dict[str, float]:
        if at == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return {"loss": 1.0}

    with pytest.raises(Interrupted, match=r"interrupted \(SIGTERM\): step 4 was saved to .*checkpoint.pt"):
        train_loop(run, LoopState(), 100, step, saved.append, log_every=10, checkpoint_every=50, progress=False)
    assert saved == [4]
