"""Mixed precision (opt-in) and the update of one optimiser: ``zero_grad``, ``backward``, ``step``.

Which precision for ``amp=True``:

* CUDA with bf16 support (``torch.cuda.is_bf16_supported()``: Ampere and newer):
  bfloat16 autocast. bf16 has float32's exponent range, so no loss scaling;
* CUDA without it (a T4, Colab's default GPU): float16 autocast with a
  :class:`torch.amp.GradScaler`. The loss is multiplied by a scale ``s`` before
  ``backward`` so small fp16 gradients do not underflow; the gradients are
  divided by ``s`` before the step, a step whose gradients hold inf/NaN is
  skipped, and ``s`` halves after such a step and doubles after 2,000 good ones;
* a CPU with native bfloat16 instructions (AVX512-BF16 or AMX, what oneDNN reports
  as ``torch.ops.mkldnn._is_mkldnn_bf16_supported()``): bfloat16 autocast. Convolutions
  and matmuls run in bf16 (measured 1.6x faster for a ``mnist-lite`` step on one core of
  this project's machine, benchmarks/bench_train.py); BatchNorm, the losses and the weights
  stay float32. bf16 keeps 8 bits of mantissa, so a run is close to, not equal to, its
  float32 twin: an opt-in, not a rounding detail;
* anything else, or ``amp=False``: float32, no autocast (the scaler is off and
  passes everything through unchanged).

:meth:`Precision.update` is where several processes meet too: the gradients
are averaged over them after ``backward`` and *before* the scaler looks for
inf/NaN, so every process skips (or takes) the same steps.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable

import torch


def cpu_bf16_supported() -> bool:
    """Whether this CPU computes bfloat16 natively (oneDNN's AVX512-BF16 / AMX paths); without it
    bf16 convolutions are emulated and slower than float32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # a build without oneDNN
        return False


def choose_dtype(device: torch.device, amp: bool, bf16_supported: bool | None = None) -> torch.dtype:
    """The compute dtype for ``amp`` on ``device`` (``bf16_supported`` defaults to asking CUDA or the CPU)."""
    if not amp or device.type not in ("cuda", "cpu"):
        return torch.float32
    if device.type == "cpu":
        supported = cpu_bf16_supported() if bf16_supported is None else bf16_supported
        return torch.bfloat16 if supported else torch.float32  # no fp16 on the CPU: it has no fast kernels there
    if bf16_supported is None:
        bf16_supported = torch.cuda.is_bf16_supported()
    return torch.bfloat16 if bf16_supported else torch.float16


@dataclass
class Precision:
    """Autocast and gradient scaling for one device, and :meth:`update`.

    Args:
        device: the device the model runs on.
        dtype: float32 (off), bfloat16 or float16 (float16 turns the gradient scaler on).
        average_gradients: called on an optimiser between ``backward`` and ``step``
            (:meth:`drnet_lite.distributed.Distributed.average_gradients`).
    """

    device: torch.device
    dtype: torch.dtype = torch.float32
    average_gradients: Callable[[torch.optim.Optimizer], None] | None = None
    scaler: torch.amp.GradScaler = field(init=False)

    def __post_init__(self) -> None:
        if self.dtype not in (torch.float32, torch.bfloat16, torch.float16):
            raise ValueError(f"mixed precision dtype must be float32, bfloat16 or float16, got {self.dtype}")
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)

    @classmethod
    def create(cls, device: torch.device, amp: bool, **kwargs: Any) -> "Precision":
        return cls(device, choose_dtype(device, amp), **kwargs)

    @property
    def enabled(self) -> bool:
        return self.dtype != torch.float32

    def autocast(self) -> contextlib.AbstractContextManager:
        """The autocast context of the forward passes (a no-op context in float32)."""
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def update(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """One optimiser update on ``loss``: zero the gradients, backward (scaled), average over the
        processes, step (unscaled; skipped by the scaler if a gradient is inf/NaN)."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.average_gradients is not None:
            self.average_gradients(optimizer)
        self.scaler.step(optimizer)

    def end_step(self) -> None:
        """After all the updates of a training step: let the scaler adapt its scale."""
        self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        return self.scaler.state_dict() if self.scaler.is_enabled() else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state and self.scaler.is_enabled():
            self.scaler.load_state_dict(state)


def plain_update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """``zero_grad``, ``backward``, ``step``: the update of one process in float32."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
