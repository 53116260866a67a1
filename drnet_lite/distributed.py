"""Training on several processes (``torchrun --nproc_per_node=N``), with PyTorch's own ``torch.distributed``.

Launched by torchrun, every process reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT`` and joins one process group: NCCL when the
device is CUDA (process ``LOCAL_RANK`` uses GPU ``LOCAL_RANK``), gloo on the CPU.
Without those variables nothing changes: :func:`current` returns a world of one.

With ``N`` processes and a global batch of ``B`` clips (``config.batch_size``),
each process draws its own ``B / N`` clips from a generator seeded per rank,
and the step is the step of one process on the global batch of ``B`` clips:

* gradients are averaged over the processes before every optimiser step,
  the scene discriminator's update included:
  ``g = (1/N) sum_r g_r``, and each ``g_r`` is the gradient of the mean loss
  over the ``B/N`` clips of rank ``r``, so ``g`` is the gradient of the mean
  over all ``B``;
* BatchNorm normalises with the statistics of the global batch
  (:class:`SyncedBatchNorm`: the sums are all-reduced, differentiably);
* the shuffled pairs of the scene discriminator roll the *global* batch of
  pose vectors (:meth:`Distributed.shuffled_partner` gathers them), with one
  ``shift`` that every process draws from a generator they share.

Why an explicit all-reduce and not ``DistributedDataParallel``: a DRNet step
is two updates with two backward passes through different networks, called
through ``encode_content`` / ``encode_pose`` / ``decode`` rather than one
``forward``. DDP hooks ``forward`` and would need each of the four networks
wrapped on its own and its reducer told about unused parameters. Averaging
the gradients of exactly the parameters an optimiser is about to update, in
one flat all-reduce, is the same arithmetic, is easy to read, and is the same
code on gloo and NCCL. (What it gives up is DDP's overlap of communication
with the backward pass, which matters on many GPUs, not on a few.)

Only rank 0 writes checkpoints, logs and pictures; the checkpoint holds the
data generator of every rank, so a run resumes with the same number of
processes exactly where it stopped.
"""
from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch import nn

from .losses import shuffled_partner

#: Environment variables torchrun sets for every process.
ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


