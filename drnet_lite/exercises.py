"""Automatic checkers for the notebooks' exercises.

Every checker is a plain function that takes the student's function (or
answer), tries it on cases the checker builds itself, compares the results with
the package's own implementation, prints a friendly verdict and returns
``True`` (correct) or ``False``. A checker never raises on a wrong answer:
exceptions from the student's code are caught and reported as a hint.

    >>> from drnet_lite.exercises import check_bounce     # doctest: +SKIP
    >>> check_bounce(bounce_positions)                     # doctest: +SKIP
    Correct! ...
    True

In the notebooks every check has one form, ``expect(check_x(answer), ...)``
(:func:`drnet_lite.course.expect`): a student sees the verdict and the hint,
never a traceback; CI fails when a right answer is rejected or a wrong one
accepted. Each exercise is a stub that raises ``NotImplementedError`` (the
checkers explain it) followed by a hidden solution cell that ends with
:func:`solution_if_unsolved`.

Notebook 01 (data): :func:`check_bounce`. Later notebooks add their checkers
here, built from the small helpers below (``_call``, ``_correct``, ``_wrong``).
"""
from __future__ import annotations

import math
import numbers
import traceback
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .data.moving_mnist import bounce

__all__ = ["check_bounce", "is_stub", "solution_if_unsolved"]


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------

class _StudentError(Exception):
    """The student's code raised; ``message`` is the friendly report."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _correct(message: str) -> bool:
    print(f"Correct! {message}")
    return True


def _wrong(message: str) -> bool:
    print(f"Not yet. {message}")
    return False


def _call(fn: Callable, *args: Any, name: str | None = None) -> Any:
    """Call the student's ``fn(*args)``; turn any exception into a :class:`_StudentError`."""
    name = name or getattr(fn, "__name__", "your function")
    return _call_shown(fn, args, f"{name}({', '.join(repr(a) for a in args)})", name)


def is_stub(fn: Any) -> bool:
    """True for a function whose body (after its docstring) only raises ``NotImplementedError``:
    an exercise cell the student has not filled in yet."""
    import ast
    import inspect
    import textwrap

    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        definition = tree.body[0] if tree.body else None
        if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)) or definition.name != fn.__name__:
            raise OSError("not this function's source")
    except (OSError, TypeError, SyntaxError):
        # no source (code run from a string): a stub's code names NotImplementedError and nothing else
        return code.co_names == ("NotImplementedError",)
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def solution_if_unsolved(student_fn: Callable, solution: Callable) -> Callable:
    """The notebooks' hidden solution cells end with ``f = solution_if_unsolved(f, f_solution)``:
    the model answer stands in while the exercise cell is still the stub (so the notebook
    runs from top to bottom); once the student has written their own, theirs is kept and checked."""
    return solution if is_stub(student_fn) else student_fn


def _check_callable(fn: Any, checker: str, expected: str) -> str | None:
    if callable(fn):
        return None
    return (
        f"Pass the function itself: {checker}({expected}), not {checker}({expected}(...)); "
        f"got {type(fn).__name__} {fn!r:.60}."
    )


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


# --------------------------------------------------------------------------
# Notebook 01: the bounce
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# Notebook 04: the scene discriminator's pairs and targets
# --------------------------------------------------------------------------

# (batch, pose_dim, shift): small and large batches, both ends of the shift range.
_SCENE_PAIR_CASES: tuple[tuple[int, int, int], ...] = (
    (4, 3, 1), (4, 3, 3), (5, 2, 2), (2, 10, 1), (8, 10, 5), (16, 10, 15), (3, 1, 2),
)


