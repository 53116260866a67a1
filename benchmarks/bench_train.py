"""Training throughput of DRNet against this machine's own limit, data generation included.

For every step (preset) measured, in one run:

* steps/s of the whole step (drawing the batch, one C update, one E_c/E_p/D
  update), wall clock, and the CPU seconds one step costs (process time; on
  a shared machine that is the figure that does not depend on the others'
  load, and with one thread ``1 / cpu_s`` is the idle one-core rate);
* FLOPs per step, forward and backward of both updates, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, transposed
  convolutions and matmuls; element-wise work, BatchNorm and Adam count 0);
* achieved FLOP/s = FLOPs per step x steps/s, as a share of the float32
  matmul peak measured in the same run (an N x N GEMM, 2 N^3 FLOPs); and the
  same per CPU second (FLOPs per step / CPU s per step against the GEMM's
  FLOPs per CPU second), the share that a loaded machine does not distort.

``--profile`` adds a ``torch.profiler`` table of one preset's steps, grouped
into data, forward+backward and optimizer, with the top operators.

``--compare`` times the step as it was before :mod:`drnet_lite.layers` ("before":
the plain ``torch.nn`` layers), the step as ``fit`` runs it now ("now", float32,
the same result to float rounding) and, where the CPU has native bfloat16, the
opt-in ``amp`` step ("now + amp", bf16 autocast: close to, not equal to, float32)
side by side in one run. The variants take turns, a block of steps each, round
after round (A B C A B C ...), so load that drifts on a shared machine falls on
all of them alike; each variant's figure is the median over the rounds, and the
ratio is against "before".

Run: ``DRNET_DATA=... python benchmarks/bench_train.py [--steps 20] [--threads 1] [--profile mnist-lite]``
or ``... --threads 1 --compare mnist-lite mnist2-lite [--rounds 8 --steps 10]``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from drnet_lite.data import MovingMNIST
from drnet_lite.layers import use_plain_layers
from drnet_lite.precision import cpu_bf16_supported
from drnet_lite.presets import PRESETS, preset
from drnet_lite.train import Optimizers, build_model, sample_times, train_step


def matmul_peak(size: int = 2048, repeats: int = 5) -> tuple[float, float]:
    """Float32 FLOP/s of a ``size x size`` GEMM (best of ``repeats``, after a warm-up): per wall
    second and per CPU second of this process (on a shared machine the second is the one that
    does not depend on the others' load)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    wall = cpu = float("inf")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        torch.mm(a, b)
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return 2 * size**3 / wall, 2 * size**3 / cpu


class Step:
    """One training step of a preset, as ``fit`` runs it (channels_last, foreach Adam)."""

    def __init__(self, name: str, device: str = "cpu", variant: str = "now") -> None:
        """``variant``: "now" (as ``fit`` runs it), "before" (the plain layers) or "now + amp" (bf16 autocast)."""
        self.config = preset(name, device=device)
        self.model = build_model(self.config, device).to(memory_format=torch.channels_last)
        if variant == "before":
            use_plain_layers(self.model)
        self.autocast = torch.autocast(device, dtype=torch.bfloat16) if variant == "now + amp" else None
        self.optimizers = Optimizers.create(self.model, self.config)
        self.data = MovingMNIST(self.config.data, device=device)
        self.rng = torch.Generator().manual_seed(0)

    def batch(self) -> torch.Tensor:
        times = sample_times(self.config.batch_size, self.config.max_step, self.rng)
        frames = self.data.sample(self.config.batch_size, generator=self.rng, times=times).frames
        b, f = frames.shape[:2]
        return frames.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, (b, f))

    def update(self, frames: torch.Tensor) -> None:
        train_step(self.model, self.optimizers, frames, self.config, shift=1, autocast=self.autocast)

    def __call__(self) -> None:
        self.update(self.batch())

    def flops(self) -> int:
        frames = self.batch()
        with FlopCounterMode(display=False) as counter:
            self.update(frames)
        return counter.get_total_flops()


def time_steps(step: Step, steps: int, warmup: int = 3) -> tuple[float, float]:
    """(steps/s wall, CPU seconds per step) over ``steps`` steps after ``warmup`` steps."""
    for _ in range(warmup):
        step()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - wall), (time.process_time() - cpu) / steps


