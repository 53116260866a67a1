"""How much of the scene a *pure* pose reveals on tiled video: probes on where things moved, no pose encoder involved.

A pose vector that draws the people must say where they are. On tiles of one plaza the people are not
everywhere alike: a path tile has walkers along its path, a lawn tile few or none. So "where things move"
alone may name the tile, and no adversary can take that out of a pose that still draws the people.

For held-out clips (test split), the mask of pixels that changed by more than ``MOVED`` between two frames
``k`` apart (what the moved-pixel scores use), average-pooled to ``--grid`` x ``--grid`` (a coarse
"where", far below the pixels), and the moved share alone (one number: how busy the tile is) are given to
the same MLP and linear probes as the pose vectors; the share of tiles a probe names right is the floor of
pose -> tile for any pose that carries the motion.

    OMP_NUM_THREADS=1 python tools/video_pose_floor.py --data CACHE
"""
from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F

from drnet_lite.data import for_split, make_source
from drnet_lite.evaluate_frames import MOVED, fit_probe
from drnet_lite.presets import preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--grid", type=int, default=4)
    parser.add_argument("--apart", type=int, default=10, help="frames between the two frames of a mask")
    args = parser.parse_args()
    config = preset("video-64")
    source = make_source(for_split(config.data, "test"), root=args.data)
    g = torch.Generator().manual_seed(2017)
    first = torch.randint(0, source.seq_len - args.apart, (args.clips,), generator=g)
    clips = source.sample(args.clips, generator=g, times=torch.stack([first, first + args.apart], 1))
    moved = ((clips.frames[:, 1] - clips.frames[:, 0]).abs().mean(1, keepdim=True) > MOVED).float()
    where = F.adaptive_avg_pool2d(moved, args.grid).flatten(1)
    busy = moved.flatten(1).mean(1, keepdim=True)
    _, label = torch.unique(clips.scene.cpu(), return_inverse=True)
    classes, half = int(label.max()) + 1, args.clips // 2
    out = {"clips": args.clips, "grid": args.grid, "apart": args.apart,
           "chance": float(torch.bincount(label[half:], minlength=classes).max()) / (args.clips - half)}
    for name, x in ((f"moved_mask_{args.grid}x{args.grid}", where), ("moved_share", busy)):
        for probe, hidden in (("linear", None), ("mlp", 128)):
            out[f"{name}_to_tile_{probe}"] = round(fit_probe(x[:half], label[:half], x[half:], label[half:], classes, hidden), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
