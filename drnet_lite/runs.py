"""The run folder: what every training loop does before, during and after its steps so
that nothing is lost and nothing is replaced silently.

* :func:`open_run` creates and probes the folder before any work (a file in the
  way, a read-only folder), takes its lock, removes stale temporary files and
  applies the resume rules: a folder that already holds a run is refused unless
  the caller resumes it or asks to overwrite it.
* The lock ``run.lock`` holds the owner's pid and host. A second process on a
  locked folder gets :class:`RunFolderError`; a lock left by a killed process
  (same host, pid gone) is detected as stale and taken over.
* :meth:`Run.save` writes a checkpoint atomically and refuses non-finite
  parameters or optimiser state, so "the last good checkpoint" is always good.
* :func:`check_losses` stops a run whose losses are NaN, infinite or exploding.
* :class:`DeferredInterrupt` turns Ctrl-C into a request honoured between two
  steps, so the loop can save a consistent checkpoint and then stop.
"""
from __future__ import annotations

import atexit
import json
import math
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

from .atomic import TMP_SUFFIX
from .checkpoint import non_finite_tensor, save_checkpoint

LOCK_NAME = "run.lock"
CHECKPOINT_NAME = "checkpoint.pt"
#: Files a run writes; --overwrite removes these (and only these) before the new run starts.
RUN_FILES = (CHECKPOINT_NAME, "history.csv")
#: A loss above this is an explosion: every loss here is O(1) while training works.
EXPLODED_LOSS = 1e6


class RunFolderError(RuntimeError):
    """The run folder cannot be used: in the way, not writable, locked, or holding another run."""


class TrainingDiverged(RuntimeError):
    """A loss or the weights became NaN, infinite or exploded; the last good checkpoint is kept."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; the state of the last finished step was saved (if there is a run folder)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child that nobody reaped yet is a zombie: it holds nothing
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _read_lock(lock: Path) -> dict[str, Any]:
    try:
        return json.loads(lock.read_text())
    except (OSError, ValueError):
        return {}


def _lock_is_stale(owner: dict[str, Any]) -> bool:
    """True when the lock's owner is a process of this host that no longer runs, or this very process
    (a run of it that stopped without releasing the lock, e.g. a notebook cell that failed)."""
    pid, host = owner.get("pid"), owner.get("host")
    if host != socket.gethostname() or not isinstance(pid, int):
        return False
    return pid == os.getpid() or not _pid_alive(pid)


def acquire_lock(folder: Path) -> Path:
    """Create ``folder/run.lock`` (pid, host, start time), taking over a stale one; raise if it is held."""
    lock = folder / LOCK_NAME
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _read_lock(lock)
            if _lock_is_stale(owner):
                if owner["pid"] != os.getpid():
                    print(f"note: removing the stale lock {lock} of process {owner['pid']}, which no longer runs")
                lock.unlink(missing_ok=True)
                continue
            who = f"process {owner.get('pid', '?')} on {owner.get('host', '?')}" if owner else "another process"
            raise RunFolderError(
                f"{folder} is in use by {who} (lock file {lock}); wait for it to finish or use another --out. "
                f"If no such process runs any more, delete {lock}"
            ) from None
        with os.fdopen(fd, "w") as handle:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}, handle)
        return lock
    raise RunFolderError(f"could not take the lock {lock}; delete it if no run uses {folder}")


def release_lock(lock: Path) -> None:
    """Remove ``lock`` if this process holds it."""
    if _read_lock(lock).get("pid") == os.getpid():
        lock.unlink(missing_ok=True)


def probe_folder(folder: Path) -> Path | None:
    """Create ``folder`` and check that files can be written in it. Returns the topmost folder this
    created (``folder`` or one of its parents), or None if ``folder`` existed."""
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"--out {folder} is a file, not a folder; choose another --out")
    created = None
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        created = parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-probe-{os.getpid()}{TMP_SUFFIX}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunFolderError(f"--out {folder} cannot be written ({exc.strerror or exc}); "
                             "choose a folder you can write to") from None
    return created


def remove_if_empty(folder: Path, top: Path) -> None:
    """Remove ``folder`` (and an empty ``images/`` in it), then its parents up to ``top``, while they are empty."""
    for path in (folder / "images", folder, *folder.parents):
        try:
            path.rmdir()  # only ever removes an empty folder
        except OSError:
            if path != folder / "images":
                return
        if path == top:
            return


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the ``*.tmp`` files that an interrupted save left in ``folder`` and ``folder/images``."""
    removed = []
    for sub in (folder, folder / "images"):
        if sub.is_dir():
            for tmp in sub.glob(f"*{TMP_SUFFIX}"):
                if tmp.is_file():
                    tmp.unlink(missing_ok=True)
                    removed.append(tmp)
    return removed


def check_finite(values: Any, what: str) -> None:
    """Raise :class:`TrainingDiverged` when a floating tensor in ``values`` (nested dicts) is NaN or inf."""
    bad = non_finite_tensor(values)
    if bad is not None:
        raise TrainingDiverged(f"{what}: {bad} is not finite (NaN or inf)")


def check_losses(losses: dict[str, Any], step: int, last_good: Path | None) -> None:
    """Stop a run whose losses at ``step`` are NaN, infinite or above :data:`EXPLODED_LOSS`."""
    device = next((v.device for v in losses.values() if isinstance(v, torch.Tensor)), None)
    values = [torch.as_tensor(v, dtype=torch.float32, device=device).reshape(()) for v in losses.values()]
    if bool((torch.stack(values).abs() <= EXPLODED_LOSS).all()):  # one check (one device sync) per step
        return
    for name, value in losses.items():
        number = float(value)
        if not math.isfinite(number) or abs(number) > EXPLODED_LOSS:
            kept = f"the last good checkpoint ({last_good}) is kept" if last_good else "nothing was saved"
            what = "became" if not math.isfinite(number) else "exploded to"
            raise TrainingDiverged(
                f"training diverged: loss {name} {what} {number:.3g} at step {step}; {kept}. "
                "Try a lower learning rate (--lr) or smaller loss weights."
            )


