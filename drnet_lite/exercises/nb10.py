"""Notebook 10 (objects that turn), exercise 7 (a) and (b): two checkers.

* :func:`check_azimuth_features`: the azimuth is an angle, so a probe should
  regress ``(cos a, sin a)``, not degrees (359 and 1 degrees are neighbours).
* :func:`check_swap_target`: the exact target of a swap on the turntable is
  the content clip's object, under the content clip's light, at the pose
  clip's viewpoint.

Each checker tries the student's function on cases it builds itself, prints a
verdict and returns ``True`` or ``False``; it never raises on a wrong answer.
"""
from __future__ import annotations

import sys
import traceback
from typing import Any, Callable

import torch

from ..data.turntable import Turntable, TurntableClips, TurntableConfig
from ._common import checks_stub, _correct, _wrong

__all__ = ["check_azimuth_features", "check_swap_target", "reference_azimuth_features", "reference_swap_target"]


def _raised(name: str) -> bool:
    if isinstance(sys.exc_info()[1], NotImplementedError):
        return _wrong(f"{name} still raises NotImplementedError: replace the `raise` with your own code, "
                      "run that cell, then run this check again.")
    last = traceback.format_exc().strip().splitlines()[-1]
    return _wrong(f"{name} raised {last}")


def reference_azimuth_features(azimuth: torch.Tensor) -> torch.Tensor:
    """(N,) degrees -> (N, 2) ``(cos a, sin a)``."""
    a = torch.deg2rad(azimuth.float())
    return torch.stack([a.cos(), a.sin()], 1)


@checks_stub
def check_azimuth_features(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(azimuth_degrees (N,)) -> (N, 2)`` features that put 0 and 360 degrees at one point."""
    if not callable(fn):
        return _wrong(f"pass the function itself, got {type(fn).__name__}")
    azimuth = torch.tensor([0.0, 90.0, 180.0, 270.0, 359.0, 360.0, 1.0, 45.0])
    try:
        got = fn(azimuth.clone())
    except Exception:
        return _raised("azimuth_features")
    if not torch.is_tensor(got):
        return _wrong(f"return a tensor, got {type(got).__name__}")
    if got.shape != (8, 2):
        return _wrong(f"return one row of two numbers per azimuth: expected shape (8, 2), got {tuple(got.shape)}")
    got = got.float()
    if torch.allclose(got, torch.stack([azimuth.cos(), azimuth.sin()], 1), atol=1e-4):
        return _wrong("those are cos and sin of the angle read as radians; convert degrees first (torch.deg2rad)")
    if not torch.allclose(got[0], got[5], atol=1e-4):
        return _wrong("0 and 360 degrees are the same view, but your features differ for them")
    if torch.allclose(got, reference_azimuth_features(azimuth)[:, [1, 0]], atol=1e-4):
        return _wrong("the columns are (sin, cos); the table reads (cos a, sin a)")
    if not torch.allclose(got, reference_azimuth_features(azimuth), atol=1e-4):
        return _wrong(f"for 90 degrees expected (0, 1), got {tuple(round(float(v), 3) for v in got[1])}")
    return _correct("359 and 1 degrees are now neighbours, as they are on the turntable.")


def reference_swap_target(source: Turntable, content: TurntableClips, pose: TurntableClips) -> torch.Tensor:
    """The content clip's object and light at the pose clip's azimuths and elevations: (B, T, C, S, S)."""
    obj = content.object_id[:, None].expand_as(pose.azimuth_index)
    light = content.light[:, None, :].expand(*pose.azimuth_index.shape, 2)
    return source.frames(obj, pose.azimuth_index, pose.elevation_index, light)


@checks_stub
def check_swap_target(fn: Callable[[Turntable, TurntableClips, TurntableClips], torch.Tensor],
                      source: Turntable | None = None) -> bool:
    """Check ``fn(source, content_clips, pose_clips)`` against the exact swap target."""
    if not callable(fn):
        return _wrong(f"pass the function itself, got {type(fn).__name__}")
    source = source or Turntable(TurntableConfig(image_size=16, seq_len=3, instances=2, azimuth_steps=6,
                                                 elevations=(10.0, 30.0)))
    content, pose = source.sample(4, seed=101), source.sample(4, seed=202)
    want = reference_swap_target(source, content, pose)
    try:
        got = fn(source, content, pose)
    except Exception:
        return _raised("swap_target")
    if not torch.is_tensor(got) or got.shape != want.shape:
        shape = tuple(got.shape) if torch.is_tensor(got) else type(got).__name__
        return _wrong(f"expected frames of shape {tuple(want.shape)} (like the clips' frames), got {shape}")
    if torch.allclose(got, want, atol=1e-4):
        return _correct("the object of the content clip, in the pose of the other.")
    wrong: dict[str, Any] = {
        "the pose clip's own frames: pose and object both came from the pose clip": pose.frames,
        "the content clip's frames: the viewpoint must come from the pose clip": content.frames,
        "the pose clip's light: lighting is fixed per clip, so it belongs to content":
            source.frames(content.object_id[:, None].expand_as(pose.azimuth_index), pose.azimuth_index,
                          pose.elevation_index, pose.light[:, None, :].expand(*pose.azimuth_index.shape, 2)),
        "the content clip's elevation: the whole viewpoint (azimuth and elevation) comes from the pose clip":
            source.frames(content.object_id[:, None].expand_as(pose.azimuth_index), pose.azimuth_index,
                          content.elevation_index, content.light[:, None, :].expand(*pose.azimuth_index.shape, 2)),
    }
    for hint, frames in wrong.items():
        if torch.allclose(got, frames, atol=1e-4):
            return _wrong(f"this is {hint}.")
    return _wrong(f"the frames differ from the exact target (largest difference {float((got - want).abs().max()):.3f}).")
