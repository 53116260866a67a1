"""Small helpers the notebooks share: quick mode, device choice, Colab detection.

Quick mode (environment variable ``DRNET_QUICK=1``) shrinks every training run
in the notebooks so the whole series runs in minutes on 2 CPU cores; CI and
``make test`` set it.
"""
from __future__ import annotations

import os
import sys

import torch

QUICK_ENV = "DRNET_QUICK"


def quick_mode() -> bool:
    """True when ``DRNET_QUICK`` is set to anything but ``""``, ``"0"`` or ``"false"``."""
    return os.environ.get(QUICK_ENV, "").strip().lower() not in ("", "0", "false", "no")


def quick(full, fast):
    """``fast`` in quick mode, else ``full``: ``steps = quick(3000, 20)``."""
    return fast if quick_mode() else full


def on_colab() -> bool:
    return "google.colab" in sys.modules


DEVICE_CHOICES = "auto, cpu, cuda, cuda:N or mps"


def check_device(device: str) -> torch.device:
    """``torch.device(device)`` if this machine has it; else ``ValueError`` naming the fix."""
    try:
        chosen = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"unknown device {device!r}; choose {DEVICE_CHOICES}") from None
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r}: CUDA is not available on this machine; use --device cpu (or auto)")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif chosen.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device {device!r}: Apple MPS is not available on this machine; use --device cpu (or auto)")
    elif chosen.type != "cpu":
        raise ValueError(f"device {device!r} is not supported; choose {DEVICE_CHOICES}")
    return chosen


def pick_device(device: str | None = None) -> torch.device:
    """``device`` if given (checked by :func:`check_device`), else CUDA, then Apple MPS, then CPU."""
    if device and device != "auto":
        return check_device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
