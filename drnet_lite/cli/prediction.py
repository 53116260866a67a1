"""Commands of future prediction: ``train-lstm`` (the pose LSTM on a frozen DRNet), ``predict`` (roll it out:
a strip image and a GIF), ``evaluate-lstm`` (per-step curves against two baselines) and ``evaluate-kth``
(MCnet's protocol and the action probe on KTH)."""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import torch

from ..atomic import write_bytes
from .common import Shipped, UsageError, add_command, format_table
from .flags import (add_run_flags, check_output, default_output, device, existing, fps, json_file, nonnegative_int,
                    out_folder, positive_float, positive_int, share)

#: Future steps shown in the strip image (those within the horizon).
STRIP_STEPS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)


def add_pair_flags(p: argparse.ArgumentParser, shipped: Shipped) -> None:
    """A pose LSTM checkpoint and its DRNet (predict, evaluate-lstm, evaluate-kth)."""
    p.add_argument("--checkpoint", default=str(shipped.lstm), type=existing("checkpoint"), help="pose LSTM checkpoint (default: the shipped one)")
    p.add_argument("--drnet", default=None, type=existing("DRNet checkpoint"), help="its DRNet (default: the one it was trained on, else the shipped one)")
    p.add_argument("--observe", type=positive_int, default=10, help="observed frames")
    p.add_argument("--data", default=None, help="the data folder (MNIST/, KTH/, ... below it; default: $DRNET_DATA, else the user cache)")


def load_pair(args: argparse.Namespace):
    """The LSTM of --checkpoint and the DRNet it was trained on (--drnet, else the path it recorded, else the shipped one)."""
    from ..train import load_drnet
    from ..train_lstm import check_drnet, load_pose_lstm

    lstm, lstm_config, record = load_pose_lstm(args.checkpoint)
    drnet_path = args.drnet
    if drnet_path is None:
        recorded = record.get("path", "")
        drnet_path = recorded if recorded and Path(recorded).is_file() else args.shipped.drnet
    drnet, drnet_config = load_drnet(drnet_path)
    check_drnet(record, drnet, args.checkpoint)
    return drnet, drnet_config, lstm, lstm_config


# --- train-lstm ---

def add_train_lstm(sub, shipped: Shipped) -> None:
    p = add_command(sub, "train-lstm", "train the pose LSTM on a frozen DRNet",
                    "--drnet assets/mnist-lite.pt --out runs/lstm-lite    # add --resume to continue")
    p.add_argument("--drnet", default=str(shipped.drnet), type=existing("DRNet checkpoint"), help="DRNet checkpoint (default: the shipped mnist-lite)")
    p.add_argument("--preset", default=None, help="lstm-lite (Moving MNIST, CPU minutes), lstm-video (video-64) or "
                   "lstm-reference (the paper's settings); default: the one made for the DRNet's source")
    p.add_argument("--steps", type=positive_int, help="total training steps (default: the preset's)")
    add_run_flags(p)
    p.add_argument("--batch-size", type=positive_int, help="clips per step (default: the preset's)")
    p.add_argument("--lr", type=positive_float, help="Adam learning rate (default: the preset's)")
    p.add_argument("--lr-decay", type=share, help="share of the steps at the end over which lr falls linearly to 0")
    p.add_argument("--hidden-size", type=positive_int, help="units of each LSTM layer (the paper: 256)")
    p.add_argument("--num-layers", type=positive_int, help="stacked LSTM layers (the paper: 2)")
    p.add_argument("--observed", type=positive_int, help="frames read before predicting")
    p.add_argument("--predicted", type=positive_int, help="frames predicted while training")
    p.add_argument("--bank-clips", type=nonnegative_int, help="0: fresh clips every step; N: train on windows of N pre-encoded clips")
    p.add_argument("--seed", type=int, help="seed of the weights and the batches (default: the preset's)")
    p.add_argument("--device", default=None, type=device, help="cpu, cuda, cuda:N, mps or auto (default: the best there is)")
    p.add_argument("--data", default=None, help="the data folder (MNIST/, KTH/, ... below it; default: $DRNET_DATA, else the user cache)")
    p.add_argument("--root", dest="data", default=None, help="the data folder (same as --data; e.g. the one holding KTH/)")
    p.set_defaults(func=run_train_lstm)


