"""Store a shipped DRNet checkpoint's floating-point weights in float16 (half the file; they load back as float32).

Run: ``python tools/half_weights.py assets/turntable-lite.pt``; prints the largest change of a decoded
frame on a few fixed turntable frames, so the loss of precision is measured, not assumed.
"""
from __future__ import annotations

import sys

import torch

from drnet_lite.checkpoint import load_checkpoint, save_checkpoint
from drnet_lite.data.source import make_source
from drnet_lite.train import load_drnet


def main(path: str) -> None:
    before, config = load_drnet(path)
    payload = load_checkpoint(path)
    payload["state"] = {k: v.half() if v.is_floating_point() else v for k, v in payload["state"].items()}
    payload["note"] = "weights stored as float16 (tools/half_weights.py); they load as float32"
    save_checkpoint(payload, path)
    after, _ = load_drnet(path)
    frames = make_source(config.data).sample(8, seed=0, times=torch.zeros(8, 1, dtype=torch.long)).frames[:, 0]
    with torch.no_grad():
        diff = (before(frames, frames.roll(1, 0)) - after(frames, frames.roll(1, 0))).abs().max()
    print(f"{path}: float16 weights; largest change of a decoded pixel on 8 swaps: {float(diff):.5f}")


if __name__ == "__main__":
    main(sys.argv[1])
