"""Notebook 05 (training), exercise "the four frames of a step": :func:`check_sample_frames`.

The student writes ``sample_frames(clips, max_step, generator)``: four time
steps per clip, uniform in ``[0, max_step]`` and drawn with the given generator,
and the frames at those steps (the rule of :func:`drnet_lite.train.sample_times`).
The check reads every returned frame's origin from clips numbered frame by
frame, and tests the draws for reproducibility and uniformity.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ..train import sample_times
from ._common import _answer_tensor, _call_shown, _check_callable, checks_stub, _correct, _StudentError, _wrong

__all__ = ["check_sample_frames", "reference_sample_frames"]


def reference_sample_frames(clips: torch.Tensor, max_step: int, generator: torch.Generator):
    """The package's four frames per clip: ``(frames (B, 4, C, H, W), times (B, 4))``, times drawn by
    :func:`drnet_lite.train.sample_times` (uniform in ``0..max_step``)."""
    times = sample_times(clips.shape[0], max_step, generator)
    return clips[torch.arange(clips.shape[0])[:, None], times], times


def _numbered_clips(batch: int, length: int, channels: int = 1, size: int = 4) -> torch.Tensor:
    """Clips (B, T, C, S, S) whose frame (b, t) is filled with the number 100 b + t: every frame says where it is from."""
    ids = (100 * torch.arange(batch)[:, None] + torch.arange(length)[None]).float()
    return ids[:, :, None, None, None].expand(batch, length, channels, size, size).clone()


def _frame_problem(clips: torch.Tensor, max_step: int, raw: Any, name: str) -> tuple[str | None, torch.Tensor | None]:
    """Check one answer ``(frames, times)``; return (problem, times)."""
    batch, length = clips.shape[:2]
    call = f"{name}(clips, max_step={max_step}, generator) with clips of shape {tuple(clips.shape)}"
    if not isinstance(raw, (tuple, list)) or len(raw) != 2:
        return f"{call} should return two things, (frames, times); got {type(raw).__name__}.", None
    try:
        frames, times = _answer_tensor(raw[0], "frames"), _answer_tensor(raw[1], "times")
    except TypeError as exc:
        return f"{call}: {exc}.", None
    if tuple(times.shape) != (batch, 4):
        return (f"{call}: `times` has shape {tuple(times.shape)}, expected (B, 4) = ({batch}, 4): four time steps "
                "[t_c1, t_c2, t_p1, t_p2] for every clip."), None
    if times.is_floating_point() or times.dtype == torch.bool:
        return (f"{call}: `times` has dtype {times.dtype}; time steps index frames, so they must be integers "
                "(torch.randint gives int64)."), None
    if int(times.min()) < 0 or int(times.max()) > max_step:
        over = " One above the range: torch.randint(low, high) already includes high - 1 as its largest value." if int(times.max()) == max_step + 1 else ""
        return f"{call}: times must lie in [0, max_step] = [0, {max_step}], got values from {int(times.min())} to {int(times.max())}.{over}", None
    expected_shape = (batch, 4) + tuple(clips.shape[2:])
    if tuple(frames.shape) != expected_shape:
        hint = ""
        if tuple(frames.shape) == (batch, batch, 4) + tuple(clips.shape[2:]):
            hint = (" clips[:, times] takes every clip's frames at every row's times. Pair each clip with its own "
                    "times: clips[torch.arange(B)[:, None], times].")
        return f"{call}: `frames` has shape {tuple(frames.shape)}, expected (B, 4, C, H, W) = {expected_shape}.{hint}", times
    ids = frames.float()[:, :, 0, 0, 0]
    if not torch.equal(frames.float(), ids[:, :, None, None, None].expand_as(frames)) or not torch.equal(ids, ids.round()):
        return f"{call}: `frames` are not frames of `clips` (they should be copies of whole frames, unchanged).", times
    clip_of, time_of = (ids // 100).long(), (ids % 100).long()
    if not torch.equal(clip_of, torch.arange(batch)[:, None].expand(batch, 4)):
        return (f"{call}: row b of `frames` must hold frames of clip b; some rows hold frames of other clips. "
                "Index the clip axis with torch.arange(B)[:, None] next to `times`."), times
    if not torch.equal(time_of, times.long()):
        return f"{call}: frames[b, k] must be clips[b, times[b, k]]; your frames are taken at other time steps than the times you return.", times
    return None, times


@checks_stub
def check_sample_frames(student_fn: Callable[[torch.Tensor, int, torch.Generator], Any]) -> bool:
    """Check ``sample_frames(clips, max_step, generator) -> (frames, times)`` (notebook 05).

    ``clips`` is (B, T, C, H, W). The answer draws, for every clip separately,
    four time steps ``[t_c1, t_c2, t_p1, t_p2]``, each uniform in
    ``[0, max_step]`` and drawn with ``generator`` (so a run can be repeated
    and resumed exactly), and returns ``times`` (B, 4) int and
    ``frames[b, k] = clips[b, times[b, k]]``, (B, 4, C, H, W): the rule of
    :func:`drnet_lite.train.sample_times`.

    Prints the verdict (or a hint) and returns True when everything holds.
    """
    problem = _check_callable(student_fn, "check_sample_frames", "sample_frames")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")

    def run(clips: torch.Tensor, max_step: int, seed: int) -> torch.Tensor:
        kept = clips.clone()
        generator = torch.Generator().manual_seed(seed)
        shown = f"{name}(clips, max_step={max_step}, generator) with clips of shape {tuple(clips.shape)}"
        try:
            raw = _call_shown(student_fn, (clips, max_step, generator), shown, name)
        except _StudentError as err:
            if max_step == 0 and "NotImplementedError" not in err.message:
                raise _StudentError(err.message + " With max_step = 0 the only allowed time step is 0: "
                                    "torch.randint(0, max_step + 1, ...) draws it, while torch.randint(0, max_step, ...) "
                                    "has nothing to draw from (its upper end is left out).") from None
            raise
        if not torch.equal(clips, kept):
            raise _StudentError(f"{name} changed `clips` in place; only read from it.")
        try:
            problem, times = _frame_problem(clips, max_step, raw, name)
        except Exception as exc:  # an answer too odd to analyse: say so instead of crashing
            problem, times = f"{name} returned something the checker cannot read ({type(exc).__name__}: {exc}).", None
        if problem:
            raise _StudentError(problem)
        return times.long()

    try:
        # Shapes, ranges and indexing on a few small cases (T larger than max_step + 1 too).
        for batch, length, channels, max_step in ((6, 13, 1, 12), (4, 20, 2, 5), (2, 3, 1, 2), (5, 7, 1, 3)):
            run(_numbered_clips(batch, length, channels), max_step, seed=batch)
        # Reproducible with the generator it is given, different for another seed.
        clips = _numbered_clips(64, 13)
        first, again, other = run(clips, 12, seed=7), run(clips, 12, seed=7), run(clips, 12, seed=8)
        if not torch.equal(first, again):
            raise _StudentError(
                "two calls with generators seeded alike gave different times: draw with the generator you are given "
                "(torch.randint(..., generator=generator)), so that a run can be repeated and --resume continues "
                "exactly where it stopped.")
        if torch.equal(first, other):
            raise _StudentError("generators with different seeds gave the same times: draw from the `generator` argument, not from a fixed seed of your own.")
        # The distribution: per clip, per frame, uniform over 0..max_step.
        draws = torch.cat([run(clips, 12, seed=100 + i) for i in range(12)])  # (768, 4)
    except _StudentError as err:
        return _wrong(err.message)
    if all(torch.equal(draws[r], draws[r - r % 64]) for r in range(len(draws))):
        return _wrong("every clip of a batch got the same four time steps; draw separate times for every clip: a (B, 4) tensor.")
    for a in range(4):
        for b in range(a + 1, 4):
            if torch.equal(draws[:, a], draws[:, b]):
                return _wrong(f"frames {a} and {b} always share their time step; draw all four time steps independently "
                              "(two equal content frames would make L_sim zero for free).")
    counts = torch.bincount(draws.flatten(), minlength=13).float()
    if counts[12] == 0:
        return _wrong("the largest allowed time step, max_step, never occurs. torch.randint(low, high) stops at high - 1: use high = max_step + 1.")
    expected = draws.numel() / 13
    if (counts < 0.6 * expected).any() or (counts > 1.4 * expected).any():
        return _wrong(f"the time steps are not uniform over 0..max_step: counts of 0..12 over {draws.numel()} draws were "
                      f"{counts.long().tolist()} (about {expected:.0f} each expected).")
    try:  # the smallest range: a single frame
        zero = run(_numbered_clips(3, 5), 0, seed=1)
    except _StudentError as err:
        return _wrong(err.message)
    if zero.any():
        return _wrong("with max_step=0 every time step must be 0 (the four frames are the same frame).")
    return _correct(f"{name} draws four independent, uniform time steps in [0, max_step] per clip with the given "
                    "generator, and picks exactly those frames of each clip.")
