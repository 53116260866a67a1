"""How fast does KTH convert into the video cache?

Writes a miniature KTH (``drnet_lite.data.kth_mini``: grey 160x120 25 fps AVI,
MPEG-4 Part 2 / DX50 as the originals, zipped per action) with videos of
``--frames`` frames, then times :func:`drnet_lite.data.kth_source.convert_kth`
(unzip + decode with PyAV + squash to S x S + cache) at 64 and 128, a first
run and a second one that must decode nothing. Prints videos/s, frames/s and
the process CPU seconds (user + sys) of each run beside its wall time.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_kth.py [--frames 300] [--persons 4]``.
The real KTH has 599 videos of a few hundred frames each; its conversion time is
their frame count (the estimate counts the sequence file's ranges) over the frames/s here.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from drnet_lite.data.kth_mini import write_miniature_kth
from drnet_lite.data.kth_source import convert_kth


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="frames per video")
    parser.add_argument("--persons", type=int, default=4, help="persons (x 6 actions = videos)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_kth_"))
    try:
        persons = tuple(range(1, args.persons + 1))
        tick = time.perf_counter()
        mini = write_miniature_kth(root / "KTH", persons=persons, frames=args.frames)
        print(f"wrote {len(mini.videos)} videos of {args.frames} frames in {time.perf_counter() - tick:.1f} s")
        for size in (64, 128):
            for run in ("first", "second"):
                wall, cpu = time.perf_counter(), cpu_seconds()
                report = convert_kth(root, size, progress=False, verbose=False)
                wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
                print(f"{size:>3}x{size:<3} {run:>6} run: {len(report.decoded):3d} decoded, {len(report.cached):3d} cached, "
                      f"{wall:6.2f} s wall, {cpu:6.2f} s CPU; {report.videos / wall:7.1f} videos/s, "
                      f"{report.frames / wall:8.0f} frames/s")
            shutil.rmtree(root / "KTH" / "videos")  # the next size unzips again, as a first conversion does
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