def compare(name: str, steps: int, rounds: int) -> None:
    """The variants of one preset's step side by side, interleaved round by round (see the module docstring)."""
    variants = ["before", "now"] + (["now + amp"] if cpu_bf16_supported() else [])
    contenders = {v: Step(name, variant=v) for v in variants}
    for step in contenders.values():  # warm-up: first-call allocations and oneDNN's kernel choice
        for _ in range(3):
            step()
    rates: dict[str, list[float]] = {v: [] for v in variants}
    cpus: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(rounds):
        for v in variants:
            rate, cpu = time_steps(contenders[v], steps, warmup=0)
            rates[v].append(rate)
            cpus[v].append(cpu)
    base_rate, base_cpu = statistics.median(rates["before"]), statistics.median(cpus["before"])
    c = contenders["now"].config
    print(f"\n{name} (batch {c.batch_size}, width {c.model.width}, {c.model.image_size}x{c.model.image_size}): "
          f"{rounds} rounds x {steps} steps per variant, interleaved; medians over the rounds")
    print(f"  {'step':<10} {'steps/s':>8} {'x before':>9} {'cpu s/step':>10} {'x before':>9}  steps/s per round")
    for v in variants:
        rate, cpu = statistics.median(rates[v]), statistics.median(cpus[v])
        rounds_text = " ".join(f"{r:.2f}" for r in rates[v])
        print(f"  {v:<10} {rate:>8.2f} {rate / base_rate:>8.2f}x {cpu:>10.3f} {base_cpu / cpu:>8.2f}x  {rounds_text}",
              flush=True)


def profile(name: str, steps: int = 10) -> None:
    """Where one preset's step spends its time: data / forward+backward / optimizer, then the top operators."""
    from torch.profiler import ProfilerActivity, profile as torch_profile, record_function

    step = Step(name)
    for _ in range(3):
        step()
    original = {k: getattr(step.optimizers, k).step for k in ("autoencoder", "discriminator")}

    def labelled(fn):
        def run(*args, **kwargs):
            with record_function("## optimizer"):
                return fn(*args, **kwargs)
        return run

    for key, fn in original.items():
        getattr(step.optimizers, key).step = labelled(fn)
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            with record_function("## data"):
                frames = step.batch()
            with record_function("## train_step"):
                step.update(frames)
    events = prof.key_averages()
    total = sum(e.cpu_time_total for e in events if e.key == "## data") + sum(
        e.cpu_time_total for e in events if e.key == "## train_step")
    print(f"\nprofile of {name}, {steps} steps ({total / steps / 1e3:.1f} ms per step in the profiler):")
    for key in ("## data", "## train_step", "## optimizer"):
        t = sum(e.cpu_time_total for e in events if e.key == key)
        print(f"  {key[3:]:<12} {t / steps / 1e3:8.2f} ms/step  {t / total:6.1%}")
    ops = [e for e in events if not e.key.startswith("##")]
    print("  top operators by self CPU time:")
    for e in sorted(ops, key=lambda e: e.self_cpu_time_total, reverse=True)[:15]:
        print(f"    {e.key:<40} {e.self_cpu_time_total / steps / 1e3:8.2f} ms/step  {e.count // steps:5d} calls/step")
    calls = sum(e.count for e in ops if e.key.startswith("aten::")) // steps
    print(f"  aten calls per step: {calls}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per preset (the paper step uses a fifth)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--presets", nargs="+", default=[n for n in ("mnist-lite", "mnist-lab", "mnist2-lite", "mnist-paper") if n in PRESETS])
    parser.add_argument("--profile", default=None, help="also profile this preset's step")
    parser.add_argument("--compare", nargs="+", default=None, metavar="PRESET",
                        help="only time the step before and now (and with amp) side by side for these presets")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds of --compare (--steps steps each)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.compare:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, load average "
              f"{os.getloadavg()[0]:.2f}, native bf16: {cpu_bf16_supported()}")
        for name in args.compare:
            compare(name, args.steps, args.rounds)
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        return
    peak, peak_cpu = matmul_peak()
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, {threads} CPU threads, load average {os.getloadavg()[0]:.2f}")
    print(f"float32 matmul peak (2048 x 2048 GEMM, best of 5): {peak / 1e9:.1f} GFLOP/s wall, "
          f"{peak_cpu / 1e9:.1f} GFLOP per CPU second")
    print("share of peak: achieved / peak, both per wall second (wall) and per CPU second (cpu)")
    print(f"{'preset':<12} {'batch':>5} {'width':>5} {'steps/s':>8} {'cpu s/step':>10} {'GFLOP/step':>10} "
          f"{'GFLOP/s':>8} {'wall':>6} {'cpu':>6}")
    for name in args.presets:
        step = Step(name)
        flops = step.flops()
        paper = name == "mnist-paper"  # ~25x the FLOPs of a lite step: fewer steps
        rate, cpu = time_steps(step, max(2, args.steps // 5) if paper else args.steps, warmup=1 if paper else 3)
        achieved = flops * rate
        c = step.config
        print(f"{name:<12} {c.batch_size:>5} {c.model.width:>5} {rate:>8.2f} {cpu:>10.3f} {flops / 1e9:>10.3f} "
              f"{achieved / 1e9:>8.2f} {achieved / peak:>6.1%} {flops / cpu / peak_cpu:>6.1%}", flush=True)
    again, again_cpu = matmul_peak()
    print(f"float32 matmul peak measured again: {again / 1e9:.1f} GFLOP/s wall, {again_cpu / 1e9:.1f} per CPU second, "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.profile:
        profile(args.profile)


if __name__ == "__main__":
    main()
