"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors and Python primitives:
``{"format", "kind", "config", "state", "step", ...}``. It is written to a
temporary file in the same folder and renamed over the old one, so a crash
while saving never leaves a half-written checkpoint behind.
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch

FORMAT = "drnet_lite/1"


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated, corrupt or of another kind."""


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``payload`` to ``path`` atomically (temp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, **payload}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, kind: str | None = None, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` and check its format (and ``kind`` if given)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"{path} could not be read as a checkpoint (truncated or corrupt?): {type(exc).__name__}: {exc}. "
            "Use an earlier checkpoint or train again."
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a drnet_lite checkpoint (format {FORMAT!r} expected)")
    if kind is not None and payload.get("kind") != kind:
        raise CheckpointError(f"{path} holds a {payload.get('kind')!r} checkpoint, expected {kind!r}")
    if payload.get("storage") == "float16":  # shipped at half size (export --half): computed with in float32
        payload["state"] = {k: v.float() if v.dtype == torch.float16 else v for k, v in payload["state"].items()}
        del payload["storage"]
    return payload


#: What a training checkpoint holds only to be resumed.
RESUME_ONLY = ("optimizers", "optimizer", "rng")


def export_weights(checkpoint: str | os.PathLike, out: str | os.PathLike, half: bool = False) -> Path:
    """Write a slim copy of a training checkpoint for shipping: everything but the optimiser
    and RNG state (config, weights, step, history, training time), so it can be used, not resumed.

    ``half``: store the float32 weights as float16 (half the file); :func:`load_checkpoint`
    turns them back into float32, so a loaded model computes in float32 with rounded weights
    (measure its numbers on the loaded file).
    """
    payload = load_checkpoint(checkpoint)
    slim = {k: v for k, v in payload.items() if k not in RESUME_ONLY and k != "format"}
    if half:
        slim["state"] = {k: v.half() if v.dtype == torch.float32 else v for k, v in slim["state"].items()}
        slim["storage"] = "float16"
    return save_checkpoint(slim, out)


def load_for_resume(path: Path | None, kind: str, config: Any, from_dict: Callable[[dict], Any]) -> dict[str, Any]:
    """The checkpoint a run resumes from, after checking that it exists and was made with ``config``
    (a dataclass with ``steps`` and ``device``; only those two may differ)."""
    if path is None or not path.is_file():
        raise CheckpointError(f"--resume: no checkpoint at {path}; start without --resume")
    payload = load_checkpoint(path, kind=kind)
    saved = from_dict(payload["config"])
    if dataclasses.replace(saved, steps=config.steps, device=config.device) != config:
        raise ValueError(f"--resume: {path} was trained with another config; only steps and device may change")
    return payload


def portable_path(path: str | os.PathLike) -> str:
    """``path`` relative to the working folder when it lies inside it, so that a shipped checkpoint
    or metrics file names no folder of the machine that made it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
