"""Notebook 09's checker accepts a right answer and names the usual mistakes."""
from __future__ import annotations

from drnet_lite.exercises import check_segments


def right(ranges, length):
    out = []
    for first, last in ranges:
        start, stop = first - 1, min(last, length)
        if stop > start:
            out.append((start, stop))
    return out


def test_right_answer_passes(capsys):
    assert check_segments(right) is True
    assert "Correct" in capsys.readouterr().out


def test_mistakes_are_named(capsys):
    cases = {
        "1-based": lambda r, n: list(r),
        "exclusive": lambda r, n: [(a - 1, b - 1) for a, b in r],
        "clamp stop": lambda r, n: [(a - 1, b) for a, b in r],
        "drop it": lambda r, n: [(a - 1, min(b, n)) for a, b in r],
        "dropped a range": lambda r, n: [(a - 1, b) for a, b in r if b <= n],
        "raised ZeroDivisionError": lambda r, n: 1 / 0,
        "NotImplementedError": lambda r, n: (_ for _ in ()).throw(NotImplementedError()),
        "pairs": lambda r, n: 42,
    }
    for hint, fn in cases.items():
        assert check_segments(fn) is False, hint
        out = capsys.readouterr().out
        assert "Not yet" in out and hint in out, (hint, out)
    assert check_segments(right(((1, 2),), 3)) is False  # the result, not the function
    assert "Pass the function itself" in capsys.readouterr().out