def _call_shown(fn: Callable, args: tuple, shown: str, name: str) -> Any:
    """Like :func:`_call`, but the call is reported as ``shown`` (tensor arguments would print as pages of numbers)."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise _StudentError(
            f"{name} still raises NotImplementedError: replace the `raise` with your own code, "
            "run that cell, then run this check again."
        ) from None
    except Exception as exc:  # the student's bug, not ours: report it, never re-raise
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" (line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`)" if len(frames) > 1 else ""
        raise _StudentError(f"{shown} raised {type(exc).__name__}: {exc}{where}.") from None


def _answer_tensor(value: Any, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise TypeError(f"{what} should be a torch tensor, got {type(value).__name__}")


def _row_sources(rows: torch.Tensor, table: torch.Tensor) -> list[int | None]:
    """For every row, the index of the identical row of ``table`` (None when there is none)."""
    out: list[int | None] = []
    for row in rows:
        hits = (table == row).all(dim=1).nonzero().flatten().tolist()
        out.append(hits[0] if hits else None)
    return out


def _scene_pair_problem(case: tuple[int, int, int], pose_1: torch.Tensor, pose_2: torch.Tensor, raw: Any, name: str) -> str | None:
    """What is wrong with ``raw = student(pose_1, pose_2, shift)`` (None when it is right)."""
    batch, dim, shift = case
    call = f"{name}(pose_1, pose_2, shift={shift}) with B={batch} clips and pose_dim={dim}"
    if not isinstance(raw, (tuple, list)) or len(raw) != 3:
        return f"{call} should return three things, (first, second, targets); got {type(raw).__name__}."
    try:
        first, second, targets = (_answer_tensor(v, w) for v, w in zip(raw, ("first", "second", "targets")))
    except TypeError as exc:
        return f"{call}: {exc}."
    for what, value in (("first", first), ("second", second)):
        if tuple(value.shape) != (2 * batch, dim):
            return (f"{call}: `{what}` has shape {tuple(value.shape)}, expected (2B, pose_dim) = {(2 * batch, dim)}: "
                    "B same-clip pairs stacked on top of B shuffled pairs (torch.cat along dim 0).")
    if tuple(targets.shape) != (2 * batch,):
        hint = " Use one number per pair, e.g. torch.cat([torch.ones(B), torch.zeros(B)])." if targets.numel() == 2 * batch else ""
        return f"{call}: `targets` has shape {tuple(targets.shape)}, expected (2B,) = ({2 * batch},).{hint}"
    if not targets.is_floating_point():
        return (f"{call}: `targets` has dtype {targets.dtype}; binary cross-entropy needs float targets "
                "(torch.ones(B) and torch.zeros(B) are float, or add .float()).")
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    same_t, shuffled_t = targets[:batch].float(), targets[batch:].float()
    if torch.equal(same_t, zeros) and torch.equal(shuffled_t, ones):
        return (f"{call}: your labels are inverted (same-clip pairs 0, shuffled pairs 1). That is exactly the "
                "slip in the reference code: the encoders' target 1/2 does not notice, but every accuracy you "
                "report becomes 1 - accuracy. Here same clip = 1, shuffled = 0.")
    if torch.allclose(targets.float(), torch.full_like(targets.float(), 0.5)):
        return (f"{call}: all targets are 1/2. That is the *pose encoder's* target in L_adv (make C unsure); "
                "C itself learns from hard labels: 1 for same-clip pairs, 0 for shuffled pairs.")
    if not (torch.equal(same_t, ones) and torch.equal(shuffled_t, zeros)):
        return (f"{call}: targets should be B ones (the same-clip pairs, first) followed by B zeros (the shuffled "
                f"pairs); got {targets.tolist()}.")
    if not torch.equal(first[:batch], pose_1) or not torch.equal(second[:batch], pose_2):
        if torch.equal(first[:batch], pose_1) and torch.equal(second[:batch], pose_1):
            return (f"{call}: the same-clip pairs pair pose_1 with itself. A same-clip pair is two *different* "
                    "frames of one clip: (pose_1[i], pose_2[i]).")
        if torch.equal(first[:batch], pose_2) and torch.equal(second[:batch], pose_1):
            return f"{call}: the members of the same-clip pairs are swapped: keep the order (pose_1[i], pose_2[i])."
        return (f"{call}: the first B rows must be the same-clip pairs, unchanged: first[:B] = pose_1 and "
                "second[:B] = pose_2.")
    if not torch.equal(first[batch:], pose_1):
        if torch.equal(first[batch:], pose_1.roll(shift, 0)) and torch.equal(second[batch:], pose_2.roll(shift, 0)):
            return (f"{call}: you rolled both members of the shuffled pairs by the same shift, so every "
                    "'shuffled' pair is (pose_1[j], pose_2[j]) of one clip j, a same-clip pair. Keep pose_1 in place and "
                    "roll only pose_2.")
        return (f"{call}: the first member of every shuffled pair should stay pose_1[i] (first[B:] = pose_1); "
                "only the second member comes from another clip.")
    sources = _row_sources(second[batch:], pose_2)
    if any(j is None for j in sources):
        if all(j is not None for j in _row_sources(second[batch:], pose_1)):
            return (f"{call}: the second members of the shuffled pairs are rows of pose_1; take them from pose_2 "
                    "(the other frame of each clip), e.g. torch.roll(pose_2, shift, dims=0).")
        return (f"{call}: some second members of the shuffled pairs are not rows of pose_2. They should be "
                "pose_2's rows, reordered so that no row keeps its own clip.")
    own = [i for i, j in enumerate(sources) if j == i]
    if own:
        return (f"{call}: shuffled row(s) {own} pair a clip with itself (pose_1[i], pose_2[i]), labelled 0 although "
                "it is a same-clip pair. A random permutation (torch.randperm) has fixed points now and then; "
                "torch.roll(pose_2, shift, dims=0) with shift in [1, B-1] never has any.")
    return None


def check_scene_pairs(student_fn: Callable[[torch.Tensor, torch.Tensor, int], Any]) -> bool:
    """Check ``scene_pairs(pose_1, pose_2, shift) -> (first, second, targets)`` (notebook 04).

    ``pose_1`` and ``pose_2`` are (B, pose_dim) pose vectors of two frames of
    the same B clips (row i = clip i). The answer stacks B same-clip pairs on
    top of B shuffled pairs:

    - ``first = [pose_1; pose_1]`` and ``second = [pose_2; pose_2 rolled by shift]``,
      (2B, pose_dim) each, so shuffled row i pairs clip i with another clip;
    - ``targets = [1, ..., 1, 0, ..., 0]``, (2B,) float: same clip = 1, shuffled = 0.

    Any shuffle that pairs every clip with *another* clip is accepted (a roll
    by ``shift`` in [1, B-1] is the package's choice, :func:`drnet_lite.losses.shuffled_partner`).
    Prints the verdict (or a hint) and returns True when every case is right.
    """
    problem = _check_callable(student_fn, "check_scene_pairs", "scene_pairs")
    if problem:
        return _wrong(problem)
    from .losses import shuffled_partner

    name = getattr(student_fn, "__name__", "your function")
    generator = torch.Generator().manual_seed(404)
    exact_roll = True
    for case in _SCENE_PAIR_CASES:
        batch, dim, shift = case
        pose_1 = torch.rand(batch, dim, generator=generator) * 2 - 1
        pose_2 = torch.rand(batch, dim, generator=generator) * 2 - 1
        kept_1, kept_2 = pose_1.clone(), pose_2.clone()
        try:
            raw = _call_shown(student_fn, (pose_1, pose_2, shift),
                              f"{name}(pose_1, pose_2, shift={shift}) with pose vectors of shape {(batch, dim)}", name)
        except _StudentError as err:
            return _wrong(err.message)
        if not (torch.equal(pose_1, kept_1) and torch.equal(pose_2, kept_2)):
            return _wrong(f"{name} changed pose_1 or pose_2 in place; build new tensors (torch.cat, torch.roll) instead.")
        try:
            problem = _scene_pair_problem(case, pose_1, pose_2, raw, name)
        except Exception as exc:  # an answer too odd to analyse: say so instead of crashing
            problem = f"{name}(pose_1, pose_2, shift={shift}) returned something the checker cannot read ({type(exc).__name__}: {exc})."
        if problem:
            return _wrong(problem)
        second = _answer_tensor(raw[1], "second")
        exact_roll = exact_roll and torch.equal(second[batch:], shuffled_partner(pose_2, shift))
    how = ("exactly as drnet_lite.losses.shuffled_partner does (torch.roll by shift)" if exact_roll else
           "with a shuffle of your own that never pairs a clip with itself (the package uses torch.roll by shift)")
    return _correct(
        f"{name} builds B same-clip pairs (target 1) and B shuffled pairs (target 0), {how}, "
        f"on all {len(_SCENE_PAIR_CASES)} test cases (B from 2 to 16, shift from 1 to B-1)."
    )


# --------------------------------------------------------------------------
# Notebook 05: the four frames of a training step
# --------------------------------------------------------------------------

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


__all__ += ["check_scene_pairs", "check_sample_frames"]


# --------------------------------------------------------------------------
# Notebooks 02 and 03: the reconstruction and the similarity loss
# --------------------------------------------------------------------------

from .losses import reconstruction_loss as _package_reconstruction_loss  # noqa: E402
from .losses import similarity_loss as _package_similarity_loss  # noqa: E402
from .models import DRNet as _DRNet  # noqa: E402
from .models import DRNetConfig as _DRNetConfig  # noqa: E402


def _as_scalar_loss(value: Any, name: str) -> torch.Tensor:
    """The student's loss as a 0-d tensor, or raise :class:`_StudentError` saying what is wrong with it."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        raise _StudentError(
            f"{name} returned a Python number ({value!r}), not a tensor. Training needs a tensor that "
            "remembers how it was computed: do not call .item() or float() on the loss."
        )
    if not isinstance(value, torch.Tensor):
        raise _StudentError(f"{name} should return a torch tensor (the loss), got {type(value).__name__}.")
    if value.numel() != 1:
        raise _StudentError(
            f"{name} returned a tensor of shape {tuple(value.shape)}; a loss is one number. "
            "Average the squared differences over every element with .mean()."
        )
    if not value.dtype.is_floating_point:
        raise _StudentError(f"{name} returned a {value.dtype} tensor; the loss must be a float tensor.")
    return value.reshape(())


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a.detach().double(), b.detach().double(), rtol=1e-4, atol=1e-7))


