"""What the notebooks share: one setup call, the three lengths, the device rule, quiet checks.

Every notebook starts with::

    from drnet_lite.course import setup
    course = setup()                 # install check, MNIST, device, mode, seeds
    device = course.device
    STEPS = course.pick(quick=40, lab=500, full=3000)

**Lengths.** ``quick`` (CI and ``make test``: seconds), ``lab`` (a few minutes
on a laptop CPU, for a lab session) and ``full`` (the notebook's experiment as
its text describes it, at most about 5 minutes on 2 CPU cores, or a switch to
the shipped weights). Chosen by ``setup(mode=...)``, else ``$DRNET_MODE``,
else ``quick`` when ``$DRNET_QUICK`` is set, else ``full``.

**Devices.** ``setup`` picks ``$DRNET_DEVICE`` if set, else CUDA, then Apple
MPS, then the CPU. Every public function of the package that takes a model
accepts frames on any device, runs on the model's device and returns tensors
on the CPU (:func:`~drnet_lite.device.device_of`, :func:`~drnet_lite.device.to_cpu`), so a notebook can plot them.

**Checks.** :func:`expect` is for outcomes a student's experiment may change
(a loss that should fall, a probe that should beat chance): it prints a note
for a student and raises only in strict mode (quick mode or ``$CI``), so CI
still fails when an outcome breaks.
"""
from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch

from .device import DEVICE_CHOICES, DEVICE_ENV, check_device, device_of, pick_device, to_cpu  # noqa: F401  (the notebooks' names)

QUICK_ENV = "DRNET_QUICK"
MODE_ENV = "DRNET_MODE"
STRICT_ENV = "DRNET_STRICT"
MODES = ("quick", "lab", "full")

#: The repository every notebook's Colab cell clones: change it here, then run
#: ``python tools/install_cell.py`` to rewrite the notebooks' install cells.
REPO_URL = "https://github.com/drnet-lite/drnet_lite"
#: Where the Colab cell puts the clone.
COLAB_CLONE = "/content/drnet_lite"

T = TypeVar("T")
_mode_override: str | None = None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def mode() -> str:
    """The length in force: the last :func:`setup`'s, else ``$DRNET_MODE``, else quick if ``$DRNET_QUICK``, else full."""
    if _mode_override is not None:
        return _mode_override
    env = os.environ.get(MODE_ENV, "").strip().lower()
    if env:
        if env not in MODES:
            raise ValueError(f"{MODE_ENV}={env!r}: expected one of {', '.join(MODES)}")
        return env
    return "quick" if _truthy(os.environ.get(QUICK_ENV)) else "full"


def quick_mode() -> bool:
    """True in quick mode (``DRNET_QUICK=1``, ``DRNET_MODE=quick`` or ``setup(mode="quick")``)."""
    return mode() == "quick"


def quick(full, fast):
    """``fast`` in quick mode, else ``full``: ``steps = quick(3000, 20)``."""
    return fast if quick_mode() else full


def by_mode(quick: T, lab: T, full: T) -> T:
    """The value for the length in force: ``by_mode(quick=40, lab=500, full=3000)``."""
    return {"quick": quick, "lab": lab, "full": full}[mode()]


def strict() -> bool:
    """Checks raise (instead of printing a note) in quick mode, under ``$CI`` or ``$DRNET_STRICT``."""
    return quick_mode() or _truthy(os.environ.get("CI")) or _truthy(os.environ.get(STRICT_ENV))


def expect(condition: Any, message: str = "the check at the end of this cell to hold") -> None:
    """A quiet check of an outcome: a note for a student, an ``AssertionError`` in strict mode.

    ``expect(final_cheat < final_honest, "the cheating run reaches the lower loss")``.
    """
    if bool(condition):
        return
    from .exercises._common import Unwritten

    if isinstance(condition, Unwritten):  # a checker given the exercise's stub: said so, nothing failed
        return
    if strict():
        raise AssertionError(f"expected: {message}")
    print(f"Note: expected {message}, but not this time. If you changed the settings, that may be "
          "your experiment's result; otherwise re-read the cells above.")


def on_colab() -> bool:
    return "google.colab" in sys.modules


