"""``swap``: the content of some clips in the pose of others, for any DRNet checkpoint: a swap matrix picture
(content down the left, pose along the top) and, per content clip, a GIF of it driven by each pose clip."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .common import Shipped, UsageError, add_command
from .flags import check_output, existing, fps, nonnegative_int, out_folder, positive_int

#: What the frames and pictures of one content clip may hold in memory at most (bytes).
MEMORY_LIMIT = 4 * 2**30
#: The kinds of checkpoint that are not a DRNet, and where a DRNet is found instead.
OTHER_KINDS = {
    "pose_lstm": "a pose LSTM (written by train-lstm); pass the DRNet it was trained on (the --drnet of train-lstm)",
    "digit_judge": "the digit judge (written by train-judge); pass a DRNet (written by train)",
}


def add_swap(sub, shipped: Shipped) -> None:
    p = add_command(
        sub, "swap", "the content of some clips in the pose of others: a swap matrix PNG and GIFs",
        "--checkpoint runs/mine/checkpoint.pt --content me.mp4 --pose dance.mp4 walk.avi --out outputs/swap",
        notes="Without --content or --pose, clips of the checkpoint's own source stand in (its test split: Moving "
              "MNIST, the turntable, your videos, ...). Video files are read as the checkpoint's source reads its "
              "frames (size, grey or colour, crop, tiles, frame step), and the command says how. It writes "
              "swap_matrix.png (top row: the pose frames; left column: the content frames; cell: that content in "
              "that pose) and swap_content_<i>.gif per content clip (per row: the content frame, the pose clip, "
              "the swap).")
    p.add_argument("--checkpoint", default=str(shipped.drnet), type=existing("DRNet checkpoint"),
                   help="a DRNet checkpoint of any source (default: the shipped mnist-lite)")
    p.add_argument("--content", nargs="+", default=None, metavar="FILE_OR_DIR",
                   help="video files or folders of them whose content (what is there) is kept; each file gives "
                        "one clip (with a tiled source, --clips tiles); default: clips of the checkpoint's source")
    p.add_argument("--pose", nargs="+", default=None, metavar="FILE_OR_DIR",
                   help="video files or folders whose pose (where things are, how they move) drives the content; "
                        "default: other clips of the checkpoint's source")
    p.add_argument("--start", type=nonnegative_int, default=0,
                   help="the first frame read from each file (counted after the source's frame step; default 0)")
    p.add_argument("--frames", type=positive_int, default=20,
                   help="frames of each pose clip, the length of the GIFs (default 20)")
    p.add_argument("--clips", type=positive_int, default=4,
                   help="clips of the checkpoint's source for a side given no files; with files of a tiled "
                        "source, evenly spaced tiles per file (default 4)")
    p.add_argument("--seed", type=int, default=0, help="which clips of the source are drawn (default 0)")
    p.add_argument("--fps", type=fps, default=8.0, help="frames per second of the GIFs (default 8)")
    p.add_argument("--data", default=None, help="the data folder of the checkpoint's source (default: as train "
                   "finds it: $DRNET_DATA, then the user's cache); decoded video files are cached in $DRNET_CACHE/video")
    p.add_argument("--out", default="outputs/swap", type=out_folder, help="folder for the pictures (default outputs/swap)")
    p.set_defaults(func=run_swap)


def load_swap_drnet(path: str):
    """The DRNet of ``path``; a checkpoint of another kind is refused naming what it is and what to pass."""
    from ..checkpoint import CheckpointError, load_checkpoint
    from ..train import load_drnet

    kind = load_checkpoint(path).get("kind")
    if kind != "drnet":
        what = OTHER_KINDS.get(kind, f"a {kind!r} checkpoint")
        raise CheckpointError(f"{path} is not a DRNet checkpoint: it holds {what}")
    return load_drnet(path)


def video_files(paths: list[str]) -> list[Path]:
    """The video files among ``paths`` (folders searched); a missing path or no video at all is an error."""
    from ..data.video import find_videos

    files, missing = find_videos(paths)
    if missing:
        raise UsageError(f"no such video file or folder: {', '.join(map(str, missing))} (check the spelling)")
    if not files:
        raise UsageError(f"no video files in {', '.join(paths)} (names ending in .mp4, .avi, .webm, ...)")
    return files


def file_side(files: list[Path], config, start: int, length: int, clips: int) -> tuple[list[str], torch.Tensor]:
    """Clips (n, length, C, S, S) of ``files`` read with ``config`` (``clips`` evenly spaced tiles each), and their names."""
    from ..data.video import file_clips

    tiles = torch.linspace(0, config.num_tiles - 1, min(clips, config.num_tiles)).round().long().tolist()
    names, parts = [], []
    for path in files:
        parts.append(file_clips(path, config, length, start, tiles, verbose=False))
        names += [path.name if len(tiles) == 1 else f"{path.name} tile {k}" for k in tiles]
    return names, torch.cat(parts)


def source_side(drnet_config, length: int, clips: int, seed: int, root) -> torch.Tensor:
    """``clips`` test clips (clips, length, C, S, S) of the checkpoint's own source."""
    from ..data import for_split, make_source

    try:
        data = make_source(for_split(drnet_config.data, "test", seq_len=length), root=root)
    except ValueError as exc:
        raise ValueError(f"the checkpoint's {drnet_config.data.source} source gives no test clip of {length} "
                         f"frames ({exc}); ask for fewer --frames, or give video files") from None
    return data.sample(clips, seed=seed).frames.cpu()