def lstm_config(args: argparse.Namespace):
    """The LSTM preset named by ``--preset`` (default: the one made for the DRNet's source) with the flags given."""
    from ..presets import DEFAULT_LSTM_PRESET, lstm_preset

    if args.preset is None:  # the preset made for the DRNet's source
        from ..checkpoint import load_checkpoint
        from ..train import TrainConfig

        source = TrainConfig.from_dict(load_checkpoint(args.drnet, kind="drnet")["config"]).data.source
        args.preset = DEFAULT_LSTM_PRESET.get(source, "lstm-reference")
    keys = ["steps", "batch_size", "lr", "lr_decay", "hidden_size", "num_layers", "observed", "predicted",
            "bank_clips", "seed", "device", "checkpoint_every"]
    return lstm_preset(args.preset, **{k: getattr(args, k) for k in keys})


def run_train_lstm(args: argparse.Namespace) -> int:
    from ..train_lstm import fit_lstm

    config = lstm_config(args)
    out = Path(args.out or f"runs/{args.preset}")
    print(f"training the pose LSTM ({args.preset}) for {config.steps} steps on the frozen DRNet {args.drnet} -> {out}")
    start = time.perf_counter()
    result = fit_lstm(config, args.drnet, out, resume=args.resume, overwrite=args.overwrite, data_root=args.data)
    mse = result.history[-1]["mse"] if result.history else float("nan")
    print(f"done in {time.perf_counter() - start:.0f} s: teacher-forced pose MSE {mse:.5f}")
    print(f"checkpoint: {result.checkpoint}\nhistory:    {out / 'history.csv'}")
    return 0


# --- predict ---

def add_predict(sub, shipped: Shipped) -> None:
    p = add_command(sub, "predict", "roll the pose LSTM out: strip image and GIF",
                    "--observe 10 --horizon 500 --out outputs/predict    # strip.png + rollout.gif")
    add_pair_flags(p, shipped)
    p.add_argument("--horizon", type=positive_int, default=500, help="predicted frames")
    p.add_argument("--clips", type=positive_int, default=4, help="test clips to roll out")
    p.add_argument("--seed", type=int, default=0, help="which test clips are rolled out (default 0)")
    p.add_argument("--fps", type=fps, default=12.0, help="frames per second of the GIF (default 12)")
    p.add_argument("--out", default="outputs/predict", type=out_folder, help="folder for strip.png and rollout.gif (default outputs/predict)")
    p.add_argument("--video", default=None, metavar="FILE", type=existing("video file"),
                   help="predict from this video file's frames (read like the DRNet's video source: size, tiles, ...)")
    p.add_argument("--start", type=nonnegative_int, default=0, help="with --video: the first frame of the clips")
    p.add_argument("--standard-file", default=None, type=existing("standard test file"),
                   help="a file in the standard Moving MNIST test format (mnist_test_seq.npy): report per-frame MSE")
    p.add_argument("--standard-clips", type=positive_int, default=None, help="use only the first N clips of that file")
    p.add_argument("--standard-layout", choices=["auto", "time-first", "clip-first"], default="auto",
                   help="the axes of --standard-file: time-first (T, N, H, W) as published, clip-first (N, T, H, W), "
                        "or auto (told from the frames; refused when they cannot tell; the default)")
    p.set_defaults(func=run_predict)


def video_file_clips(drnet_config, path: str, length: int, clips: int, start: int = 0, data_root=None) -> torch.Tensor:
    """Clips (clips, length, C, S, S) of one video file, read the way the DRNet's video source reads its videos
    (size, colour, crop, tiles, frame step): frames ``start .. start + length - 1`` of evenly spaced tiles."""
    from ..data.video import describe_reading, file_clips, reading_config

    config = reading_config(drnet_config.data, drnet_config.model.image_size, drnet_config.model.channels)
    print(f"{path}: frames read as this DRNet's source reads them: {describe_reading(config)}")
    tiles = torch.linspace(0, config.num_tiles - 1, min(clips, config.num_tiles)).round().long().tolist()
    try:
        return file_clips(path, config, length, start, tiles, data_root)
    except ValueError as exc:
        raise ValueError(f"{exc} (--start, --observe and --horizon set the frames)") from None


