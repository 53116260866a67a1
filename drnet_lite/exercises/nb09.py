"""Notebook 09 (KTH), exercise "read the sequence file right": :func:`check_segments`.

``check_segments(fn)``: ``fn(ranges, decoded_length)`` must turn the ranges of
one line of ``00sequences.txt`` (1-based, inclusive, as written) into 0-based
``(start, stop)`` pairs (stop exclusive) of the frames that actually decode:
clamped to ``decoded_length``, dropped when nothing is left, overlaps kept.
The checker compares with :func:`drnet_lite.data.kth.segments` on cases it
builds itself and names the usual mistakes. Like every checker it prints a
verdict and returns True or False; it never raises on a wrong answer.
"""
from __future__ import annotations

from typing import Any, Callable

from ..data.kth import SequenceEntry, VideoKey, segments
from ._common import _call, _check_callable, checks_stub, _correct, _StudentError, _wrong

__all__ = ["check_segments", "reference_segments"]

#: (ranges as written, frames that decode): the quirks of the real file.
CASES: list[tuple[list[tuple[int, int]], int]] = [
    ([(1, 95), (96, 185), (186, 245), (246, 360)], 360),   # person01_boxing_d1, as written
    ([(1, 106), (107, 170), (171, 245), (246, 370)], 304),  # person01_boxing_d4: declares 370, 304 decode
    ([(1, 110), (110, 192), (193, 300)], 300),               # an overlap at frame 110, and only 3 ranges
    ([(1, 50), (51, 120), (130, 160)], 125),                 # the last range starts past the end: dropped
    ([(5, 5)], 10),                                          # a range of one frame
]


def reference_segments(ranges: list[tuple[int, int]], decoded_length: int) -> list[tuple[int, int]]:
    """The package's answer: :func:`drnet_lite.data.kth.segments` as (start, stop) pairs."""
    entry = SequenceEntry(VideoKey(1, "boxing", 1), tuple(ranges))
    return [(s.start, s.stop) for s in segments(entry, decoded_length)]


def _as_pairs(value: Any) -> list[tuple[int, int]]:
    try:
        pairs = [(int(a), int(b)) for a, b in value]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"expected a list of (start, stop) pairs, got {value!r}") from exc
    return pairs


def _diagnose(answer: list[tuple[int, int]], ranges: list[tuple[int, int]], length: int) -> str:
    """A hint for the usual mistakes on one case."""
    expected = reference_segments(ranges, length)
    if answer == [(a, b) for a, b in ranges]:
        return "you returned the ranges as written: they are 1-based and inclusive; frame a-b is a - 1 .. b - 1 in Python."
    if answer == [(a - 1, b - 1) for a, b in ranges]:
        return "the stop is exclusive in Python: the range a-b (inclusive) ends at stop = b, not b - 1."
    unclamped = [(a - 1, b) for a, b in ranges]
    if answer == unclamped and unclamped != expected:
        return (f"ranges can run past the {length} frames that decode (person01_boxing_d4): clamp stop to "
                "decoded_length, and drop a range when nothing is left.")
    clamped_kept = [(a - 1, min(b, length)) for a, b in ranges]
    if answer == clamped_kept and clamped_kept != expected:
        return "a range that starts after the last decoded frame has nothing left: drop it (start < stop must hold)."
    if len(answer) < len(expected):
        return "you dropped a range that still has frames (overlapping ranges are kept as they are)."
    return f"expected {expected}, got {answer}."


@checks_stub
def check_segments(fn: Callable[[list[tuple[int, int]], int], Any]) -> bool:
    """Check ``fn(ranges, decoded_length) -> [(start, stop), ...]`` on the quirks of the real file."""
    problem = _check_callable(fn, "check_segments", "a function fn(ranges, decoded_length)")
    if problem:
        return _wrong(problem)
    for ranges, length in CASES:
        try:
            answer = _as_pairs(_call(fn, list(ranges), length, name=getattr(fn, "__name__", "your function")))
        except _StudentError as exc:
            return _wrong(str(exc))
        except TypeError as exc:
            return _wrong(str(exc))
        if answer != reference_segments(ranges, length):
            return _wrong(f"on ranges {ranges} with {length} decoded frames: " + _diagnose(answer, ranges, length))
    return _correct("1-based inclusive ranges become 0-based [start, stop), clamped to what decodes, "
                    "empty ones dropped, overlaps kept.")
