"""What does DRNet's input check (frames must be float in [0, 1]) cost a training step?

``DRNet._check_frames`` runs one ``torch.aminmax`` on every batch the encoders
read (skipped on CUDA, where it would wait for the GPU). This times one
training step of the mnist-lite preset (batch 64, 64x64, width 16) with the
check and with only the shape check, on the same frames, and prints both.

Run: ``OMP_NUM_THREADS=2 python benchmarks/bench_input_check.py``.
"""
from __future__ import annotations

import argparse
import time

import torch

from drnet_lite.models import DRNet
from drnet_lite.train import Optimizers, build_model, train_step
from drnet_lite.presets import preset


def shape_only(self: DRNet, x: torch.Tensor) -> None:
    c, s = self.config.channels, self.config.image_size
    if x.dim() != 4 or x.shape[1:] != (c, s, s):
        raise ValueError("shape")


def time_steps(model, optimizers, frames, config, steps: int) -> float:
    train_step(model, optimizers, frames, config, 1)  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        train_step(model, optimizers, frames, config, 1)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    config = preset("mnist-lite", device="cpu")
    model = build_model(config).to(memory_format=torch.channels_last)
    optimizers = Optimizers.create(model, config)
    frames = torch.rand(config.batch_size, 4, 1, 64, 64)
    frames = frames.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, frames.shape[:2])
    checked = DRNet._check_frames
    times = {}
    for name in ("with the range check", "shape check only", "with the range check (again)"):
        DRNet._check_frames = shape_only if name == "shape check only" else checked
        times[name] = time_steps(model, optimizers, frames, config, args.steps)
    DRNet._check_frames = checked
    x = frames[:, 2]
    start = time.perf_counter()
    for _ in range(200):
        torch.aminmax(x)
    check = (time.perf_counter() - start) / 200
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, mnist-lite step (batch {config.batch_size}):")
    for name, seconds in times.items():
        print(f"  {name:<30} {seconds * 1e3:8.1f} ms/step")
    print(f"  one aminmax on a (64, 1, 64, 64) batch: {check * 1e3:.3f} ms (3 per step)")


if __name__ == "__main__":
    main()