def write_rollout(drnet, drnet_config, lstm, out: Path, observe: int, horizon: int, clips: int = 4, seed: int = 0,
                  fps: float = 12.0, data_root=None, prefix: str = "", frames: torch.Tensor | None = None) -> list[Path]:
    """Roll ``clips`` fixed test clips of the DRNet's source out (or the given ``frames`` (B, T, C, S, S))
    and write ``<prefix>strip.png`` and ``<prefix>rollout.gif``."""
    from ..evaluate_prediction import fixed_test_data
    from ..predict import rollout
    from ..viz import prediction_strip, save_gif, save_png

    if observe < 1 or horizon < 1:
        raise ValueError(f"--observe and --horizon must be at least 1, got {observe} and {horizon}")
    check_gif_memory(2 * clips, observe + horizon, drnet_config.model.image_size, 2)
    if frames is None:
        data = fixed_test_data(drnet_config.data, observe + horizon, root=data_root)
        frames = data.sample(clips, seed=seed).frames
    clips = len(frames)
    observed, future = frames[:, :observe], frames[:, observe:]
    start = time.perf_counter()
    predicted = rollout(drnet, lstm, observed, horizon).frames
    print(f"rolled {clips} clips out for {horizon} frames in {time.perf_counter() - start:.1f} s")
    steps = [k for k in STRIP_STEPS if k <= horizon] or [horizon]
    index = [k - 1 for k in steps]
    written = [save_png(prediction_strip(observed, future[:, index], predicted[:, index]), out / f"{prefix}strip.png", scale=2)]
    both = torch.stack([frames, torch.cat([observed, predicted], 1)], dim=1).flatten(0, 1)
    written.append(save_gif(both, out / f"{prefix}rollout.gif", fps=fps, ncols=2))
    print(f"{prefix}strip.png: per clip, truth above prediction; the last 3 observed frames, then t+{', t+'.join(map(str, steps))}")
    print(f"{prefix}rollout.gif: per clip, truth (left) and prediction (right)")
    return written


def check_gif_memory(count: int, steps: int, size: int, ncols: int) -> None:
    """Refuse, before any work, a GIF that would not fit in this machine's memory, with the figure."""
    from ..train import memory_of
    from ..viz import gif_bytes

    need, have = gif_bytes(count, steps, size, ncols), memory_of(torch.device("cpu"))
    if have and need > have:
        raise UsageError(f"a GIF of {count} clips of {steps} frames would need about {need / 2**30:,.1f} GB and this "
                         f"machine has {have / 2**30:,.1f} GB: use a smaller --horizon or --clips")


def run_predict(args: argparse.Namespace) -> int:
    from ..evaluate_prediction import check_standard_clips, standard_file_mse

    check_output(args.out, folder=True)
    drnet, drnet_config, lstm, _ = load_pair(args)
    check_gif_memory(2 * args.clips, args.observe + args.horizon, drnet_config.model.image_size, 2)
    video_frames = None
    if args.video:  # read before any picture is made
        video_frames = video_file_clips(drnet_config, args.video, args.observe + args.horizon, args.clips, args.start,
                                        args.data)
        print(f"{args.video}: {len(video_frames)} clip(s) of {video_frames.shape[1]} frames from frame {args.start}")
    frames = None
    if args.standard_file:  # every check of the file before any picture is made
        from ..data import load_standard_test_set

        frames = load_standard_test_set(args.standard_file, layout=args.standard_layout)
        if args.standard_clips:
            if args.standard_clips > len(frames):
                raise UsageError(f"--standard-clips {args.standard_clips}: {args.standard_file} holds only {len(frames)} clips")
            frames = frames[:args.standard_clips]
        check_standard_clips(drnet, frames, args.observe)
        print(f"{args.standard_file}: read as {len(frames)} clips of {frames.shape[1]} frames")
    out = Path(args.out)
    written = write_rollout(drnet, drnet_config, lstm, out, args.observe, args.horizon, args.clips, args.seed,
                            args.fps, args.data, frames=video_frames)
    print("wrote:\n  " + "\n  ".join(str(p) for p in written))
    if frames is not None:
        from ..atomic import write_json

        result = standard_file_mse(drnet, lstm, frames, observe=args.observe)
        print(f"{args.standard_file}: {result['clips']} clips, {result['observed']} -> {result['predicted']}; "
              f"per-frame MSE (sum over pixels) {result['mse_sum']:.2f} (copy last frame: {result['copy_last_mse_sum']:.2f})")
        print("per step: " + " ".join(f"{v:.1f}" for v in result["mse_sum_per_frame"]))
        print(f"wrote {write_json(result, out / 'standard_file_mse.json')}")
    return 0


