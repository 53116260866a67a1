"""Notebook 00 (start here), exercise "which code changes?": :func:`check_relative_change`.

``check_relative_change(relative_change)`` calls the student's
``relative_change(codes)`` on pairs of code vectors (2, D) whose answer is known,

    relative change = || h(a) - h(b) || / || h(a) ||,

and names the usual mistakes: dividing by the norm of the second code, leaving the
norm out (a vector, or the squared distance), or taking the mean absolute difference.
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
        hint = ""
        second = float((codes[0] - codes[1]).norm() / codes[1].norm()) if codes[1].norm() > 0 else math.inf
        if math.isclose(got, second, rel_tol=1e-5):
            hint = " You divided by the norm of the second code; divide by ||h(a)||, the first."
        elif math.isclose(got, float((codes[0] - codes[1]).pow(2).sum() / codes[0].norm()), rel_tol=1e-5):
            hint = " That is the squared distance; take its square root (the norm)."
        elif math.isclose(got, float((codes[0] - codes[1]).abs().mean() / codes[0].abs().mean()), rel_tol=1e-5):
            hint = " That is a mean absolute difference; use the Euclidean norm."
        return _wrong(f"{shown} gave {got:.4f}, expected {expected:.4f}.{hint}")
    return _correct("relative_change = ||h(a) - h(b)|| / ||h(a)||.")