def _match_wrong(value: torch.Tensor, candidates: Sequence[tuple[torch.Tensor, str]]) -> str | None:
    for wrong, hint in candidates:
        if _close(value, wrong):
            return hint
    return None


_REC_MODELS: tuple[dict, ...] = (
    dict(image_size=16, channels=1, content_dim=6, pose_dim=3, width=4),
    dict(image_size=16, channels=2, content_dim=5, pose_dim=2, width=4, skip=True),
)


def _rec_case(index: int) -> tuple[_DRNet, torch.Tensor, torch.Tensor]:
    """A tiny DRNet in training mode (as in a training step) and distinct content and pose frames.

    In training mode BatchNorm uses the statistics of the batch, so the output
    depends clearly on which frame feeds which encoder and mistakes show.
    """
    config = _DRNetConfig(**_REC_MODELS[index])
    with torch.random.fork_rng(devices=[]):  # seeded, without touching the notebook's own random state
        torch.manual_seed(1705 + index)
        model = _DRNet(config).train()
        for module in model.modules():  # PyTorch's default init: larger weights than DCGAN's, so outputs vary more
            if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
                module.reset_parameters()
    shape = (3, config.channels, config.image_size, config.image_size)
    generator = torch.Generator().manual_seed(10 + index)
    return model, torch.rand(shape, generator=generator), torch.rand(shape, generator=generator)


