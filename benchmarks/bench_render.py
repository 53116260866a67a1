"""Turntable render speed: the sphere tracer, the cached source, and one turntable-lite training step.

Prints frames/s of
  * the tracer (G-buffers of new viewpoints) at 32, 64 and 128 px;
  * a training batch drawn from the source once its viewpoints are cached
    (64 clips x 4 frames at 64x64: a gather and a shading pass);
and the time of one turntable-lite training step (data drawing included), so the
two can be compared. Run: ``python benchmarks/bench_render.py [--views 64] [--device cuda]``.
"""
from __future__ import annotations

import argparse
import time

import torch

from drnet_lite.data.raytrace import trace
from drnet_lite.data.turntable import Turntable, TurntableConfig
from drnet_lite.train import Optimizers, build_model, sample_times, train_step
from drnet_lite.presets import preset


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class Clock:
    """Wall and CPU seconds of a block (on a shared machine the CPU seconds are the steadier figure)."""

    def __enter__(self) -> "Clock":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def bench_tracer(size: int, views: int, device: str) -> float:
    source = Turntable(TurntableConfig(image_size=size, split="all"), device=device)
    g = torch.Generator().manual_seed(0)
    obj = torch.randint(len(source.bank), (views,), generator=g)
    az, el = torch.rand(views, generator=g) * 360, torch.rand(views, generator=g) * 40
    shapes = source.shapes.index(obj.to(device))
    trace(source.shapes.index(obj[:4].to(device)), az[:4].to(device), el[:4].to(device), size)  # warm-up
    _sync(device)
    with Clock() as c:
        trace(shapes, az.to(device), el.to(device), size)
        _sync(device)
    return c


def bench_cached(size: int, clips: int, frames: int, device: str, repeats: int = 10) -> float:
    cfg = TurntableConfig(image_size=size, instances=2, azimuth_steps=18, elevations=(20.0,), seq_len=18)
    source = Turntable(cfg, device=device).warm()
    g = torch.Generator().manual_seed(0)
    source.sample(clips, generator=g, times=sample_times(clips, frames - 1, g)[:, :frames])
    _sync(device)
    with Clock() as c:
        for _ in range(repeats):
            times = torch.randint(cfg.seq_len, (clips, frames), generator=g)
            source.sample(clips, generator=g, times=times)
        _sync(device)
    c.wall, c.cpu = c.wall / repeats, c.cpu / repeats
    return c


def bench_step(device: str, steps: int = 5) -> float:
    config = preset("turntable-lite", device=device)
    source = Turntable(config.data, device=device)
    model = build_model(config, device).to(memory_format=torch.channels_last)
    optimizers = Optimizers.create(model, config)
    g = torch.Generator().manual_seed(0)
    # trace the viewpoints of a fixed handful of clips once, then time steps that reuse them
    fixed = source.draw(config.batch_size, g)

    def one() -> None:
        times = sample_times(config.batch_size, config.max_step, g)
        frames = source.clips(fixed, times).frames
        frames = frames.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, frames.shape[:2])
        train_step(model, optimizers, frames, config, shift=1)

    source.clips(fixed, torch.arange(config.data.seq_len).expand(config.batch_size, -1))
    one()
    _sync(device)
    with Clock() as c:
        for _ in range(steps):
            one()
        _sync(device)
    c.wall, c.cpu = c.wall / steps, c.cpu / steps
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=64, help="viewpoints to trace per size")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    print(f"device {args.device}, {torch.get_num_threads()} threads")
    for size in (32, 64, 128):
        views = max(4, args.views // (4 if size == 128 else 1))
        c = bench_tracer(size, views, args.device)
        print(f"tracer      {size:4d} px: {views / c.wall:8.1f} frames/s wall, {views / max(c.cpu, 1e-9):8.1f} per CPU second "
              f"({views} new viewpoints)")
    c = bench_cached(64, 64, 4, args.device)
    print(f"cached        64 px: a batch of 64 clips x 4 frames takes {1e3 * c.wall:.1f} ms wall, {1e3 * c.cpu:.1f} ms CPU "
          f"({256 / c.wall:.0f} frames/s)")
    c = bench_step(args.device)
    print(f"turntable-lite training step (batch 32, 4 frames per clip, 32 px): {1e3 * c.wall:.0f} ms wall, "
          f"{1e3 * c.cpu:.0f} ms CPU")


if __name__ == "__main__":
    main()
