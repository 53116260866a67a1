"""Notebook 01 (data), exercise "your own bounce": :func:`check_bounce`.

The student writes ``bounce_positions(p0, v, limit, steps)``, the positions of a
point bouncing between the walls 0 and ``limit`` (one axis of a Moving MNIST
digit). The check compares it with the package's own bounce on cases chosen to
catch one mistake each, and recognises the usual wrong rules (no bounce,
clamping, wrapping, a wall off by one, C-style remainders, a late start).

    >>> from drnet_lite.exercises import check_bounce     # doctest: +SKIP
    >>> check_bounce(bounce_positions)                     # doctest: +SKIP
    Correct! ...
    True
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..data.moving_mnist import bounce
from ._common import _call, _check_callable, checks_stub, _correct, _StudentError, _wrong

__all__ = ["check_bounce"]


def _as_int_list(value: Any) -> list[int]:
    """Accept lists, tuples, numpy arrays and tensors of integral numbers; else raise ``TypeError``."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (str, bytes, dict)) or value is None or isinstance(value, numbers.Number):
        raise TypeError(f"expected a list of ints, got {type(value).__name__} {value!r}")
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"expected a list of ints, got {type(value).__name__}") from None
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Real):
            raise TypeError(f"expected a list of ints, but one entry is {type(item).__name__} {item!r}")
        if not math.isfinite(item) or item != int(item):
            raise TypeError(f"positions are whole pixels, but one entry is {item!r}; use integer arithmetic (//, %)")
        out.append(int(item))
    return out


# (p0, v, limit, steps): each case targets one thing that goes wrong.
_BOUNCE_CASES: tuple[tuple[int, int, int, int], ...] = (
    (3, 2, 36, 10),    # no wall reached: plain p0 + v t
    (31, 3, 36, 8),    # crosses the wall limit mid-step: 34 + 3 is reflected to 35
    (5, -2, 36, 8),    # hits 0 and comes back
    (34, 2, 36, 6),    # lands exactly on the wall (limit) then turns
    (0, -3, 36, 6),    # starts on the wall 0 moving out of the box
    (36, 4, 36, 6),    # starts on the wall limit moving out of the box
    (10, 0, 36, 5),    # no motion
    (7, 5, 12, 20),    # many bounces in a small box
    (2, -7, 10, 15),   # fast and negative
    (1, 9, 4, 12),     # speed larger than 2 * limit: several bounces within one frame
    (12, 3, 36, 1),    # a single step: just p0
)


def _reference_bounce(p0: int, v: int, limit: int, steps: int) -> list[int]:
    """The package's own bounce (the one Moving MNIST uses) on one axis."""
    start = torch.tensor([[[p0]]], dtype=torch.int64)
    velocity = torch.tensor([[[v]]], dtype=torch.int64)
    times = torch.arange(steps, dtype=torch.int64)[None]
    return bounce(start, velocity, times, limit)[0, :, 0, 0].tolist()


def _triangle(p0: int, v: int, period_half: int, steps: int) -> list[int]:
    t = np.arange(steps)
    u = np.mod(p0 + v * t, 2 * period_half)
    return (period_half - np.abs(u - period_half)).tolist()


# Plausible wrong answers and what to say when the student's output matches one.
def _wrong_unbounded(p0, v, limit, steps):
    return [p0 + v * t for t in range(steps)]


def _wrong_clamp(p0, v, limit, steps):  # stops at the wall (loses the overshoot), then turns
    out, p = [], p0
    for _ in range(steps):
        out.append(p)
        p += v
        if p < 0 or p > limit:
            v = -v
            p = min(max(p, 0), limit)
    return out


def _wrong_stick(p0, v, limit, steps):  # clamps forever: never turns around
    return [min(max(p0 + v * t, 0), limit) for t in range(steps)]


def _wrong_wrap(p0, v, limit, steps):  # a torus: leaves one side, enters the other
    return [(p0 + v * t) % limit for t in range(steps)]


def _wrong_wrap_plus(p0, v, limit, steps):
    return [(p0 + v * t) % (limit + 1) for t in range(steps)]


def _wrong_period_plus(p0, v, limit, steps):  # the wall is taken at limit + 1
    return _triangle(p0, v, limit + 1, steps)


def _wrong_period_minus(p0, v, limit, steps):  # the wall is taken at limit - 1
    return _triangle(p0, v, max(limit - 1, 1), steps)


def _wrong_fmod(p0, v, limit, steps):  # C-style remainder: negative for negative input
    return [int(limit - abs(math.fmod(p0 + v * t, 2 * limit) - limit)) for t in range(steps)]


def _wrong_late_start(p0, v, limit, steps):  # records after moving: p(1) .. p(steps)
    return _reference_bounce(p0, v, limit, steps + 1)[1:]