def _rec_wrong_answers(model: _DRNet, x_c: torch.Tensor, x_p: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    with torch.no_grad():
        right = model(x_c, x_p)
        swapped = model(x_p, x_c)
        same = model(x_p, x_p)
        diff = right - x_p
    batch = x_p.shape[0]
    return [
        (_mse(right, x_c),
         "You compare the decoded frame with the content frame. The target is the pose frame x_p: "
         "D(E_c(x_c), E_p(x_p)) must redraw x_p (its content is the same, since both frames come from one clip)."),
        (_mse(swapped, x_p),
         "Content and pose are swapped: you encode the content of x_p and the pose of x_c. "
         "Use model.encode_content(x_c) and model.encode_pose(x_p)."),
        (_mse(swapped, x_c),
         "Content and pose are swapped and so is the target: it must be D(E_c(x_c), E_p(x_p)) compared with x_p."),
        (_mse(same, x_p),
         "You encode the content of the pose frame itself: that is the autoencoder that cheats. The content "
         "must come from x_c, another time step of the clip."),
        ((diff ** 2).sum(),
         "You sum the squared errors; L_rec is their mean over every pixel (and frame): use .mean()."),
        ((diff ** 2).sum() / batch,
         "You sum the squared errors of each frame and average over frames; drnet_lite averages over every "
         "pixel too (torch.nn.functional.mse_loss or ((x_hat - x_p) ** 2).mean())."),
        (diff.abs().mean(),
         "That is the mean absolute error (L1). L_rec squares the differences: ((x_hat - x_p) ** 2).mean()."),
        ((diff ** 2).mean().sqrt(),
         "That is the root of the mean squared error; L_rec is the mean squared error itself, without the square root."),
        (diff.mean(),
         "You average the differences without squaring them, so errors of opposite signs cancel: square first."),
    ]


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).mean()


