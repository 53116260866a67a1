"""How fast does drnet_lite make Moving MNIST training batches?

Three ways to deliver the same batches (B clips of T grey S x S float32 frames,
with K bouncing 28 px MNIST digits), in clips per second:

* drnet_lite: ``MovingMNIST.sample(B, generator=stream)``, the vectorised
  generator (draws, bounce positions and rendering for a whole batch at once).
* numpy loop: the usual hand-written generator: one clip at a time, one digit
  at a time, a slice copy per frame into the digit's own canvas, ``np.maximum``
  to composite the digits, then ``torch.from_numpy`` of a stacked batch.
* write bound: a fresh ``torch.empty`` batch tensor whose every element is
  written once (``fill_``). Any generator must at least allocate and write its
  output, so this is an upper bound on the rate of any of them.

Run: ``python benchmarks/bench_data.py`` (MNIST from ``$DRNET_DATA`` or the user cache).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from drnet_lite.data.mnist import load_mnist
from drnet_lite.data.moving_mnist import MovingMNIST, MovingMNISTConfig

DIGIT_SIZE = 28


def numpy_clip(digits: np.ndarray, start: np.ndarray, velocity: np.ndarray, seq_len: int, image_size: int) -> np.ndarray:
    """One grey clip (T, 1, S, S) float32, drawn digit by digit and frame by frame.

    ``digits`` (K, d, d) float32, ``start`` and ``velocity`` (K, 2) ints.
    """
    size = digits.shape[-1]
    limit = image_size - size
    clip = np.zeros((seq_len, 1, image_size, image_size), dtype=np.float32)
    for digit, (y, x), (vy, vx) in zip(digits, start.tolist(), velocity.tolist()):
        layer = np.zeros_like(clip)
        for t in range(seq_len):
            layer[t, 0, y:y + size, x:x + size] = digit
            y, x = y + vy, x + vx
            if y < 0:
                y, vy = -y, -vy
            if y > limit:
                y, vy = 2 * limit - y, -vy
            if x < 0:
                x, vx = -x, -vx
            if x > limit:
                x, vx = 2 * limit - x, -vx
        np.maximum(clip, layer, out=clip)
    return clip


def numpy_batches(digits: np.ndarray, config: MovingMNISTConfig, batch_size: int, seed: int):
    """Endless batches from :func:`numpy_clip` with numpy's random draws."""
    rng = np.random.default_rng(seed)
    low, high = config.speed
    k = config.num_digits
    while True:
        clips = []
        for _ in range(batch_size):
            index = rng.integers(len(digits), size=k)
            start = rng.integers(config.max_position + 1, size=(k, 2))
            velocity = rng.integers(low, high + 1, size=(k, 2)) * rng.choice([-1, 1], size=(k, 2))
            clips.append(numpy_clip(digits[index], start, velocity, config.seq_len, config.image_size))
        yield torch.from_numpy(np.stack(clips))


def drnet_lite_batches(generator: MovingMNIST, batch_size: int, seed: int):
    stream = torch.Generator().manual_seed(seed)
    while True:
        yield generator.sample(batch_size, generator=stream).frames


def write_bound_batches(shape: tuple[int, ...]):
    while True:
        yield torch.empty(shape, dtype=torch.float32).fill_(0.5)


def clips_per_second(batches, batch_size: int, min_batches: int, seconds: float, warmup: int = 2) -> float:
    for _ in range(warmup):
        next(batches)
    count, start = 0, time.perf_counter()
    while count < min_batches or time.perf_counter() - start < seconds:
        next(batches)
        count += 1
    return count * batch_size / (time.perf_counter() - start)


def check_same_frames(generator: MovingMNIST, digits: np.ndarray) -> None:
    """The numpy loop draws exactly what drnet_lite draws, given the same random draws."""
    cfg = generator.config
    if cfg.speed[1] > cfg.max_position:  # the step-by-step bounce needs |v| <= L
        return
    clips = generator.sample(4, seed=0)
    for b in range(4):
        index = clips.digit_index[b].numpy()
        mine = numpy_clip(digits[index], clips.positions[b, 0].numpy(), clips.velocity[b].numpy(), cfg.seq_len, cfg.image_size)
        if not np.array_equal(mine, clips.frames[b].numpy()):
            raise AssertionError("the numpy loop and drnet_lite disagree: the comparison would be unfair")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=5, help="time at least this many batches per method and round")
    parser.add_argument("--seconds", type=float, default=3.0, help="and at least this long per method in all")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--digits", type=int, default=2)
    parser.add_argument("--seq-len", type=int, default=20)
    parser.add_argument("--root", default=None, help="MNIST data root (default: $DRNET_DATA, then the cache)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds per method; the best is shown")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    config = MovingMNISTConfig(
        image_size=args.image_size, num_digits=args.digits, digit_size=DIGIT_SIZE,
        seq_len=args.seq_len, channels="grey", split="train",
    )
    generator = MovingMNIST(config, root=args.root)
    digits = load_mnist("train", root=args.root).images.astype(np.float32) / 255
    check_same_frames(generator, digits)
    shape = (args.batch_size, config.seq_len, 1, config.image_size, config.image_size)

    if args.threads:
        torch.set_num_threads(args.threads)
    methods = {
        "drnet_lite MovingMNIST.sample": drnet_lite_batches(generator, args.batch_size, args.seed),
        "numpy loop, per clip and digit": numpy_batches(digits, config, args.batch_size, args.seed),
        "write bound (empty + fill_)": write_bound_batches(shape),
    }
    load_before = os.getloadavg()[0]
    rates = dict.fromkeys(methods, 0.0)
    for _ in range(args.rounds):  # interleaved rounds, best kept: other load on the machine only slows things down
        for name, batches in methods.items():
            rate = clips_per_second(batches, args.batch_size, args.batches, args.seconds / args.rounds)
            rates[name] = max(rates[name], rate)
    bound = rates["write bound (empty + fill_)"]
    megabytes = np.prod(shape) * 4 / 2**20
    print(f"Moving MNIST batches of {shape} float32 ({megabytes:.1f} MiB), {args.digits} grey {DIGIT_SIZE} px digits, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    print(f"best of {args.rounds} rounds of >= {args.batches} batches and {args.seconds / args.rounds:.1f} s each; "
          f"1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    if max(load_before, os.getloadavg()[0]) > 0.5:
        print("WARNING: other processes were using the CPUs; multi-threaded rates suffer most. Rerun on an idle machine.")
    print(f"{'method':<34}{'clips/s':>12}{'x write bound':>16}")
    for name, rate in rates.items():
        print(f"{name:<34}{rate:>12,.0f}{rate / bound:>16.3f}")
    print(f"drnet_lite is {rates['drnet_lite MovingMNIST.sample'] / rates['numpy loop, per clip and digit']:.1f}x "
          "the numpy loop")


if __name__ == "__main__":
    main()