_DIAGNOSES: tuple[tuple[Callable, str], ...] = (
    (_wrong_unbounded,
     "Your point never bounces: it keeps going as p0 + v*t and leaves [0, limit]. "
     "Fold the straight-line position back into the box (the triangle wave: "
     "u = (p0 + v*t) % (2*limit), p = limit - |u - limit|)."),
    (_wrong_late_start,
     "Off by one in time: your list starts at p(1), not p(0). The first entry must be p0 "
     "itself (t = 0), the last one p(steps - 1)."),
    (_wrong_clamp,
     "Off by one at the bounce: when a step would cross a wall you stop on the wall and then turn, "
     "so the overshoot is lost. A real reflection keeps it: from 34 moving +3 with limit 36 the point "
     "travels 2 to the wall and 1 back, ending at 35, not 36."),
    (_wrong_stick,
     "Your point sticks to the wall (clamping) instead of bouncing off it. After touching a wall "
     "it must move back with the opposite velocity."),
    (_wrong_wrap,
     "Your point wraps around (leaves at one side, comes back at the other) instead of bouncing. "
     "Use the period 2*limit and fold: p = limit - |u - limit| with u = (p0 + v*t) % (2*limit)."),
    (_wrong_wrap_plus,
     "Your point wraps around (leaves at one side, comes back at the other) instead of bouncing. "
     "Use the period 2*limit and fold: p = limit - |u - limit| with u = (p0 + v*t) % (2*limit)."),
    (_wrong_period_plus,
     "Off by one at the bounce: your point turns at limit + 1, one pixel too late. The largest "
     "allowed position is limit itself, so the period of the motion is 2*limit."),
    (_wrong_period_minus,
     "Off by one at the bounce: your point turns at limit - 1, one pixel too early. Position "
     "limit itself is allowed, so the period of the motion is 2*limit."),
    (_wrong_fmod,
     "Negative positions go wrong: a C-style remainder (math.fmod, np.fmod, torch.fmod) is negative "
     "for negative numbers. Use Python's % (or np.mod / torch.remainder), which always lands in "
     "[0, 2*limit)."),
)


def _diagnose(results: dict[tuple, list[int]]) -> str | None:
    """A specific hint when the student's outputs match a known wrong rule on every case that differs."""
    for wrong_fn, hint in _DIAGNOSES:
        matched_any = False
        for case, got in results.items():
            expected = _reference_bounce(*case)
            wrong = wrong_fn(*case)
            if got == expected:
                continue
            if got != wrong:
                break
            matched_any = True
        else:
            if matched_any:
                return hint
    return None


def _first_difference(case: tuple, got: list[int], expected: list[int]) -> str:
    p0, v, limit, steps = case
    t = next(i for i, (g, e) in enumerate(zip(got, expected)) if g != e)
    shown = min(steps, t + 3)
    message = (
        f"For p0={p0}, v={v}, limit={limit}, steps={steps} the positions differ first at t={t}: "
        f"expected {expected[t]}, got {got[t]}.\n"
        f"  expected: {expected[:shown]}{' ...' if shown < steps else ''}\n"
        f"  yours:    {got[:shown]}{' ...' if shown < steps else ''}"
    )
    if t == 0:
        return message + "\nThe first position (t = 0) must be p0 itself."
    if abs(v) > limit:
        message += (
            f"\nHere |v| = {abs(v)} is larger than limit = {limit}: one step can hit the walls more than "
            "once, so a single `if` that reflects once per step is not enough (the triangle wave handles it)."
        )
    if any(not 0 <= g <= limit for g in got):
        return message + f"\nSome of your positions leave [0, {limit}]: a bouncing point never does."
    if any(not 0 <= p0 + v * s <= limit for s in range(t + 1)):
        return message + (
            "\nThat is at or after a bounce. When a step crosses a wall the point is reflected and keeps "
            "the rest of its step (the triangle wave does that for you, even for several bounces in one step)."
        )
    return message + "\nNo wall was reached yet, so the position should simply be p0 + v*t."


@checks_stub
def check_bounce(student_fn: Callable[[int, int, int, int], Sequence[int]]) -> bool:
    """Check ``bounce_positions(p0, v, limit, steps) -> list[int]`` (notebook 01).

    The positions must be ``p(0), ..., p(steps - 1)`` of a point that starts at
    ``p0``, moves ``v`` pixels per frame and is reflected at ``0`` and ``limit``:
    ``p(t) = L - |((p0 + v t) mod 2L) - L|`` with ``L = limit``, the rule that
    :func:`drnet_lite.data.moving_mnist.bounce` uses.

    Prints the verdict (or a hint) and returns True when every case matches.
    """
    problem = _check_callable(student_fn, "check_bounce", "bounce_positions")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    results: dict[tuple, list[int]] = {}
    for case in _BOUNCE_CASES:
        try:
            raw = _call(student_fn, *case, name=name)
        except _StudentError as err:
            return _wrong(err.message)
        try:
            got = _as_int_list(raw)
        except TypeError as exc:
            return _wrong(f"{name}{case} should return a list of ints: {exc}.")
        p0, v, limit, steps = case
        if len(got) != steps:
            hint = ""
            if len(got) == steps + 1:
                hint = " Off by one: you return one position too many (t runs from 0 to steps - 1, e.g. range(steps))."
            elif len(got) == steps - 1:
                hint = " Off by one: you return one position too few (t runs from 0 to steps - 1, e.g. range(steps))."
            return _wrong(f"{name}{case} returned {len(got)} positions, expected steps = {steps}.{hint}")
        results[case] = got

    expected = {case: _reference_bounce(*case) for case in _BOUNCE_CASES}
    failing = [case for case in _BOUNCE_CASES if results[case] != expected[case]]
    if not failing:
        return _correct(
            f"{name} matches drnet_lite's bounce on all {len(_BOUNCE_CASES)} test cases "
            "(walls at 0 and limit, negative and fast velocities, starts on a wall)."
        )
    hint = _diagnose(results)
    detail = _first_difference(failing[0], results[failing[0]], expected[failing[0]])
    summary = f"{len(failing)} of {len(_BOUNCE_CASES)} test cases differ."
    return _wrong(f"{summary} {hint}\n{detail}" if hint else f"{summary}\n{detail}")
