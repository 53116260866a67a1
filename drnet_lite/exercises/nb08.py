"""Notebook 08 (real video), exercise "cut frames into scenes": :func:`check_tiles`.

``check_tiles(my_tiles)`` calls the student's ``my_tiles(frames, rows, cols)`` on
small frames whose every pixel holds a distinct number, so any mix-up of rows,
columns or pixels shows, and names the usual mistakes: tiles in column-major
order, a reshape without the permute (pixels of several tiles mixed), a
remainder that is not dropped.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ._common import checks_stub, _correct, _wrong

__all__ = ["check_tiles", "reference_tiles"]


def reference_tiles(frames: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, rows * cols, C, H // rows, W // cols); tile ``r * cols + c`` is block (r, c).

    A remainder of ``H % rows`` rows and ``W % cols`` columns at the bottom/right is dropped.
    """
    n, c, h, w = frames.shape
    th, tw = h // rows, w // cols
    x = frames[:, :, :th * rows, :tw * cols]
    return x.reshape(n, c, rows, th, cols, tw).permute(0, 2, 4, 1, 3, 5).reshape(n, rows * cols, c, th, tw)


def _column_major(frames: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    tiles = reference_tiles(frames, rows, cols)
    order = [r * cols + c for c in range(cols) for r in range(rows)]
    return tiles[:, order]


def _no_permute(frames: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    n, c, h, w = frames.shape
    th, tw = h // rows, w // cols
    return frames[:, :, :th * rows, :tw * cols].reshape(n, rows * cols, c, th, tw)


@checks_stub
def check_tiles(student_fn: Callable[[torch.Tensor, int, int], Any]) -> bool:
    """Compare ``student_fn(frames, rows, cols)`` with :func:`reference_tiles` on several cases; print what is wrong."""
    if not callable(student_fn):
        return _wrong(f"check_tiles needs your function my_tiles itself, got {type(student_fn).__name__}.")
    name = getattr(student_fn, "__name__", "your function")
    cases = [(2, 1, 6, 9, 2, 3), (1, 3, 8, 8, 2, 2), (3, 1, 7, 10, 3, 2), (1, 2, 5, 4, 1, 1)]
    for n, c, h, w, rows, cols in cases:
        frames = torch.arange(n * c * h * w, dtype=torch.float32).view(n, c, h, w)
        expected = reference_tiles(frames, rows, cols)
        shown = f"{name}(frames of shape {tuple(frames.shape)}, rows={rows}, cols={cols})"
        hint = ""
        if h % rows or w % cols:
            hint = (f" The frame is {h}x{w}, which {rows}x{cols} tiles do not divide: drop the remainder "
                    f"(keep the first {h // rows * rows} rows and {w // cols * cols} columns).")
        try:
            got = student_fn(frames.clone(), rows, cols)
        except NotImplementedError:
            return _wrong(f"{name} still raises NotImplementedError: replace the `raise` with your own code, "
                          "run that cell, then run this check again.")
        except Exception as exc:  # the student's code: any error becomes a report
            return _wrong(f"{shown} raised {type(exc).__name__}: {exc}.{hint}")
        if not isinstance(got, torch.Tensor):
            return _wrong(f"{shown} returned a {type(got).__name__}; return a tensor.")
        if tuple(got.shape) != tuple(expected.shape):
            return _wrong(f"{shown} has shape {tuple(got.shape)}; expected {tuple(expected.shape)} = "
                          f"(N, rows * cols, C, H // rows, W // cols).{hint}")
        got = got.float()
        if torch.equal(got, expected):
            continue
        if rows > 1 and cols > 1 and torch.equal(got, _column_major(frames, rows, cols)):
            return _wrong(f"{shown}: the tiles are right but in column-major order; tile r * cols + c must be "
                          "row r, column c (go along a row first).")
        if torch.equal(got, _no_permute(frames, rows, cols)):
            return _wrong(f"{shown}: a plain reshape mixes pixels of different tiles; reshape to "
                          "(N, C, rows, H // rows, cols, W // cols) and permute the tile axes before the channel.")
        bad = int((got != expected).flatten(2).any(2).nonzero()[0, 1]) if (got != expected).any() else 0
        return _wrong(f"{shown}: tile {bad} differs from block (row {bad // cols}, column {bad % cols}) of the frame.")
    return _correct("your tiles match block (r, c) of every frame, in row-major order, remainders dropped.")