# --- evaluate-lstm ---

def add_evaluate_lstm(sub, shipped: Shipped) -> None:
    p = add_command(sub, "evaluate-lstm", "measure future prediction on the fixed test set",
                    "--checkpoint runs/lstm-lite/checkpoint.pt    # curves + judge at t+100, t+500")
    add_pair_flags(p, shipped)
    p.add_argument("--horizon", type=positive_int, default=50, help="predicted frames scored per clip (default 50)")
    p.add_argument("--clips", type=positive_int, default=300, help="fixed test clips for the per-step curves")
    p.add_argument("--long-clips", type=positive_int, default=200, help="fixed test clips for the long-horizon judge")
    p.add_argument("--long-at", type=positive_int, nargs="+", default=[100, 500], help="rollout frames to judge")
    p.add_argument("--judge", default=None, type=existing("digit judge"), help="digit judge checkpoint for the long-horizon accuracy (default: the shipped one)")
    p.add_argument("--out", default=None, type=json_file, help="JSON file (default: prediction_metrics.json beside "
                   "the checkpoint; for a shipped one in assets/, runs/<its name>/prediction_metrics.json)")
    p.add_argument("--figure", default=None, type=json_file, help="PNG of the per-step curves (default: the JSON's name with .png)")
    p.set_defaults(func=run_evaluate_lstm)


def format_curves(curves: dict, steps: int | None = None) -> str:
    """Per-step PSNR and SSIM of the three predictors, one row per predicted frame."""
    methods = [m for m in ("lstm", "oracle", "copy_last") if m in curves]
    metrics = [k for k in ("psnr", "ssim") if k in curves[methods[0]]]
    horizon = len(curves[methods[0]][metrics[0]])
    header = "step  " + "  ".join(f"{m + ' ' + k:>15}" for k in metrics for m in methods)
    rows = [header] + [f"t+{t + 1:<4}" + "".join(f"  {curves[m][k][t]:>15.4f}" for k in metrics for m in methods)
                       for t in range(min(horizon, steps or horizon))]
    return "\n".join(rows)


def run_evaluate_lstm(args: argparse.Namespace) -> int:
    from matplotlib.figure import Figure  # no pyplot: the CLI only writes files, whatever the backend

    from ..atomic import write_json
    from ..checkpoint import portable_path
    from ..evaluate_prediction import evaluate_prediction
    from ..judge import load_judge
    from ..viz import plot_prediction_curves

    out = check_output(args.out or default_output(args.checkpoint, "prediction_metrics.json"))
    figure = check_output(args.figure or out.with_suffix(".png"), "--figure")
    drnet, drnet_config, lstm, _ = load_pair(args)
    start = time.perf_counter()
    judge = load_judge(args.judge) if drnet_config.data.source == "moving-mnist" else None  # digits: only there
    results = evaluate_prediction(drnet, drnet_config.data, lstm, judge, root=args.data,
                                  clips=args.clips, observe=args.observe, horizon=args.horizon,
                                  long_clips=args.long_clips, long_at=args.long_at)
    results["checkpoint"] = portable_path(args.checkpoint)
    results["seconds"] = round(time.perf_counter() - start, 1)
    print(format_table(results))
    print("per step (mean over the test clips; whole-frame PSNR in dB and SSIM):")
    print(format_curves(results["curves"]))
    print(f"wrote {write_json(results, out)}")
    fig = Figure(figsize=(12, 3.6))
    axes = fig.subplots(1, 2)
    plot_prediction_curves(results["curves"], "window_ssim" if "window_ssim" in results["curves"]["lstm"] else "ssim",
                           axes[0])
    plot_prediction_curves(results["curves"], "psnr", axes[1])
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png")
    write_bytes(figure, buffer.getvalue())
    print(f"wrote {figure}")
    return 0