class Run:
    """An opened run folder (or none: ``folder is None`` keeps everything in memory)."""

    def __init__(self, folder: Path | None, lock: Path | None = None, created: Path | None = None) -> None:
        self.folder = folder
        self.lock = lock
        self.created = created  # the topmost folder opening this run created: removed again if left empty
        self.saved_step: int | None = None

    @property
    def checkpoint(self) -> Path | None:
        return None if self.folder is None else self.folder / CHECKPOINT_NAME

    def check_losses(self, losses: dict[str, Any], step: int) -> None:
        """:func:`check_losses` with this run's last good checkpoint."""
        check_losses(losses, step, self.checkpoint if self.saved_step is not None else None)

    def save(self, payload: dict[str, Any], after: Callable[[], None] | None = None) -> None:
        """Save ``payload`` atomically, after checking every tensor in it is finite; then call ``after``
        (e.g. writing the history). Non-finite state raises :class:`TrainingDiverged` and writes nothing."""
        step = payload.get("step")
        bad = non_finite_tensor(payload)
        if bad is not None:
            kept = (f"the last good checkpoint ({self.checkpoint}, step {self.saved_step}) is kept"
                    if self.saved_step is not None else "no checkpoint of this run was written")
            raise TrainingDiverged(
                f"training diverged: {bad} became NaN or inf by step {step}; it was not saved and {kept}. "
                "Try a lower learning rate (--lr) or smaller loss weights."
            )
        if self.checkpoint is not None:
            save_checkpoint(payload, self.checkpoint)
            self.saved_step = step
            if after is not None:
                after()

    def close(self) -> None:
        """Release the folder; a folder this run created and left empty (a run that failed before
        writing anything) is removed, so it does not stand in the way of the next attempt."""
        if self.lock is not None:
            release_lock(self.lock)
            atexit.unregister(self.close)
            self.lock = None
            if self.created is not None and self.folder is not None:
                remove_if_empty(self.folder, self.created)


def open_run(folder: str | os.PathLike | None, resume: bool = False, overwrite: bool = False) -> Run:
    """Prepare ``folder`` for a run before any work: probe it, lock it, clean it, apply the resume rules.

    Rules: a folder holding ``checkpoint.pt`` or ``history.csv`` is refused unless ``resume`` (continue
    it; the checkpoint must exist) or ``overwrite`` (its run files and pictures are removed now).
    """
    if resume and overwrite:
        raise RunFolderError("--resume and --overwrite contradict each other; pass one of them")
    if folder is None:
        if resume:
            raise RunFolderError("resume needs a run folder (--out)")
        return Run(None)
    folder = Path(folder)
    created = probe_folder(folder)
    try:
        lock = acquire_lock(folder)
    except BaseException:
        if created is not None:
            remove_if_empty(folder, created)
        raise
    try:
        remove_stale_temp_files(folder)
        existing = [folder / name for name in RUN_FILES if (folder / name).exists()]
        if resume and not (folder / CHECKPOINT_NAME).is_file():
            raise RunFolderError(f"--resume: no checkpoint at {folder / CHECKPOINT_NAME}; start without --resume")
        if existing and not resume:
            if not overwrite:
                raise RunFolderError(
                    f"{folder} already holds a run ({', '.join(p.name for p in existing)}); pass --resume to continue "
                    "it, --overwrite to replace it, or choose another --out"
                )
            for path in existing:
                path.unlink()
            for picture in (folder / "images").glob("*.png") if (folder / "images").is_dir() else ():
                picture.unlink()
    except BaseException:
        release_lock(lock)
        if created is not None:
            remove_if_empty(folder, created)
        raise
    run = Run(folder, lock, created)
    atexit.register(run.close)  # released even when setup fails before the loop's own cleanup
    return run


class DeferredInterrupt:
    """While installed, Ctrl-C (SIGINT) and SIGTERM only set :attr:`requested` (and :attr:`signal_name`);
    the loop checks it between steps, saves, and stops. A second signal interrupts at once
    (``KeyboardInterrupt``); should that land in a finaliser, where Python would print "Exception
    ignored ... KeyboardInterrupt" and drop it, it is dropped quietly: the first signal already stops
    the loop after the step in progress. Outside the main thread it does nothing."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""
        self._previous: dict[int, Any] = {}
        self._hook: Any = None

    def _handler(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signal_name = signal.Signals(signum).name

    def _unraisable(self, unraisable) -> None:
        if not (self.requested and issubclass(unraisable.exc_type, KeyboardInterrupt)):
            self._hook(unraisable)

    def install(self) -> "DeferredInterrupt":
        try:
            for number in self.SIGNALS:
                self._previous[number] = signal.signal(number, self._handler)
        except ValueError:  # not the main thread
            self._previous = {}
            return self
        self._hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def restore(self) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        self._previous = {}
        if self._hook is not None:
            if sys.unraisablehook == self._unraisable:
                sys.unraisablehook = self._hook
            self._hook = None


def interrupted(run: Run, step: int, by: str = "") -> Interrupted:
    """The exception a loop raises after saving on Ctrl-C or SIGTERM (``by``: the signal's name, if known)."""
    where = f"step {step} was saved to {run.checkpoint}; continue with --resume" if run.checkpoint else "nothing was saved"
    return Interrupted(f"interrupted{f' ({by})' if by else ''}: {where}")
