"""Notebook 00 (start here), exercise "which code changes?": :func:`check_relative_change`.

``check_relative_change(relative_change)`` calls the student's
``relative_change(codes)`` on pairs of code vectors (2, D) whose answer is known,

    relative change = || h(a) - h(b) || / || h(a) ||,

and names the usual mistakes: dividing by the norm of the second code, leaving the
division out, leaving the norm out (a vector, or the squared distance), or taking the mean absolute difference.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ._common import checks_stub, _correct, _wrong

__all__ = ["check_relative_change", "reference_relative_change"]


def reference_relative_change(codes: torch.Tensor) -> float:
    """``||codes[0] - codes[1]|| / ||codes[0]||`` for codes (2, D)."""
    return float((codes[0] - codes[1]).norm() / codes[0].norm())


def _cases() -> list[torch.Tensor]:
    """Pairs of codes (2, D) with known answers; the third is not symmetric in a and b."""
    return [
        torch.tensor([[3.0, 4.0], [0.0, 0.0]]),          # moves to zero: change 1
        torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]),  # no change: 0
        torch.tensor([[2.0, 0.0], [0.0, 1.0]]),          # ||(2,-1)|| / 2 = sqrt(5)/2; not symmetric
        torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]]),
    ]


def _second_norm(c: torch.Tensor) -> float:
    return float((c[0] - c[1]).norm() / c[1].norm()) if c[1].norm() > 0 else math.inf


#: The usual mistakes and their hints; a mistake is named only when it agrees with the answer on every case
#: (on one case alone, e.g. a = (3, 4), b = 0, the undivided distance and the squared one are both 5).
_MISTAKES: list[tuple[Callable[[torch.Tensor], float], str]] = [
    (_second_norm, " You divided by the norm of the second code; divide by ||h(a)||, the first."),
    (lambda c: float((c[0] - c[1]).norm()),
     " That is the distance ||h(a) - h(b)|| itself: divide it by ||h(a)|| to make it relative "
     "(a change of 1 then means as large as the code)."),
    (lambda c: float((c[0] - c[1]).pow(2).sum() / c[0].norm()), " That is the squared distance; take its square root (the norm)."),
    (lambda c: float((c[0] - c[1]).abs().mean() / c[0].abs().mean()),
     " That is a mean absolute difference; use the Euclidean norm."),
]


def _agrees_everywhere(student_fn: Callable[[torch.Tensor], Any], mistake: Callable[[torch.Tensor], float]) -> bool:
    """True when ``student_fn`` gives ``mistake``'s value on every case where that value is finite."""
    for codes in _cases():
        wrong = mistake(codes)
        if not math.isfinite(wrong):
            continue
        try:
            got = float(student_fn(codes.clone()))
        except Exception:  # the checker has already reported what went wrong
            return False
        if not math.isclose(got, wrong, rel_tol=1e-5, abs_tol=1e-6):
            return False
    return True


@checks_stub
def check_relative_change(student_fn: Callable[[torch.Tensor], Any]) -> bool:
    """Compare ``student_fn(codes)`` with :func:`reference_relative_change`; print what is wrong."""
    if not callable(student_fn):
        return _wrong("check_relative_change needs your function relative_change itself, "
                      f"got {type(student_fn).__name__}.")
    for codes in _cases():
        expected = reference_relative_change(codes)
        shown = f"relative_change(torch.tensor({codes.tolist()}))"
        try:
            got = student_fn(codes.clone())
        except NotImplementedError:
            return _wrong("relative_change still raises NotImplementedError: replace the `raise` with your code.")
        except Exception as exc:  # a student's error, reported rather than raised
            return _wrong(f"{shown} raised {type(exc).__name__}: {exc}")
        if isinstance(got, torch.Tensor):
            if got.numel() != 1:
                return _wrong(f"{shown} returned a tensor of shape {tuple(got.shape)}: take the norm "
                              "(torch.linalg.norm or .norm()) to get one number.")
            got = got.item()
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _wrong(f"{shown} returned {type(got).__name__}; return one number.")
        if math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-6):
            continue
        hint = next((text for mistake, text in _MISTAKES if _agrees_everywhere(student_fn, mistake)), "")
        return _wrong(f"{shown} gave {got:.4f}, expected {expected:.4f}.{hint}")
    return _correct("relative_change = ||h(a) - h(b)|| / ||h(a)||.")
