"""Devices: which one to use, where a model lives, and bringing results back to the CPU.

The bottom floor of the package (it imports only torch): every module that
runs a model may use it. The rule the package keeps: every public function
that takes a model accepts frames on any device, runs on the model's device
(:func:`device_of`) and returns tensors on the CPU (:func:`to_cpu`), so a
notebook can plot them.
"""
from __future__ import annotations

import os

import torch

DEVICE_ENV = "DRNET_DEVICE"
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


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given (checked by :func:`check_device`), else ``$DRNET_DEVICE``, else CUDA, then Apple MPS,
    then CPU."""
    if isinstance(device, torch.device):
        return device
    if not device or device == "auto":
        device = os.environ.get(DEVICE_ENV, "").strip() or None
    if device and device != "auto":
        return check_device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_of(module: torch.nn.Module) -> torch.device:
    """The device of a model's parameters (the CPU for a model without any)."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


def to_cpu(x: torch.Tensor) -> torch.Tensor:
    """``x`` on the CPU, where numpy and matplotlib can use it.

    A tensor on the ``meta`` device (shapes only: what the tests use to catch
    device mixing without a GPU) has no values to copy; it becomes a CPU
    tensor of zeros of the same shape and dtype.
    """
    if x.device.type == "meta":
        return torch.zeros(x.shape, dtype=x.dtype)
    return x.cpu()
