"""Atomic file writes: every file the package writes goes through :func:`atomic_write`.

The bytes go to a uniquely named temporary file in the target's folder
(``<name>.<random>.tmp``), are flushed to disk, and the temporary file is then
renamed over the target. A crash, Ctrl-C or a second process therefore never
leaves a half-written file under the real name: a reader sees the old file or
the new one. Two writers of one file never share a temporary name. A full disk
(or quota) removes the temporary file and raises ``OSError(ENOSPC)`` saying
"no space left on device" with the target's path and that the earlier file is kept.
"""
from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

TMP_SUFFIX = ".tmp"
#: The errors of a full disk and of a full quota.
NO_SPACE = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def no_space_error(path: Path, existed: bool) -> OSError:
    """The one-line error for a write to ``path`` that ran out of space (its temporary file already removed)."""
    kept = f"the earlier {path.name} is kept unchanged" if existed else f"no {path.name} was written"
    return OSError(errno.ENOSPC, f"no space left on device while writing {path}: {kept} and the temporary file "
                                 "was removed; free some space (or write elsewhere) and run again", str(path))


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name (for example {path / 'out.json'})")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, keep_suffix: bool = False) -> Iterator[Path]:
    """A fresh temporary path beside ``path`` for a writer that wants a file name (PyAV, for one).

    When the ``with`` block ends without an error the file is given the usual
    permissions and renamed over ``path``; on any error (Ctrl-C included) it is
    removed. ``keep_suffix``: the temporary name also ends with ``path``'s suffix,
    for writers that pick the format from it (``clip.avi.<random>.tmp.avi``).
    """
    path = Path(path)
    _check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=TMP_SUFFIX + (path.suffix if keep_suffix else ""),
                                   dir=path.parent)
    except OSError as exc:  # named by the file meant, not by the temporary name
        if exc.errno in NO_SPACE:
            raise no_space_error(path, existed) from None
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            raise no_space_error(path, existed) from exc
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a fresh temporary file, flush it to disk, then rename it to ``path``
    (folders are created)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda handle: handle.write(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def first_bad(value: Any, bad: Callable[[Any], bool | None], where: str = "") -> str | None:
    """The key path of the first leaf inside nested dicts, lists and tuples for which ``bad(leaf)`` is true.

    ``bad`` returns None for a value it does not judge (then dicts and lists are searched)."""
    verdict = bad(value)
    if verdict is not None:
        return (where or "<value>") if verdict else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = first_bad(item, bad, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None


def non_finite_key(value: Any, where: str = "") -> str | None:
    """The key path of the first NaN or infinite float inside nested dicts and lists, or None."""
    return first_bad(value, lambda v: not math.isfinite(v) if isinstance(v, float) else None, where)


def write_json(results: Any, path: str | os.PathLike) -> Path:
    """Write ``results`` as strict JSON (no NaN or Infinity, which are not JSON) atomically.

    Raises:
        ValueError: a value is NaN or infinite (the key is named); nothing is written.
    """
    bad = non_finite_key(results)
    if bad is not None:
        raise ValueError(
            f"not writing {path}: {bad} is not a finite number, which JSON cannot hold; "
            "the model or the inputs it was measured on are broken (NaN or infinite weights?)"
        )
    return write_text(path, json.dumps(results, indent=2, sort_keys=True, allow_nan=False))