def colab_install_cell() -> str:
    """The first code cell of every notebook (``tools/install_cell.py`` writes it; a test compares)."""
    return (
        "# Colab: fetch the course (code and shipped weights) and install it. Elsewhere: only checks the install.\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    ![ -d {COLAB_CLONE} ] || git clone -q --depth 1 {REPO_URL} {COLAB_CLONE}\n"
        f"    %pip install -q -e {COLAB_CLONE}\n"
        f"    sys.path.insert(0, \"{COLAB_CLONE}\")\n"
        "try:\n"
        "    import drnet_lite\n"
        "except ImportError:\n"
        "    raise SystemExit(\"drnet_lite is not installed: run `pip install -e .` in the repository, then restart the kernel\")"
    )


@dataclass
class Course:
    """What :func:`setup` found and chose; notebooks read their settings from it."""

    mode: str
    device: torch.device
    data_root: Path | None
    seed: int
    weights: dict[str, Path] = field(default_factory=dict)

    def pick(self, quick: T, lab: T, full: T) -> T:
        """The value for this notebook's length."""
        return {"quick": quick, "lab": lab, "full": full}[self.mode]

    @property
    def quick(self) -> bool:
        return self.mode == "quick"


THREADS_ENV = "DRNET_THREADS"


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the OS says, else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def pick_threads(threads: int | None = None, mode: str = "full") -> tuple[int, str]:
    """torch's CPU threads for a notebook, and why, in words.

    ``threads`` if given, else ``$DRNET_THREADS``; else torch's own choice where ``$OMP_NUM_THREADS``
    is set; else 1 in quick mode or on a machine with 2 usable cores or fewer (Colab's CPU, a small
    laptop, a shared lab machine): the course's models are small, and measured on a loaded 2-core
    machine two threads ran up to 10 times slower than one; else torch's default.
    """
    if threads is None and os.environ.get(THREADS_ENV, "").strip():
        value = os.environ[THREADS_ENV].strip()
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{THREADS_ENV}={value!r}: expected a whole number of threads >= 1")
        threads = int(value)
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        return threads, "as asked"
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return torch.get_num_threads(), "from $OMP_NUM_THREADS"
    cores = usable_cores()
    if mode == "quick":
        return 1, "quick mode: tiny models"
    if cores <= 2:
        return 1, (f"{cores} CPU core{'s' if cores > 1 else ''}: one thread is as fast for these small models and "
                   f"steadier on a shared machine; setup(threads=N) or ${THREADS_ENV} changes it")
    return torch.get_num_threads(), f"torch's default on {cores} cores"


def setup(mode: str | None = None, device: str | torch.device | None = None, seed: int = 0, data: bool = True,
          weights: tuple[str, ...] | list[str] = (), verbose: bool = True, threads: int | None = None) -> Course:
    """Everything a notebook needs before its first cell of content.

    1. checks the install (torch version; the shipped ``weights`` named, e.g.
       ``("mnist-lite.pt",)``, are found in the repository's ``assets/``);
    2. makes sure MNIST is there, downloading it (md5-checked) if it is
       missing, from ``$DRNET_MNIST_MIRROR`` if set (``data=False`` skips this);
    3. chooses the device (argument, ``$DRNET_DEVICE``, CUDA, MPS, CPU);
    4. sets the length (argument, ``$DRNET_MODE``, ``$DRNET_QUICK``, full);
    5. seeds Python, numpy and torch;
    6. picks torch's CPU threads (:func:`pick_threads`: one on a machine of 2 cores or fewer) and says so.

    Raises:
        ValueError: an unknown mode. RuntimeError: a device that is not there.
        FileNotFoundError: a shipped weight file is missing (the message says how to get it).
    """
    global _mode_override
    from . import __version__
    from .assets import asset_path
    from .data.mnist import download_mnist, find_raw_folder

    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    major, minor = (int(p) for p in torch.__version__.split(".")[:2])
    if (major, minor) < (2, 2):
        raise RuntimeError(f"drnet_lite needs torch >= 2.2, this is torch {torch.__version__}: upgrade it first")
    paths = {name: asset_path(name) for name in weights}
    chosen = mode or globals()["mode"]()
    _mode_override = chosen
    where = pick_device(device)
    check_device(str(where))
    root = None
    if data:
        root = find_raw_folder()
        if root is None:
            root = download_mnist()
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except Exception:
        pass
    count, why = pick_threads(threads, chosen)
    torch.set_num_threads(count)
    course = Course(mode=chosen, device=where, data_root=root, seed=seed, weights=paths)
    if verbose:
        parts = [f"drnet_lite {__version__}", f"torch {torch.__version__}", f"device {where}", f"mode {chosen}",
                 f"seed {seed}"]
        if root is not None:
            parts.append(f"MNIST in {root}")
        print(" · ".join(parts))
        print(f"torch CPU threads: {count} ({why})")
    return course
