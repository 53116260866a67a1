"""The notebooks' exercise checkers accept right answers, reject wrong ones and never raise."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from drnet_lite.exercises import check_bounce


# ---------------------------------------------------------------- right answers

def bounce_formula(p0, v, limit, steps):
    out = []
    for t in range(steps):
        u = (p0 + v * t) % (2 * limit)
        out.append(limit - abs(u - limit))
    return out


def bounce_loop(p0, v, limit, steps):
    """Step by step, reflecting as often as needed within one step."""
    out, p = [], p0
    for _ in range(steps):
        out.append(p)
        p += v
        while p < 0 or p > limit:
            if p < 0:
                p, v = -p, -v
            if p > limit:
                p, v = 2 * limit - p, -v
    return out


def bounce_numpy(p0, v, limit, steps):
    u = np.mod(p0 + v * np.arange(steps), 2 * limit)
    return limit - np.abs(u - limit)


def bounce_torch(p0, v, limit, steps):
    u = torch.remainder(p0 + v * torch.arange(steps), 2 * limit)
    return limit - (u - limit).abs()


@pytest.mark.parametrize("solution", [bounce_formula, bounce_loop, bounce_numpy, bounce_torch])
def test_check_bounce_accepts_correct_solutions(solution, capsys):
    assert check_bounce(solution) is True
    assert capsys.readouterr().out.startswith("Correct!")


# ---------------------------------------------------------------- wrong answers

def no_bounce(p0, v, limit, steps):
    return [p0 + v * t for t in range(steps)]


def clamp_then_turn(p0, v, limit, steps):
    out, p = [], p0
    for _ in range(steps):
        out.append(p)
        p += v
        if p < 0 or p > limit:
            v = -v
            p = min(max(p, 0), limit)
    return out


def wall_one_too_far(p0, v, limit, steps):
    return bounce_formula(p0, v, limit + 1, steps)


def wraps_around(p0, v, limit, steps):
    return [(p0 + v * t) % limit for t in range(steps)]


def c_remainder(p0, v, limit, steps):
    return [int(limit - abs(math.fmod(p0 + v * t, 2 * limit) - limit)) for t in range(steps)]


def starts_at_t1(p0, v, limit, steps):
    return bounce_formula(p0, v, limit, steps + 1)[1:]


def one_too_many(p0, v, limit, steps):
    return bounce_formula(p0, v, limit, steps + 1)


def reflects_once_per_step(p0, v, limit, steps):
    out, p = [], p0
    for _ in range(steps):
        out.append(p)
        p += v
        if p < 0:
            p, v = -p, -v
        if p > limit:
            p, v = 2 * limit - p, -v
    return out


def float_positions(p0, v, limit, steps):
    return [x + 0.5 for x in bounce_formula(p0, v, limit, steps)]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (no_bounce, "never bounces"),
        (clamp_then_turn, "off by one at the bounce"),
        (wall_one_too_far, "one pixel too late"),
        (wraps_around, "wraps around"),
        (c_remainder, "fmod"),
        (starts_at_t1, "starts at p(1)"),
        (one_too_many, "one position too many"),
        (reflects_once_per_step, "more than once"),
        (float_positions, "whole pixels"),
    ],
)
def test_check_bounce_rejects_wrong_solutions_with_a_hint(wrong, hint, capsys):
    assert check_bounce(wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet.")
    assert hint.lower() in out.lower()


# ---------------------------------------------------------------- robustness

def not_implemented(p0, v, limit, steps):
    raise NotImplementedError


def crashes(p0, v, limit, steps):
    return [p0 // 0]


def wrong_signature(p0, v, limit):
    return [p0]


def returns_none(p0, v, limit, steps):
    return None


@pytest.mark.parametrize(
    "broken, hint",
    [
        (not_implemented, "NotImplementedError"),
        (crashes, "ZeroDivisionError"),
        (wrong_signature, "TypeError"),
        (returns_none, "list of ints"),
        (42, "Pass the function itself"),
    ],
)
def test_check_bounce_survives_broken_solutions(broken, hint, capsys):
    assert not check_bounce(broken)
    assert hint in capsys.readouterr().out


# ---------------------------------------------------------------- the notebook's own solution

NOTEBOOK_01 = Path(__file__).resolve().parents[1] / "notebooks" / "01_data.ipynb"


def test_notebook_01_solution_passes_its_checker(capsys):
    """The filled-in solution of notebook 01 is right (nbval alone would not notice: the checker never raises)."""
    from drnet_lite.exercises import solution_if_unsolved

    cells = json.loads(NOTEBOOK_01.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    sources = {tag: ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in code if tag in c["metadata"].get("tags", [])] for tag in ("exercise", "solution")}
    assert len(sources["exercise"]) == len(sources["solution"]) == 1, "notebook 01: one stub and one hidden solution"
    namespace: dict = {"solution_if_unsolved": solution_if_unsolved}
    for source in sources["exercise"] + sources["solution"]:  # the stub, then the solution that stands in for it
        exec(compile(source, str(NOTEBOOK_01), "exec"), namespace)
    assert check_bounce(namespace["bounce_positions"]) is True
