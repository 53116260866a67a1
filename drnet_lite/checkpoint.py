"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors and Python primitives:
``{"format", "kind", "config", "state", "step", ...}``. It is written to a
temporary file in the same folder and renamed over the old one, so a crash
while saving never leaves a half-written checkpoint behind.
"""
from __future__ import annotations

import dataclasses
import io
import numbers
import os
import pickle
from pathlib import Path
from typing import Any, Callable

import torch
from numpy import bool_ as np_bool

from .atomic import atomic_write, first_bad

FORMAT = "drnet_lite/1"
#: What a training checkpoint holds only to be resumed.
RESUME_ONLY = ("optimizers", "optimizer", "rng")
#: What an export drops besides: the loss sums of the steps since the last history row (see loop.LoopState).
LOG_PARTIAL = "log_partial"
#: Config fields a resumed run may change.
RESUMABLE_CHANGES = ("steps", "device", "checkpoint_every", "log_every", "image_every")


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated, corrupt or of another kind."""


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``payload`` to ``path`` atomically (unique temp file, fsync, rename).

    The payload is serialised in memory first and then written as bytes: ``torch.save`` streaming
    into a file turns a full disk into an opaque ``RuntimeError`` ("unexpected pos"), whereas a
    plain write raises ``OSError(ENOSPC)``, which :func:`~drnet_lite.atomic.atomic_path` reports as
    "no space left on device" with the path, removing the temporary file and keeping the old checkpoint.
    """
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **payload}, buffer)
    return atomic_write(path, lambda handle: handle.write(buffer.getbuffer()))


def _tensor_not_finite(value: Any) -> bool | None:
    if not isinstance(value, torch.Tensor):
        return None
    return (value.is_floating_point() or value.is_complex()) and not bool(torch.isfinite(value).all())


def non_finite_tensor(value: Any, where: str = "") -> str | None:
    """The key path of the first floating tensor holding NaN or inf inside nested dicts/lists, or None."""
    return first_bad(value, _tensor_not_finite, where)


def load_checkpoint(path: str | os.PathLike, kind: str | None = None, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` and check its format (and ``kind`` if given)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" in str(exc):  # the weights-only unpickler met a class or function: objects beyond tensors
            raise CheckpointError(
                f"{path} holds Python objects beyond tensors and plain values, which a drnet_lite checkpoint never "
                "does; it was refused because unpickling such objects can run arbitrary code. Do not load it "
                "unsafely; use a checkpoint written by drnet_lite."
            ) from None
        raise CheckpointError(f"{path} could not be read as a checkpoint (truncated or corrupt); "
                              "use an earlier checkpoint or train again") from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        detail = f" ({type(exc).__name__}: {first[:120]})" if first and "weights_only" not in first else ""
        raise CheckpointError(
            f"{path} could not be read as a checkpoint (truncated or corrupt){detail}; "
            "use an earlier checkpoint or train again"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a drnet_lite checkpoint (format {FORMAT!r} expected)")
    if kind is not None and payload.get("kind") != kind:
        raise CheckpointError(f"{path} holds a {payload.get('kind')!r} checkpoint, expected {kind!r}")
    if payload.get("storage") == "float16":  # shipped at half size (export --half): computed with in float32
        payload["state"] = {k: v.float() if v.dtype == torch.float16 else v for k, v in payload["state"].items()}
        del payload["storage"]
    bad = non_finite_tensor({k: payload[k] for k in ("state", *RESUME_ONLY) if k in payload})
    if bad is not None:
        raise CheckpointError(
            f"{path} holds non-finite values (NaN or inf) in {bad}: the run that wrote it had diverged; "
            "use an earlier checkpoint or train again with a lower --lr"
        )
    return payload


def export_weights(checkpoint: str | os.PathLike, out: str | os.PathLike, half: bool = False) -> Path:
    """Write a slim copy of a training checkpoint for shipping: everything but the optimiser
    and RNG state (config, weights, step, history, training time), so it can be used, not resumed.

    ``half``: store floating weights as float16 (half the size; loading casts them back to
    float32, so the model computes with the rounded weights)."""
    if Path(out).resolve() == Path(checkpoint).resolve():
        raise ValueError(f"export: --out {out} is the checkpoint itself; exporting over it would throw away its "
                         "optimiser state. Give another --out")
    payload = load_checkpoint(checkpoint)
    slim = {k: v for k, v in payload.items() if k not in (*RESUME_ONLY, LOG_PARTIAL, "format")}
    if half:
        slim["state"] = {k: v.half() if v.is_floating_point() else v for k, v in slim["state"].items()}
        slim["storage"] = "float16"
    return save_checkpoint(slim, out)


def check_field_types(config: Any) -> None:
    """Raise ``ValueError`` naming the first field of the dataclass ``config`` declared ``int``, ``float``,
    ``bool`` or ``str`` whose value is of another kind (``width=8.5``, ``steps="3"``); an ``int`` is a
    ``float`` too, a ``bool`` is neither."""
    for item in dataclasses.fields(config):
        value, kind = getattr(config, item.name), str(item.type)
        if kind == "int":
            ok, wanted = isinstance(value, numbers.Integral) and not isinstance(value, bool), "a whole number"
        elif kind == "float":
            ok, wanted = isinstance(value, numbers.Real) and not isinstance(value, bool), "a number"
        elif kind == "bool":
            ok, wanted = isinstance(value, (bool, np_bool)), "True or False"
        elif kind == "str":
            ok, wanted = isinstance(value, str), "a string"
        else:
            continue
        if not ok:
            raise ValueError(f"{item.name} must be {wanted}, got {value!r} ({type(value).__name__})")


def read_config(payload: dict[str, Any], path: str | os.PathLike, from_dict: Callable[[Any], Any],
                key: str = "config") -> Any:
    """``from_dict(payload[key])``: the config a checkpoint stores, rebuilt. A missing or invalid one
    (a bad value, a wrong type) raises :class:`CheckpointError` naming ``path`` and what was wrong."""
    try:
        return from_dict(payload[key])
    except KeyError as exc:
        problem = f"{key!r} is missing" if exc.args and exc.args[0] == key else f"it lacks the field {exc}"
    except (TypeError, ValueError, AttributeError) as exc:
        problem = str(exc) or type(exc).__name__
    raise CheckpointError(f"{path}: the config stored in this checkpoint is not valid ({problem}); it was not "
                          "written by this version of drnet_lite, or was edited: use another checkpoint or train again")


def load_for_resume(path: Path | None, kind: str, config: Any, from_dict: Callable[[dict], Any]) -> dict[str, Any]:
    """The checkpoint a run resumes from, after checking that it exists and was made with ``config``
    (a dataclass with ``steps`` and ``device``; only those two may differ)."""
    if path is None or not path.is_file():
        raise CheckpointError(f"--resume: no checkpoint at {path}; start without --resume")
    payload = load_checkpoint(path, kind=kind)
    if not any(key in payload for key in RESUME_ONLY):
        raise CheckpointError(
            f"--resume: {path} holds exported weights (no optimiser state), which cannot be resumed; "
            "resume from the training run's own checkpoint, or start a new run in another --out"
        )
    saved = read_config(payload, path, from_dict)
    free = {name: getattr(config, name) for name in RESUMABLE_CHANGES if hasattr(config, name)}
    if dataclasses.replace(saved, **free) != config:
        raise ValueError(f"--resume: {path} was trained with another config; only {', '.join(RESUMABLE_CHANGES)} may change")
    return payload


def portable_path(path: str | os.PathLike) -> str:
    """``path`` relative to the working folder when it lies inside it, so that a shipped checkpoint
    or metrics file names no folder of the machine that made it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
