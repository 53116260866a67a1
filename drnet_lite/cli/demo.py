"""``demo``: pictures of the data, a DRNet's reconstructions and swaps (the shipped weights, or a short lite
training run), and a rollout of the shipped pose LSTM."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import Shipped, add_command
from .flags import existing, out_folder, positive_int
from .prediction import write_rollout


def add_demo(sub, shipped: Shipped) -> None:
    p = add_command(sub, "demo", "pictures of the data, a model's reconstructions and swaps", "--out outputs/demo")
    p.add_argument("--out", default="outputs/demo", type=out_folder, help="folder for the pictures (default outputs/demo)")
    p.add_argument("--steps", type=positive_int, default=300, help="training steps when no weights are shipped")
    p.add_argument("--checkpoint", default=None, type=existing("checkpoint"),
                   help="a DRNet checkpoint of any source (default: assets/mnist-lite.pt when it exists, else train briefly)")
    p.add_argument("--lstm", default=None, type=existing("pose LSTM checkpoint"),
                   help="a pose LSTM checkpoint trained on --checkpoint (default: the shipped one with the shipped DRNet)")
    p.add_argument("--horizon", type=positive_int, default=None,
                   help="frames the pose LSTM predicts after 10 observed ones (default: 200 on Moving MNIST, 20 on "
                   "other sources, whose test clips are finite)")
    p.add_argument("--data", default=None, help="the data folder (MNIST/, KTH/, ... below it; default: $DRNET_DATA, else the user cache)")
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from ..data import MovingMNIST, MovingMNISTConfig, for_split, make_source
    from ..data.mnist import MNISTNotFoundError, ensure_mnist
    from ..presets import preset
    from ..swap import reconstruction_figure, swap_figure
    from ..train import fit, load_drnet, preview_frames
    from ..viz import frame_grid, save_gif, save_png

    shipped = args.shipped
    weights = Path(args.checkpoint) if args.checkpoint else shipped.drnet
    model = config = None
    if weights.is_file():
        model, config = load_drnet(weights)
    if config is None or config.data.source == "moving-mnist":
        try:
            ensure_mnist(args.data)  # a fresh machine: fetch MNIST first
        except MNISTNotFoundError as exc:
            print(exc, file=sys.stderr)
            return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if config is None or config.data.source == "moving-mnist":
        for mode in ("grey", "per-digit"):
            data = MovingMNIST(MovingMNISTConfig(num_digits=2, channels=mode, split="test"), root=args.data)
            clips = data.sample(8, seed=0)
            written.append(save_png(frame_grid(clips.frames[:, ::2].reshape(-1, *clips.frames.shape[2:]), ncols=10),
                                    out / f"moving_mnist_{mode}.png", scale=2))
            written.append(save_gif(clips.frames, out / f"moving_mnist_{mode}.gif", ncols=4))
    else:  # another source: its own test clips
        clips = make_source(for_split(config.data, "test"), root=args.data).sample(8, seed=0)
        name = config.data.source
        written.append(save_png(frame_grid(clips.frames[:, ::2].reshape(-1, *clips.frames.shape[2:]),
                                           ncols=clips.frames[:, ::2].shape[1]), out / f"{name}_clips.png", scale=2))
        written.append(save_gif(clips.frames, out / f"{name}_clips.gif", ncols=4))

    if model is not None:
        print(f"using trained weights {weights}")
    else:
        config = preset("mnist-lite", steps=args.steps, image_every=10**9, checkpoint_every=10**9)
        print(f"no shipped weights yet: training the mnist-lite preset for {args.steps} steps (about a minute on a laptop CPU)")
        model = fit(config, out / "run", data_root=args.data, overwrite=True).model  # the demo's own scratch run
    content, pose = preview_frames(config, root=args.data)
    written.append(save_png(reconstruction_figure(model, content, pose), out / "reconstruction.png", scale=2))
    written.append(save_png(swap_figure(model, content, pose), out / "swap.png", scale=2))
    lstm_path = Path(args.lstm) if args.lstm else (shipped.lstm if weights == shipped.drnet else None)
    if lstm_path is not None and lstm_path.is_file():
        from ..train_lstm import load_pose_lstm

        lstm, _, _ = load_pose_lstm(lstm_path, model)
        print(f"using the pose LSTM {lstm_path}")
        horizon = args.horizon or (200 if config.data.source == "moving-mnist" else 20)
        written += write_rollout(model, config, lstm, out, observe=10, horizon=horizon, data_root=args.data,
                                 prefix="prediction_")
    if not args.checkpoint and shipped.drnet2.is_file():  # the two-digit model too, on its own kind of frames
        model2, config2 = load_drnet(shipped.drnet2)
        print(f"using trained weights {shipped.drnet2}")
        content, pose = preview_frames(config2, root=args.data)
        written.append(save_png(reconstruction_figure(model2, content, pose), out / "reconstruction_two_digits.png", scale=2))
        written.append(save_png(swap_figure(model2, content, pose), out / "swap_two_digits.png", scale=2))
    if not args.checkpoint and shipped.video is not None and shipped.video.is_file():
        written += real_video_pictures(shipped.video, shipped.video_lstm, out)
    print("wrote:\n  " + "\n  ".join(str(p) for p in written))
    print("swap.png: top row = pose frames, left column = content frames, cell = that content in that pose")
    return 0


def real_video_pictures(weights: Path, lstm_path: Path | None, out: Path, observe: int = 10,
                        horizon: int = 20) -> list[Path]:
    """The shipped real-video DRNet on the test frames of ``vtest.avi``: a swap matrix, and a rollout of its
    pose LSTM. Skipped, with the reason, where the real footage cannot be had (the package's synthetic
    stand-in is not what these weights were trained on)."""
    import tempfile

    from ..data import for_split, make_source
    from ..data.video_samples import sample_video
    from ..swap import swap_figure
    from ..train import load_drnet, with_overrides
    from ..viz import save_png

    path, real = sample_video(Path(tempfile.gettempdir()) / "drnet_lite_videos")
    if not real:
        print("real-video pictures skipped: vtest.avi is neither installed (Debian: apt-get install opencv-doc) "
              "nor downloadable here")
        return []
    model, config = load_drnet(weights)
    config = with_overrides(config, videos=(str(path),))  # the footage where it is on this machine
    print(f"using trained weights {weights} on {path}")
    test = make_source(for_split(config.data, "test"))
    content = test.sample(4, seed=1).frames[:, 0]
    pose = test.sample(5, seed=2).frames[:, 0]
    written = [save_png(swap_figure(model, content, pose), out / "video_swap.png", scale=2)]
    if lstm_path is not None and lstm_path.is_file():
        from ..train_lstm import load_pose_lstm

        lstm, _, _ = load_pose_lstm(lstm_path, model)
        print(f"using the pose LSTM {lstm_path}")
        written += write_rollout(model, config, lstm, out, observe=observe, horizon=horizon, clips=3, prefix="video_")
    print("video_swap.png: the rows' scenes with the columns' poses: each column's walkers, blurred, drawn into "
          "every row's scene (assets/README.md says how well)")
    return written


COMMANDS = {"demo": add_demo}