class DistributedError(RuntimeError):
    """Several processes cannot train together as asked (batch not divisible, resume with another N)."""


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank ``rank``'s data generator: ``seed`` itself on rank 0 (so one process trains
    exactly as before), distinct and far apart elsewhere (a run with seed ``s + 1`` reuses no rank's stream)."""
    return seed if rank == 0 else (seed + rank * 0x9E3779B97F4A7C15) % (2**63)


@dataclass
class Distributed:
    """Where this process stands among the processes of one training run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on the process that writes checkpoints, logs and pictures (rank 0)."""
        return self.rank == 0

    # -- set-up ------------------------------------------------------------------------------------
    def device(self, device: torch.device) -> torch.device:
        """This process's device: CUDA device ``LOCAL_RANK`` when ``device`` is CUDA, else ``device``."""
        if self.enabled and device.type == "cuda":
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        return device

    def local_batch(self, batch_size: int) -> int:
        """This process's share of a global batch of ``batch_size`` clips."""
        if batch_size % self.world_size:
            raise DistributedError(
                f"batch_size {batch_size} cannot be split evenly over {self.world_size} processes; "
                f"use a multiple of {self.world_size} (--batch-size) or another --nproc_per_node")
        if batch_size // self.world_size < 1:
            raise DistributedError(f"batch_size {batch_size} gives no clip to each of {self.world_size} processes")
        return batch_size // self.world_size

    def generators(self, seed: int) -> tuple[torch.Generator, torch.Generator]:
        """``(data, shared)``: this rank's data generator, and the generator all ranks share (the shift of
        the shuffled pairs). In a world of one they are the same generator, as before."""
        data = torch.Generator().manual_seed(rank_seed(seed, self.rank))
        if not self.enabled:
            return data, data
        return data, torch.Generator().manual_seed(seed + 1_000_003)

    def prepare(self, model: nn.Module) -> nn.Module:
        """BatchNorm layers synchronised over the processes, and every rank starting from rank 0's weights."""
        if not self.enabled:
            return model
        model = SyncedBatchNorm.convert(model)
        for tensor in list(model.parameters()) + list(model.buffers()):
            dist.broadcast(tensor.data, src=0)
        return model

    def release(self, model: nn.Module) -> nn.Module:
        """Undo :meth:`prepare`'s BatchNorm change (the model given back is an ordinary one)."""
        return SyncedBatchNorm.revert(model) if self.enabled else model

    # -- during a step -----------------------------------------------------------------------------
    def average_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        """Replace the gradients of the parameters ``optimizer`` updates by their mean over the processes
        (one flat all-reduce). Every rank has gradients for the same parameters: the graph does not
        depend on the data."""
        if not self.enabled:
            return
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def shuffled_partner(self, pose: torch.Tensor, shift: int) -> torch.Tensor:
        """This rank's rows of the *global* batch of ``pose`` rolled by ``shift``
        (:func:`drnet_lite.losses.shuffled_partner` of the gathered batch; ``pose`` is detached)."""
        if not self.enabled:
            return shuffled_partner(pose, shift)
        parts = [torch.empty_like(pose) for _ in range(self.world_size)]
        dist.all_gather(parts, pose.detach().contiguous())
        rolled = shuffled_partner(torch.cat(parts), shift)
        n = pose.shape[0]
        return rolled[self.rank * n:(self.rank + 1) * n]

    def mean(self, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The mean over the processes of scalar tensors (the losses of a step: equal batches, so this is
        the loss of the global batch); every rank then sees, logs and checks the same numbers."""
        if not self.enabled:
            return values
        keys = list(values)
        stacked = torch.stack([values[k].detach().float().reshape(()) for k in keys])
        dist.all_reduce(stacked)
        stacked /= self.world_size
        return dict(zip(keys, stacked.unbind()))

    def any(self, flag: bool) -> bool:
        """True on every rank if ``flag`` is true on any rank (a collective: call it on every rank).
        The loop stops on it after Ctrl-C, so all processes save and stop after the same step."""
        if not self.enabled:
            return bool(flag)
        device = torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    # -- checkpoints -------------------------------------------------------------------------------
    def rng_states(self, data_rng: torch.Generator, shared_rng: torch.Generator) -> dict[str, Any]:
        """What a checkpoint records of the generators (a collective: call it on every rank)."""
        if not self.enabled:
            return {}
        states: list[Any] = [None] * self.world_size
        dist.all_gather_object(states, data_rng.get_state())
        return {"world_size": self.world_size, "data_ranks": states, "shared": shared_rng.get_state()}

    def restore_rng(self, rng: dict[str, Any], data_rng: torch.Generator, shared_rng: torch.Generator) -> None:
        """Restore this rank's generators from a checkpoint's ``rng`` record; the run must resume with the
        number of processes that wrote it (otherwise the data streams cannot continue)."""
        saved = int(rng.get("world_size", 1))
        if saved != self.world_size:
            raise DistributedError(
                f"--resume: the checkpoint was written by {saved} process(es), this run has {self.world_size}; "
                f"resume with torchrun --nproc_per_node={saved}" if saved > 1 else
                f"--resume: the checkpoint was written by one process, this run has {self.world_size}; "
                "resume it without torchrun")
        if self.enabled:
            data_rng.set_state(rng["data_ranks"][self.rank])
            shared_rng.set_state(rng["shared"])
        else:
            data_rng.set_state(rng["data"])

    def on_main(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on rank 0 only (opening the run folder and its lock, for instance); if it raises, every
        rank raises, so no process waits for one that has stopped. Returns ``fn``'s result on rank 0, None elsewhere."""
        if not self.enabled:
            return fn()
        result, error = None, None
        if self.is_main:
            try:
                result = fn()
            except Exception as exc:  # reported on every rank below
                error = exc
        message = [f"{type(error).__name__}: {error}" if error is not None else None]
        dist.broadcast_object_list(message, src=0)
        if error is not None:
            raise error
        if message[0] is not None:
            raise DistributedError(f"rank 0 stopped: {message[0]}")
        return result


class SyncedBatchNorm(nn.BatchNorm2d):
    """BatchNorm over the batch of all processes: ``mean = sum_r sum x / n``, ``var = sum_r sum (x - mean)^2 / n``
    with the sums all-reduced by :func:`torch.distributed.nn.functional.all_reduce`, so gradients flow through
    the statistics as in one process. Works on gloo (CPU) and NCCL; with no process group it is BatchNorm.
    Its state dict is BatchNorm's (``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        dims = [0] + list(range(2, x.dim()))
        count = torch.tensor(float(x.numel() // x.shape[1]), device=x.device)
        dist.all_reduce(count)
        mean = all_reduce(x.sum(dims)) / count
        shape = [1, -1] + [1] * (x.dim() - 2)
        centred = x - mean.view(shape)
        var = all_reduce(centred.pow(2).sum(dims)) / count
        with torch.no_grad():
            self.num_batches_tracked += 1
            momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
            self.running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
            self.running_var.mul_(1 - momentum).add_(var.detach() * count / (count - 1), alpha=momentum)
        y = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y

    @classmethod
    def convert(cls, module: nn.Module) -> nn.Module:
        """Swap every ``BatchNorm2d`` of ``module`` for this class, keeping its parameters and buffers."""
        return _swap(module, nn.BatchNorm2d, cls)

    @staticmethod
    def revert(module: nn.Module) -> nn.Module:
        return _swap(module, SyncedBatchNorm, nn.BatchNorm2d)


def _swap(module: nn.Module, old: type, new: type) -> nn.Module:
    if isinstance(module, old) and type(module) is not new:
        module.__class__ = new  # same constructor arguments and state; only forward differs
        return module
    for child in module.children():
        _swap(child, old, new)
    return module


_CURRENT: Distributed | None = None


def launched() -> bool:
    """True when this process was started by torchrun with more than one process."""
    return all(k in os.environ for k in ENV) and int(os.environ["WORLD_SIZE"]) > 1


def current(device: torch.device | None = None) -> Distributed:
    """This process's place in the run, joining the process group on first use under torchrun
    (NCCL for a CUDA ``device``, else gloo). A world of one when not launched by torchrun."""
    global _CURRENT
    if dist.is_available() and dist.is_initialized():
        return Distributed(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    if not launched():
        return Distributed()
    if _CURRENT is None:
        local_rank = int(os.environ["LOCAL_RANK"])
        backend = "nccl" if device is not None and device.type == "cuda" else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend, init_method="env://")
        atexit.register(_shutdown)
        _CURRENT = Distributed(dist.get_rank(), dist.get_world_size(), local_rank)
    return _CURRENT


def _shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
