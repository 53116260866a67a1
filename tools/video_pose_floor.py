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

from drnet_lite.data import for_split, make_source
from drnet_lite.evaluate_frames import motion_scene_floor
from drnet_lite.presets import preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--grid", type=int, default=4)
    parser.add_argument("--apart", type=int, default=10, help="frames between the two frames of a mask")
    args = parser.parse_args()
    source = make_source(for_split(preset("video-64").data, "test"), root=args.data)
    floor = motion_scene_floor(source, clips=args.clips, grid=args.grid, apart=args.apart, seed=2017)
    print(json.dumps({"clips": args.clips, "grid": args.grid, "apart": args.apart,
                      **{k: round(v, 3) for k, v in floor.items()}}))


if __name__ == "__main__":
    main()