def run_swap(args: argparse.Namespace) -> int:
    from ..data.video import describe_reading, reading_config
    from ..swap import driven_clips, swap_figure, swap_over_time
    from ..viz import save_gif, save_png

    check_output(args.out, folder=True)
    files = {side: video_files(paths) if paths else None for side, paths in (("content", args.content),
                                                                              ("pose", args.pose))}
    model, config = load_swap_drnet(args.checkpoint)
    source = config.data.source
    if args.content or args.pose:
        reading = reading_config(config.data, config.model.image_size, config.model.channels)
        note = "" if source == "video" else (f" (this DRNet was trained on {source} frames; footage unlike them "
                                             "swaps poorly)")
        print(f"video files are read as this DRNet's {source} source reads frames: {describe_reading(reading)}{note}")
    sides = {}
    for side, length, seed in (("content", 1, args.seed), ("pose", args.frames, args.seed + 1)):
        if files[side]:
            names, clips = file_side(files[side], reading, args.start, length, args.clips)
            print(f"{side}: {len(names)} clip(s) of {length} frame(s) from frame {args.start}: {', '.join(names)}")
        else:
            clips = source_side(config, length, args.clips, seed, args.data)
            print(f"{side}: {len(clips)} test clip(s) of the checkpoint's {source} source (seed {seed})")
        sides[side] = clips
    content, pose = sides["content"][:, 0], sides["pose"]
    channels, size = content.shape[1], content.shape[-1]
    per_content = len(pose) * args.frames * channels * size * size * 4 * 2 + 3 * len(pose) * args.frames * (2 * size + 4) ** 2 * 3
    if per_content > MEMORY_LIMIT:
        raise UsageError(f"{len(pose)} pose clips of {args.frames} frames would need about {per_content / 2**30:.1f} GB "
                         f"per content clip (at most {MEMORY_LIMIT / 2**30:.0f} GB): use fewer pose clips or --frames")
    out = Path(args.out)
    written = [save_png(swap_figure(model, content, pose[:, 0]), out / "swap_matrix.png", scale=2)]
    for i in range(len(content)):
        swaps = swap_over_time(model, content[i:i + 1], pose)[0]
        written.append(save_gif(driven_clips(content[i], pose, swaps), out / f"swap_content_{i}.gif", fps=args.fps,
                                ncols=3))
    print("wrote:\n  " + "\n  ".join(str(p) for p in written))
    print("swap_matrix.png: top row = the pose frames, left column = the content frames, cell = that content in "
          "that pose")
    print("swap_content_<i>.gif: one row per pose clip: content frame i (still), the pose clip, the swap")
    return 0


COMMANDS = {"swap": add_swap}
