"""The machinery every exercise checker shares.

A checker is a plain function that takes the student's function (or answer),
tries it on cases it builds itself, compares the results with the package's
own implementation, prints a friendly verdict and returns ``True`` (correct) or
``False``. A checker never raises on a wrong answer: exceptions from the
student's code are caught (:func:`_call`, :func:`_call_shown`) and reported as a
hint, and every verdict is printed by :func:`_correct` ("Correct! ...") or
:func:`_wrong` ("Not yet. ...").

Each exercise cell is a stub that raises ``NotImplementedError`` (:func:`is_stub`
recognises it), followed by a hidden solution cell that ends with
:func:`solution_if_unsolved`, so a notebook runs from top to bottom before the
student has written anything.
"""
from __future__ import annotations

import functools
import numbers
import traceback
from typing import Any, Callable, Sequence

import numpy as np
import torch

__all__ = ["UNWRITTEN", "Unwritten", "checks_stub", "is_stub", "package_if_unsolved", "solution_if_unsolved"]


class _StudentError(Exception):
    """The student's code raised; ``message`` is the friendly report."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _correct(message: str) -> bool:
    """Print the verdict for a right answer; return True."""
    print(f"Correct! {message}")
    return True


def _wrong(message: str) -> bool:
    """Print the verdict (with its hint) for a wrong answer; return False."""
    print(f"Not yet. {message}")
    return False


def _call(fn: Callable, *args: Any, name: str | None = None) -> Any:
    """Call the student's ``fn(*args)``; turn any exception into a :class:`_StudentError`."""
    name = name or getattr(fn, "__name__", "your function")
    return _call_shown(fn, args, f"{name}({', '.join(repr(a) for a in args)})", name)


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


def _call_named(fn: Callable, args: Sequence[Any], labels: Sequence[str], name: str) -> Any:
    """:func:`_call_shown` reporting the call by argument names (``model, x_c, x_p``) instead of their values."""
    return _call_shown(fn, tuple(args), f"{name}({', '.join(labels)})", name)


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


def package_if_unsolved(student_fn: Callable, package_fn: Callable) -> Callable:
    """For the cells after an exercise's check: the student's function once it is written, the package's
    own implementation (with a one-line note) while the exercise cell is still the stub, so "Run all"
    reaches the end of a student's copy before anything is written. Silent when the student's is used."""
    if not is_stub(student_fn):
        return student_fn
    name = getattr(student_fn, "__name__", "your function")
    print(f"{name} is still the stub: the cells below use the package's "
          f"{package_fn.__module__}.{package_fn.__qualname__} until you write yours and rerun from the exercise.")
    return package_fn


class Unwritten:
    """A checker's verdict on a stub: false (the exercise is not done) but not a failed attempt, so
    :func:`drnet_lite.course.expect` lets the notebook run on, even in strict mode."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNWRITTEN"


UNWRITTEN = Unwritten()


def checks_stub(check: Callable[..., bool]) -> Callable[..., bool]:
    """Decorate a checker: given a stub (:func:`is_stub`), it says so and returns :data:`UNWRITTEN`
    instead of running its cases; anything else goes to the checker."""

    @functools.wraps(check)
    def run(student_fn: Any, *args: Any, **kwargs: Any) -> Any:
        if callable(student_fn) and is_stub(student_fn):
            name = getattr(student_fn, "__name__", "your function")
            print(f"Not written yet: {name} still raises NotImplementedError. Replace the `raise` with your "
                  "own code, run that cell, then run this check again.")
            return UNWRITTEN
        return check(student_fn, *args, **kwargs)

    return run


def _check_callable(fn: Any, checker: str, expected: str) -> str | None:
    """The hint for an answer that is not a function (None when it is one)."""
    if callable(fn):
        return None
    return (
        f"Pass the function itself: {checker}({expected}), not {checker}({expected}(...)); "
        f"got {type(fn).__name__} {fn!r:.60}."
    )


def _answer_tensor(value: Any, what: str) -> torch.Tensor:
    """The student's answer as a CPU tensor (numpy arrays accepted); else raise ``TypeError``."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise TypeError(f"{what} should be a torch tensor, got {type(value).__name__}")


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
    """Loss values equal up to float rounding."""
    return bool(torch.allclose(a.detach().double(), b.detach().double(), rtol=1e-4, atol=1e-7))


def _match_wrong(value: torch.Tensor, candidates: Sequence[tuple[torch.Tensor, str]]) -> str | None:
    """The hint of the first wrong answer whose value ``value`` matches (None when none does)."""
    for wrong, hint in candidates:
        if _close(value, wrong):
            return hint
    return None
