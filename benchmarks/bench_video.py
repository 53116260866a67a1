"""How long does drnet_lite take to decode and cache a real video, and to load it again?

Decodes ``vtest.avi`` (Debian's opencv-doc: 795 frames, 768 x 576, 10 fps) with the
settings of the ``video-64`` preset (grey, 3 x 4 tiles of 192 x 192, each resized to
64 x 64) into a fresh cache folder, then loads it a second time (from the cache:
nothing is decoded). Prints wall and CPU seconds of both loads and the clip rate of
``VideoSource.sample`` at a training batch size.

Run: ``python benchmarks/bench_video.py [--video PATH] [--image-size 64] [--tiles 3 4]``.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import torch

from drnet_lite.data.video import VTEST, VideoConfig, VideoSource


def timed(make):
    wall, cpu = time.perf_counter(), time.process_time()
    value = make()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default=str(VTEST))
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--tiles", type=int, nargs=2, default=(3, 4))
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    config = VideoConfig(videos=(args.video,), image_size=args.image_size, tiles=tuple(args.tiles), seq_len=20)
    with tempfile.TemporaryDirectory() as cache:
        first, wall1, cpu1 = timed(lambda: VideoSource(config, root=cache, progress=False, verbose=False))
        second, wall2, cpu2 = timed(lambda: VideoSource(config, root=cache, progress=False, verbose=False))
        assert second.summary.cached and not second.summary.decoded
        frames = tuple(first.frames.shape)
        g = torch.Generator().manual_seed(0)
        times = torch.randint(0, 20, (args.batch, 4), generator=g)
        _, wall3, _ = timed(lambda: [first.sample(args.batch, generator=g, times=times) for _ in range(200)])
    print(f"{args.video}: cached frames {frames} uint8 ({first.frames.numel() / 2**20:.1f} MB)")
    print(f"first load (decode + cache): {wall1:.2f} s wall, {cpu1:.2f} s CPU")
    print(f"second load (cache only):    {wall2:.3f} s wall, {cpu2:.3f} s CPU")
    print(f"sampling: {200 * args.batch / wall3:.0f} clips/s (batch {args.batch}, 4 frames per clip)")


if __name__ == "__main__":
    main()
