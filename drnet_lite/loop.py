"""One training loop for every model (DRNet and the pose LSTM): it knows nothing of the model or the data.

The caller hands over a ``step_fn`` that takes one optimisation step and
returns its detached losses; the loop does everything around it:

* the NaN / explosion guard on every step's losses (:meth:`~drnet_lite.runs.Run.check_losses`);
* the history: every ``log_every`` steps one row ``{"step", <mean of each loss>, "time"}``,
  where ``time`` is the training time so far (carried across resumes);
* the tqdm progress bar and its postfix;
* periodic pictures (``pictures(step)`` every ``image_every`` steps);
* checkpoints every ``checkpoint_every`` steps and at the end (``save(step)``,
  which writes atomically through the run folder);
* Ctrl-C: the step in progress finishes, the state is saved, then
  :class:`~drnet_lite.runs.Interrupted` is raised. With several processes
  ``agree`` (``Distributed.any``) makes them stop after the same step even when
  the signal reaches them at different moments, so none waits in a collective
  for one that has gone.

Resuming: the caller restores its model and optimiser from the checkpoint, and
:func:`start_state` the rest (the step, history and elapsed time, torch's
generator and the data generators); the loop then simply continues, so a
resumed run draws the same batches and ends with the same weights as one that
was never interrupted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from .runs import DeferredInterrupt, Run, interrupted


@dataclass
class LoopState:
    """Where a run is: steps done, the logged rows, training seconds so far, and the loss sums of the
    steps since the last row (``partial``, over ``partial_steps`` steps)."""

    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    elapsed: float = 0.0
    partial: dict[str, Any] = field(default_factory=dict)
    partial_steps: int = 0

    def partial_record(self) -> dict[str, Any]:
        """What a checkpoint keeps of the unlogged steps, so that the first row after a resume averages
        the same steps, to the bit, as a run never interrupted (``payload["log_partial"]``)."""
        sums = {k: v.detach().cpu() if isinstance(v, torch.Tensor) else float(v) for k, v in self.partial.items()}
        return {"sums": sums, "steps": self.partial_steps}


def start_state(run: Run, payload: dict[str, Any] | None, restore_rng: Callable[[dict[str, Any]], None]) -> LoopState:
    """Where a run starts: at step 0, or (``payload``: the checkpoint it resumes from) where it was saved.

    On resume this also restores torch's global generator and, through
    ``restore_rng(payload["rng"])``, the data generators, and tells ``run``
    that the step is already saved. The model and optimiser are the caller's.
    """
    if payload is None:
        return LoopState()
    restore_rng(payload["rng"])
    torch.set_rng_state(payload["rng"]["torch"])
    partial = payload.get("log_partial") or {"sums": {}, "steps": 0}  # absent from older checkpoints
    state = LoopState(int(payload["step"]), list(payload["history"]), float(payload.get("elapsed", 0.0)),
                      dict(partial["sums"]), int(partial["steps"]))
    run.saved_step = state.step
    return state


def train_loop(run: Run, state: LoopState, steps: int, step_fn: Callable[[int], dict[str, Any]],
               save: Callable[[int], None], log_every: int, checkpoint_every: int,
               pictures: Callable[[int], None] | None = None, image_every: int | None = None,
               progress: bool = True, desc: str = "training",
               postfix: Callable[[dict[str, float]], dict[str, str]] | None = None,
               on_log: Callable[[int, list[dict[str, float]]], None] | None = None,
               agree: Callable[[bool], bool] = bool) -> LoopState:
    """Run ``step_fn(step)`` (``step`` = steps done before it) until ``state.step == steps``.

    ``step_fn`` returns a dict of losses (0-d tensors or floats); they are
    checked, averaged over each logging period and logged. ``save`` and
    ``pictures`` read ``state`` (history, elapsed) when they are called.
    ``agree(requested)`` turns this process's Ctrl-C flag into the decision of
    all processes (any of them asked); one process keeps its own flag.
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=steps, initial=state.step, disable=not progress, desc=desc, dynamic_ncols=True)
    tick = time.perf_counter()
    stop = DeferredInterrupt().install()
    try:
        while state.step < steps:
            losses = step_fn(state.step)
            run.check_losses(losses, state.step + 1)
            state.step += 1
            step = state.step
            sums = state.partial
            for key, value in losses.items():
                sums[key] = sums.get(key, 0.0) + value
            state.partial_steps += 1
            now = time.perf_counter()  # the clock is read every step, so a checkpoint keeps every second
            state.elapsed += now - tick
            tick = now
            if step % log_every == 0 or step == steps:
                count = state.partial_steps
                row = {"step": step, **{k: float(v) / count for k, v in sums.items()}, "time": round(state.elapsed, 3)}
                state.history.append(row)
                state.partial, state.partial_steps = {}, 0
                if postfix is not None:
                    bar.set_postfix(**postfix(row))
                if on_log is not None:
                    on_log(step, state.history)
            if pictures is not None and image_every and (step % image_every == 0 or step == steps):
                pictures(step)
            if step % checkpoint_every == 0 or step == steps:
                save(step)
            bar.update(1)
            if agree(stop.requested):
                save(step)
                raise interrupted(run, step, "" if stop.signal_name == "SIGINT" else stop.signal_name)
        if state.step == 0:  # a run of 0 steps: its checkpoint holds the initial weights, as its result says
            save(0)
    finally:
        stop.restore()
        run.close()
        bar.close()
    return state
