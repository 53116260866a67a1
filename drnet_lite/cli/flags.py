"""Flag types and flag groups shared by the commands: every count and setting is checked by the parser,
before any work, and a bad one is named on one line with what would be accepted."""
from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path

from .common import UsageError


def _integer(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    """A count of at least 1."""
    return _integer(text, 1, ">= 1")


def nonnegative_int(text: str) -> int:
    return _integer(text, 0, ">= 0")


def batch_size(text: str) -> int:
    return _integer(text, 2, ">= 2 (shuffled pairs need another clip)")


def probe_clips(text: str) -> int:
    return _integer(text, 8, ">= 8 (half train, half test the probes)")


def _real(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_float(text: str) -> float:
    value = _real(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def nonnegative_float(text: str) -> float:
    value = _real(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def share(text: str) -> float:
    value = _real(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def fps(text: str) -> float:
    value = _real(text)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"frames per second must be in (0, 1000], got {value}")
    return value


def image_size(text: str) -> int:
    from ..models import MAX_IMAGE_SIZE

    value = _integer(text, 8, f"a power of two from 8 to {MAX_IMAGE_SIZE}")
    if value > MAX_IMAGE_SIZE or value & (value - 1):
        raise argparse.ArgumentTypeError(f"the models support powers of two from 8 to {MAX_IMAGE_SIZE} "
                                         f"(32, 64, 128), got {value}")
    return value


def device(text: str) -> str:
    from ..device import check_device

    if text != "auto":
        try:
            check_device(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def existing(kind: str):
    """An argument type: the path of an existing file (``kind`` names it in the message)."""
    def check(text: str) -> str:
        if Path(text).is_dir():
            thing = kind if kind.endswith("file") else f"{kind} file"
            raise argparse.ArgumentTypeError(f"{text} is a folder; give the path of the {thing}")
        if not Path(text).is_file():
            raise argparse.ArgumentTypeError(f"no {kind} at {text}; give the path of an existing file")
        return text
    return check


def out_folder(text: str) -> str:
    """An output folder: it may not exist yet, but no file may be in its way."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; choose another --out")
    return text


def json_file(text: str) -> str:
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name such as {Path(text) / 'metrics.json'}")
    return text


def add_run_flags(p: argparse.ArgumentParser) -> None:
    """The run folder's flags (train, train-lstm)."""
    p.add_argument("--out", default=None, help="run folder (checkpoint.pt, history.csv, ...)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --out (without it, or --resume, "
                   "a folder that holds a run is refused)")
    p.add_argument("--checkpoint-every", type=positive_int, help="steps between checkpoints (Ctrl-C also saves)")


def default_output(checkpoint: str, name: str) -> Path:
    """Where a command's default output file for ``checkpoint`` goes: beside it, unless it lies in a
    folder named ``assets`` (the shipped weights): then ``runs/<its name>/<name>``, so a shipped
    checkpoint's folder never collects results."""
    path = Path(checkpoint)
    if path.resolve().parent.name == "assets":
        return Path("runs") / path.stem / name
    return path.with_name(name)


def check_output(path: str | os.PathLike, flag: str = "--out", folder: bool = False) -> Path:
    """Before any work: can ``path`` (a file, or with ``folder`` a folder) be written? A file or folder in
    the way, or a folder that refuses new files (probed with a temporary file, removed at once), is a
    :class:`UsageError` naming ``flag``, the path and the reason. Nothing is created."""
    path = Path(path)
    if not folder and path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name such as {path / 'metrics.json'}")
    if folder and path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file, not a folder; choose another {flag}")
    start = path if folder else path.parent
    nearest = next(p for p in (start, *start.parents) if p.exists() or p == p.parent)
    if not nearest.is_dir():
        raise UsageError(f"{flag} {path}: {nearest} is a file, so no folder can be made there; choose another {flag}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=nearest)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: {nearest} cannot be written ({exc.strerror or exc}); choose a folder "
                         "you can write to") from None
    return path