# --- evaluate-kth ---

def add_evaluate_kth(sub, shipped: Shipped) -> None:
    p = add_command(sub, "evaluate-kth", "KTH: MCnet's prediction protocol and the action probe of an LSTM run",
                    "--checkpoint runs/kth-64-lstm/checkpoint.pt --root DIR")
    add_pair_flags(p, shipped)
    p.add_argument("--root", dest="data", default=None, help="the folder holding KTH/ (same as --data)")
    p.add_argument("--horizon", type=int, default=20, help="predicted frames (MCnet: 20 after 10 observed)")
    p.add_argument("--max-windows", type=int, default=None, help="evenly spaced subset of the windows (quick runs)")
    p.add_argument("--probe-clips", type=positive_int, default=2000, help="clips the action probe trains and tests on (default 2000)")
    p.add_argument("--probe-frames", type=positive_int, default=10, help="frames per probe clip (default 10)")
    p.add_argument("--out", default=None, type=json_file, help="JSON file (default: kth_metrics.json beside the checkpoint)")
    p.set_defaults(func=run_evaluate_kth)


def run_evaluate_kth(args: argparse.Namespace) -> int:
    """MCnet's protocol on the KTH test persons (per-step PSNR/SSIM: LSTM, oracle, copy-last) and the action probe."""
    from ..atomic import write_json
    from ..data.kth import SEQUENCE_FILE, kth_dir, load_sequences
    from ..data.kth_source import KTHSource
    from ..data.source import for_split
    from ..experiments.kth import action_probe, format_curves as kth_curves, format_probe, protocol_curves

    out = check_output(args.out or default_output(args.checkpoint, "kth_metrics.json"))
    drnet, drnet_config, lstm, _ = load_pair(args)
    if getattr(drnet_config.data, "source", None) != "kth":
        raise ValueError(f"{args.checkpoint} was trained on the {drnet_config.data.source!r} source, not on KTH")
    data = drnet_config.data
    if data.image_size != 128:
        print(f"note: this DRNet works at {data.image_size}x{data.image_size}; MCnet's protocol is 128x128, so the "
              "numbers are not comparable with published tables")
    test = KTHSource(for_split(data, "test", seq_len=1), root=args.data)
    listed = len(load_sequences(kth_dir(test.root) / SEQUENCE_FILE))
    name = "KTH" if listed == 600 else f"a KTH-format set of {listed} listed videos (not the full KTH, which lists 600)"
    print(f"data: {name} in {kth_dir(test.root)}")
    result = protocol_curves(drnet, lstm, test, observed=args.observe, predicted=args.horizon,
                             max_windows=args.max_windows, progress=True)
    print(kth_curves(result))
    train = KTHSource(for_split(data, "train", seq_len=args.probe_frames), root=args.data)
    probe_test = KTHSource(for_split(data, "test", seq_len=args.probe_frames), root=args.data)
    probe = action_probe(drnet, train, probe_test, clips=args.probe_clips, frames=args.probe_frames)
    print(format_probe(probe, name))
    print(f"wrote {write_json({**result, 'action_probe': probe}, out)}")
    return 0


COMMANDS = {"train-lstm": add_train_lstm, "predict": add_predict, "evaluate-lstm": add_evaluate_lstm,
            "evaluate-kth": add_evaluate_kth}
