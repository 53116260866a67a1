"""Training throughput of DRNet, data generation included.

Prints samples/s (clips per second; each clip gives the four frames of one
step) for the paper architecture (64x64, width 64, batch 100) and for the
mnist-lite preset, on the CPU and on CUDA when present, with and without
channels_last. Run: ``python benchmarks/bench_train.py [--steps 10]``.
"""
from __future__ import annotations

import argparse
import time

import torch

from drnet_lite.data import MovingMNIST
from drnet_lite.train import Optimizers, build_model, preset, sample_times, train_step


def bench(name: str, device: str, steps: int, channels_last: bool = False, amp: bool = False) -> float:
    config = preset(name, device=device)
    model = build_model(config, device)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    optimizers = Optimizers.create(model, config)
    data = MovingMNIST(config.data, device=device)
    rng = torch.Generator().manual_seed(0)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if amp and device == "cuda" else None

    def one_step() -> None:
        times = sample_times(config.batch_size, config.max_step, rng)
        frames = data.sample(config.batch_size, generator=rng, times=times).frames
        if channels_last:
            b, f = frames.shape[:2]
            frames = frames.flatten(0, 1).contiguous(memory_format=fmt).unflatten(0, (b, f))
        train_step(model, optimizers, frames, config, shift=1, autocast=autocast)

    for _ in range(3):
        one_step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        one_step()
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    return steps * config.batch_size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per configuration")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"{'preset':<12} {'device':<6} {'layout':<14} {'amp':<4} {'samples/s':>10} {'steps/s':>8}")
    for device in devices:
        for name in ("mnist-lite", "mnist-paper"):
            batch = preset(name).batch_size
            for channels_last in (False, True):
                for amp in ((False, True) if device == "cuda" else (False,)):
                    rate = bench(name, device, args.steps, channels_last, amp)
                    layout = "channels_last" if channels_last else "contiguous"
                    print(f"{name:<12} {device:<6} {layout:<14} {str(amp):<4} {rate:>10.1f} {rate / batch:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
