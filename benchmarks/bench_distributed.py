"""Samples/s of DRNet training (lite preset) in one process and in several (torchrun, gloo on the CPU).

    python benchmarks/bench_distributed.py            # runs the three settings below and prints a table
    torchrun --nproc_per_node=2 benchmarks/bench_distributed.py --worker   # one setting by hand

Settings: 1 process with 2 threads, 1 process with 1 thread, 2 processes with 1 thread each
(the same global batch of 64 clips). Throughput is taken from the training clock of the
steps after the first log (start-up and the first steps excluded).
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(steps: int, warmup: int) -> None:
    import torch

    from drnet_lite.train import fit
    from drnet_lite.presets import preset

    config = preset("mnist-lite", steps=steps, log_every=warmup, device="cpu")
    result = fit(config, None, progress=False)
    if result.history and int(os.environ.get("RANK", "0")) == 0:
        first, last = result.history[0], result.history[-1]
        rate = (last["step"] - first["step"]) * config.batch_size / (last["time"] - first["time"])
        print(f"RESULT processes={os.environ.get('WORLD_SIZE', '1')} threads={torch.get_num_threads()} "
              f"samples_per_s={rate:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    if args.worker:
        worker(args.steps, args.warmup)
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    me = [str(Path(__file__).resolve()), "--worker", "--steps", str(args.steps), "--warmup", str(args.warmup)]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    runs = [
        ("1 process, 2 threads", [sys.executable, *me], {"OMP_NUM_THREADS": "2"}),
        ("1 process, 1 thread", [sys.executable, *me], {"OMP_NUM_THREADS": "1"}),
        ("2 processes, 1 thread each", [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                                        "--master_addr=127.0.0.1", f"--master_port={port}", *me], {"OMP_NUM_THREADS": "1"}),
    ]
    for name, cmd, extra in runs:
        done = subprocess.run(cmd, env={**env, **extra}, capture_output=True, text=True)
        line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT")), None)
        print(f"{name:28s} {line.split('samples_per_s=')[1] + ' samples/s' if line else 'failed: ' + done.stderr[-500:]}")


if __name__ == "__main__":
    main()