def _call_named(fn: Callable, args: Sequence[Any], labels: Sequence[str], name: str) -> Any:
    """:func:`_call_shown` reporting the call by argument names (``model, x_c, x_p``) instead of their values."""
    return _call_shown(fn, tuple(args), f"{name}({', '.join(labels)})", name)


def _student_error_hint(message: str) -> str:
    """Extra advice for errors students commonly hit when composing DRNet."""
    lowered = message.lower()
    if "tuple" in lowered:
        return (message + "\nHint: model.encode_content(x) returns a pair (h_c, skips); unpack it: "
                "h_c, skips = model.encode_content(x_c).")
    if "skip" in lowered:
        return message + "\nHint: pass the content encoder's feature maps to the decoder: model.decode(h_c, h_p, skips)."
    return message


def check_reconstruction_loss(student_fn: Callable[[Any, torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``rec_loss(model, x_c, x_p)`` (notebook 02).

    It must return ``L_rec = mean((D(E_c(x_c), E_p(x_p)) - x_p)^2)`` as a tensor
    that gradients can flow through, for DRNets with and without skip
    connections: the same value and the same parameter gradients as
    ``reconstruction_loss(model(x_c, x_p), x_p)`` from :mod:`drnet_lite.losses`.

    Prints the verdict (or a hint) and returns True when every case matches.
    """
    problem = _check_callable(student_fn, "check_reconstruction_loss", "rec_loss")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    for index, spec in enumerate(_REC_MODELS):
        model, x_c, x_p = _rec_case(index)
        what = f"a DRNet with {spec['channels']} channel(s){' and skip connections' if spec.get('skip') else ''}"
        model.zero_grad(set_to_none=True)
        try:
            try:
                value = _call_named(student_fn, (model, x_c.clone(), x_p.clone()), ("model", "x_c", "x_p"), name)
            except _StudentError as err:
                raise _StudentError(_student_error_hint(err.message)) from None
            value = _as_scalar_loss(value, name)
        except _StudentError as err:
            return _wrong(f"On {what}: {err.message}")
        student_grads = None
        if value.requires_grad:
            try:
                value.backward()
            except RuntimeError as exc:
                return _wrong(f"On {what}: backward() through your loss failed: {exc}")
            student_grads = [None if p.grad is None else p.grad.clone() for p in model.autoencoder_parameters()]
        model.zero_grad(set_to_none=True)
        expected = _package_reconstruction_loss(model(x_c, x_p), x_p)
        expected.backward()
        expected_grads = [p.grad for p in model.autoencoder_parameters()]
        if not _close(value, expected):
            hint = _match_wrong(value, _rec_wrong_answers(model, x_c, x_p))
            got = f"{name} gives {value.item():.6f} on {what}, expected {expected.item():.6f}."
            return _wrong(f"{got} {hint}" if hint else (
                f"{got} Compose x_hat = model.decode(h_c, h_p, skips) from h_c, skips = model.encode_content(x_c) "
                "and h_p = model.encode_pose(x_p), then return ((x_hat - x_p) ** 2).mean()."))
        if student_grads is None:
            return _wrong(
                f"The value is right, but no gradient can flow through it (on {what}): was it computed under "
                "torch.no_grad() or with .detach()? The optimizer needs the gradients of L_rec."
            )
        names = [n for part in ("content_encoder", "pose_encoder", "decoder")
                 for n, _ in getattr(model, part).named_parameters(prefix=part)]
        for pname, got, want in zip(names, student_grads, expected_grads):
            if want is None:
                continue
            part = pname.split(".")[0].replace("_", " ")
            if got is None or not torch.allclose(got, want, rtol=1e-3, atol=1e-8):
                return _wrong(
                    f"The value is right, but the gradients for the {part} differ (first at {pname}, on {what}). "
                    "Did you .detach() a code or compute one of the encoders under torch.no_grad()? "
                    "L_rec trains both encoders and the decoder."
                )
    return _correct(
        f"{name} matches drnet_lite's reconstruction loss, value and gradients, on {len(_REC_MODELS)} small DRNets "
        "(with and without skip connections)."
    )


_SIM_SHAPES: tuple[tuple[int, int], ...] = ((4, 8), (1, 5), (16, 32))


def _sim_inputs(index: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(2017 + index)
    shape = _SIM_SHAPES[index]
    h_c1 = (torch.rand(shape, generator=generator) * 2 - 1).requires_grad_()
    h_c2 = (torch.rand(shape, generator=generator) * 2 - 1).requires_grad_()
    return h_c1, h_c2


def check_similarity_loss(student_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> bool:
    """Check ``sim_loss(h_c1, h_c2)`` (notebook 03).

    It must return ``L_sim = mean((h_c1 - stopgrad(h_c2))^2)``: the value of
    :func:`drnet_lite.losses.similarity_loss`, a gradient ``2 (h_c1 - h_c2) / N``
    into the first content vector and **no gradient at all into the second**
    (the target is detached).

    Prints the verdict (or a hint) and returns True when every case matches.
    """
    problem = _check_callable(student_fn, "check_similarity_loss", "sim_loss")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    for index, shape in enumerate(_SIM_SHAPES):
        h_c1, h_c2 = _sim_inputs(index)
        a, b = h_c1.detach().clone(), h_c2.detach().clone()
        try:
            value = _as_scalar_loss(_call_named(student_fn, (h_c1, h_c2), ("h_c1", "h_c2"), name), name)
        except _StudentError as err:
            return _wrong(err.message)
        expected = _package_similarity_loss(a, b)
        what = f"content vectors of shape {shape}"
        if not _close(value, expected):
            diff = a - b
            hint = _match_wrong(value, [
                ((diff ** 2).sum(), "You sum the squared differences; L_sim is their mean over every dimension (and row): use .mean()."),
                ((diff ** 2).sum() / shape[0], "You sum over the dimensions of each vector and average over rows; drnet_lite averages over every element: ((h_c1 - h_c2) ** 2).mean()."),
                (diff.abs().mean(), "That is the mean absolute difference (L1); L_sim squares the differences."),
                ((diff ** 2).mean().sqrt(), "That is the root of the mean squared difference; L_sim has no square root."),
                ((diff ** 2).sum(dim=1).sqrt().mean(), "That is the mean Euclidean distance; L_sim is the mean squared difference."),
                (diff.mean(), "You average the differences without squaring them: square first."),
            ])
            got = f"{name} gives {value.item():.6f} on {what}, expected {expected.item():.6f}."
            return _wrong(f"{got} {hint}" if hint else f"{got} L_sim = mean((h_c1 - h_c2.detach()) ** 2).")
        if not value.requires_grad:
            return _wrong(
                "The value is right, but no gradient flows through your loss at all: did you detach both vectors or "
                "use torch.no_grad()? Only the target h_c2 is detached; h_c1 must receive the gradient."
            )
        try:
            value.backward()
        except RuntimeError as exc:
            return _wrong(f"backward() through your loss failed: {exc}")
        into_target = h_c2.grad is not None and bool(h_c2.grad.abs().sum() > 0)
        into_content = h_c1.grad is not None and bool(h_c1.grad.abs().sum() > 0)
        if into_target and not into_content:
            return _wrong(
                "The value is right, but you detached the wrong vector: the gradient flows into h_c2 and not into h_c1. "
                "h_c1 (the frame being trained) keeps its gradient; h_c2 is the fixed target: h_c2.detach()."
            )
        if into_target:
            return _wrong(
                "The value is right, but gradient flows into the second argument h_c2. In DRNet it is a fixed target "
                "(stopgrad): detach it, (h_c1 - h_c2.detach()), so only h_c1 is pulled towards h_c2."
            )
        if not into_content:
            return _wrong("The value is right, but no gradient reaches h_c1; only h_c2 should be detached.")
        want = 2 * (a - b) / a.numel()
        if not torch.allclose(h_c1.grad, want, rtol=1e-4, atol=1e-8):
            return _wrong(
                f"The value is right, but the gradient into h_c1 on {what} is not 2 (h_c1 - h_c2) / N. "
                "Compute the loss directly from h_c1 with differentiable torch operations."
            )
    return _correct(
        f"{name} matches drnet_lite's similarity loss on {len(_SIM_SHAPES)} cases: same value, gradient "
        "2 (h_c1 - h_c2) / N into h_c1 and none into the detached target h_c2."
    )


__all__ += ["check_reconstruction_loss", "check_similarity_loss"]


# --------------------------------------------------------------------------
# Notebook 06 (swap): the swap matrix
# --------------------------------------------------------------------------

def check_swap_matrix(student_fn: Callable[[Any, torch.Tensor, torch.Tensor], Any]) -> bool:
    """Check ``student_fn(model, content_frames, pose_frames) -> (Nc, Np, C, H, W)`` against
    :func:`drnet_lite.swap.swap_matrix`, on small models with and without skip connections."""
    from .models import DRNet, DRNetConfig
    from .swap import swap_matrix

    problem = _check_callable(student_fn, "check_swap_matrix", "my_swap_matrix")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    for case, (nc, np_, skip) in enumerate([(3, 4, False), (2, 5, True), (1, 1, False)]):
        torch.manual_seed(100 + case)
        model = DRNet(DRNetConfig(image_size=32, width=4, content_dim=6, pose_dim=3, skip=skip)).train()
        content, pose = torch.rand(nc, 1, 32, 32), torch.rand(np_, 1, 32, 32)
        expected = swap_matrix(model, content, pose)
        try:
            raw = _call_shown(student_fn, (model, content, pose), f"model, content ({nc} frames), pose ({np_} frames)", name)
            got = _answer_tensor(raw, "the swap matrix").float()
        except _StudentError as exc:
            return _wrong(exc.message)
        except TypeError as exc:
            return _wrong(f"{exc}.")
        if tuple(got.shape) != tuple(expected.shape):
            if tuple(got.shape) == (np_, nc, *expected.shape[2:]):
                return _wrong(f"shape {tuple(got.shape)}: rows and columns are swapped; row i must be content frame i.")
            return _wrong(f"expected shape {tuple(expected.shape)} = (Nc, Np, C, H, W), got {tuple(got.shape)}.")
        if torch.allclose(got, expected, atol=1e-5):
            continue
        in_training_mode = _swap_matrix_in_training_mode(model, content, pose)
        if torch.allclose(got, in_training_mode, atol=1e-5):
            return _wrong("these are the swaps of a model in training mode: call model.eval() first "
                          "(BatchNorm then uses its running statistics, not the batch's).")
        return _wrong("the values differ from D(E_c(content_i), E_p(pose_j)); check which frames go to which encoder, "
                      "that cell [i, j] pairs content i with pose j (repeat_interleave the content, repeat the pose)"
                      + (" and that you pass the skips to decode" if skip else "") + ".")
    return _correct("your swap matrix matches drnet_lite.swap.swap_matrix for every case, skips included.")


def _swap_matrix_in_training_mode(model: Any, content: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """The swap matrix a student gets who forgets ``model.eval()`` (on a copy: BatchNorm's statistics stay put)."""
    import copy

    from .swap import decode_all_pairs

    with torch.no_grad():
        return decode_all_pairs(copy.deepcopy(model).train(), content, pose)


__all__ += ["check_swap_matrix"]


# --------------------------------------------------------------------------
# Notebook 07: the generation loop
# --------------------------------------------------------------------------

def _generation_wrong_answers(lstm: Any, observed: torch.Tensor, content: torch.Tensor, horizon: int) -> list[tuple[torch.Tensor, str]]:
    """What the usual mistakes in the generation loop produce."""
    with torch.no_grad():
        out, state = lstm(observed, content)
        first = out[:, -1:]
        forgot_state, stale_input = [first], [first]
        for _ in range(horizon - 1):
            forgot_state.append(lstm(forgot_state[-1], content)[0])  # the state is dropped every step
            stale, state = lstm(observed[:, -1:], content, state)  # the last observed pose fed again and again
            stale_input.append(stale)
        restart = []  # the whole history re-read from a zero state each step, without the prediction fed back
        history = observed
        for _ in range(horizon):
            restart.append(lstm(history, content)[0][:, -1:])
            history = torch.cat([history, observed[:, -1:]], dim=1)
    return [
        (torch.cat(forgot_state, 1), "the LSTM state is dropped: pass the (h, c) that the previous call returned "
                                     "to the next call, or the LSTM forgets the motion it has seen"),
        (torch.cat(stale_input, 1), "the last observed pose is fed again at every step: feed back the *prediction* "
                                    "of the previous step"),
        (torch.cat(restart, 1), "the prediction is never fed back: the input of each new step must be the pose just predicted"),
    ]


def check_generation_loop(student_fn: Callable[[Any, torch.Tensor, torch.Tensor, int], Any]) -> bool:
    """Check ``student_fn(lstm, observed_pose, content, horizon) -> (B, horizon, pose_dim)`` against
    :func:`drnet_lite.predict.generate_poses` on small random pose LSTMs."""
    from .predict import PoseLSTM, generate_poses

    problem = _check_callable(student_fn, "check_generation_loop", "my_generate")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    grad_enabled: list[bool] = []  # autograd on or off in each of the student's LSTM calls
    for case, (batch, observed_len, horizon) in enumerate([(3, 5, 7), (2, 1, 4), (1, 10, 1), (4, 3, 12)]):
        torch.manual_seed(200 + case)
        lstm = PoseLSTM(pose_dim=3, content_dim=4, hidden_size=8, num_layers=2).eval()
        observed, content = torch.rand(batch, observed_len, 3) * 2 - 1, torch.rand(batch, 4) * 2 - 1
        expected = generate_poses(lstm, observed, content, horizon)
        shown = f"lstm, observed_pose ({batch}, {observed_len}, 3), content ({batch}, 4), horizon={horizon}"
        hook = lstm.register_forward_pre_hook(lambda module, args: grad_enabled.append(torch.is_grad_enabled()))
        try:
            raw = _call_shown(student_fn, (lstm, observed.clone(), content.clone(), horizon), shown, name)
            got = _answer_tensor(raw, "the predicted poses").float()
        except _StudentError as exc:
            return _wrong(exc.message)
        except TypeError as exc:
            return _wrong(f"{exc}.")
        finally:
            hook.remove()
        if tuple(got.shape) != tuple(expected.shape):
            if got.dim() == 3 and got.shape[1] == observed_len + horizon - 1:
                return _wrong(f"shape {tuple(got.shape)}: return only the {horizon} predicted poses, not the outputs "
                              "for the observed steps as well.")
            return _wrong(f"expected shape {tuple(expected.shape)} = (B, horizon, pose_dim), got {tuple(got.shape)}.")
        if torch.allclose(got, expected, atol=1e-5):
            if any(grad_enabled):
                return _wrong("the poses are right, but your loop runs with autograd on: every step keeps its graph, "
                              "so memory grows with the horizon (a 500-step rollout of a real model runs out). "
                              "Put the loop under `with torch.no_grad():`.")
            continue
        if horizon > 1:
            for wrong, hint in _generation_wrong_answers(lstm, observed, content, horizon):
                if torch.allclose(got, wrong, atol=1e-5):
                    return _wrong(hint + ".")
        if not torch.allclose(got[:, 0], expected[:, 0], atol=1e-5):
            return _wrong("the first predicted pose is already off: it is the LSTM's output after reading *all* the "
                          "observed poses, i.e. lstm(observed_pose, content)[0][:, -1].")
        return _wrong("the first prediction is right but later ones differ: feed each prediction back with the state "
                      "returned by the previous call.")
    return _correct("your loop matches drnet_lite.predict.generate_poses: observed poses read once, "
                    "then each prediction fed back with the LSTM state.")


__all__ += ["check_generation_loop"]
