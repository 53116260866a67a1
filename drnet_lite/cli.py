"""Command line: ``python -m drnet_lite <command>``.

Commands:
    demo          Moving MNIST pictures, then a DRNet (shipped weights, or a short
                  lite training run) and its reconstruction and swap pictures, and
                  a rollout of the shipped pose LSTM.
    train         train DRNet from a preset, with flags for the paper's ablations.
    evaluate      swap fidelity, swap content accuracy and leakage probes of a checkpoint.
    ablations     train and score the paper's ablations back to back: one table.
    export        a slim copy of a checkpoint (weights and config) for shipping.
    train-lstm    train the pose LSTM on a frozen DRNet (future prediction).
    predict       roll a trained pose LSTM out: a strip image and an animated GIF.
    evaluate-lstm per-step PSNR/SSIM against two baselines, long-horizon judge accuracy.
    train-judge   train the digit classifier used to score swaps.
    download      fetch MNIST into the data folder (md5-checked).
    presets       list the training presets and their settings.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from pathlib import Path

import torch

from .assets import REPO_ASSETS
from .atomic import write_bytes

SHIPPED_DRNET = REPO_ASSETS / "mnist-lite.pt"
SHIPPED_LSTM = REPO_ASSETS / "mnist-lite-lstm.pt"
SHIPPED_DRNET2 = REPO_ASSETS / "mnist2-lite.pt"
SHIPPED_JUDGE = REPO_ASSETS / "digit_judge.pt"
#: The judge's accuracy bar on MNIST test (see drnet_lite.judge).
JUDGE_BAR = 0.99


# --- argument types: every count and setting is checked by the parser, before any work ---

def _integer(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    """A count of at least 1."""
    return _integer(text, 1, ">= 1")


def nonnegative_int(text: str) -> int:
    return _integer(text, 0, ">= 0")


def batch_size(text: str) -> int:
    return _integer(text, 2, ">= 2 (shuffled pairs need another clip)")


def probe_clips(text: str) -> int:
    return _integer(text, 8, ">= 8 (half train, half test the probes)")


def _real(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_float(text: str) -> float:
    value = _real(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def nonnegative_float(text: str) -> float:
    value = _real(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def share(text: str) -> float:
    value = _real(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def fps(text: str) -> float:
    value = _real(text)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"frames per second must be in (0, 1000], got {value}")
    return value


def image_size(text: str) -> int:
    from .models import MAX_IMAGE_SIZE

    value = _integer(text, 8, f"a power of two from 8 to {MAX_IMAGE_SIZE}")
    if value > MAX_IMAGE_SIZE or value & (value - 1):
        raise argparse.ArgumentTypeError(f"the models support powers of two from 8 to {MAX_IMAGE_SIZE} "
                                         f"(32, 64, 128), got {value}")
    return value


def device(text: str) -> str:
    from .device import check_device

    if text != "auto":
        try:
            check_device(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def existing(kind: str):
    """An argument type: the path of an existing file (``kind`` names it in the message)."""
    def check(text: str) -> str:
        if Path(text).is_dir():
            raise argparse.ArgumentTypeError(f"{text} is a folder; give the path of the {kind} file")
        if not Path(text).is_file():
            raise argparse.ArgumentTypeError(f"no {kind} at {text}; give the path of an existing file")
        return text
    return check


def out_folder(text: str) -> str:
    """An output folder: it may not exist yet, but no file may be in its way."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; choose another --out")
    return text


def json_file(text: str) -> str:
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name such as {Path(text) / 'metrics.json'}")
    return text


class Parser(argparse.ArgumentParser):
    """argparse, with errors on one line (no usage block): the problem, then where help is."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class UsageError(ValueError):
    """A bad combination of flags, found before any work."""


def _add_run_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=None, help="run folder (checkpoint.pt, history.csv, ...)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --out (without it, or --resume, "
                   "a folder that holds a run is refused)")
    p.add_argument("--checkpoint-every", type=positive_int, help="steps between checkpoints (Ctrl-C also saves)")


def _dataset_help() -> str:
    from .data import registered_sources

    return "; ".join(f"{name}: {entry.description}" for name, entry in sorted(registered_sources().items()))


def _add_train_flags(p: argparse.ArgumentParser) -> None:
    from .presets import PRESETS

    p.add_argument("--preset", default="mnist-lite", choices=sorted(PRESETS),
                   help="mnist-lite (Moving MNIST, CPU minutes), mnist-lab (the same in about 5 minutes), "
                        "mnist2-lite (two coloured digits), mnist-paper (Moving MNIST, reference) or "
                        "video-64 (real video: a skip DRNet on tiles of vtest.avi, or of --videos)")
    p.add_argument("--videos", nargs="+", metavar="PATH",
                   help="video files or folders for a video preset (default: Debian opencv-doc's vtest.avi)")
    p.add_argument("--tiles", type=positive_int, nargs=2, metavar=("ROWS", "COLS"),
                   help="video: cut frames into this grid of scenes")
    p.add_argument("--frame-step", type=positive_int, help="video: keep every n-th frame")
    p.add_argument("--seq-len", type=positive_int, help="frames per clip")
    p.add_argument("--steps", type=positive_int, help="total training steps")
    _add_run_flags(p)
    p.add_argument("--batch-size", type=batch_size)
    p.add_argument("--lr", type=positive_float)
    p.add_argument("--lr-decay", type=share, help="share of the steps at the end over which lr falls linearly to 0 (default 0: constant)")
    p.add_argument("--similarity-weight", "--alpha", dest="similarity_weight", type=nonnegative_float, help="alpha")
    p.add_argument("--adversarial-weight", "--beta", dest="adversarial_weight", type=nonnegative_float,
                   help="beta; 0 switches the adversary off (ablation)")
    p.add_argument("--motion-weight", type=nonnegative_float,
                   help="lambda: weight pixels that moved between content and pose frame by 1 + lambda |x_p - x_c| in L_rec (default 0)")
    p.add_argument("--pose-dim", type=positive_int)
    p.add_argument("--content-dim", type=positive_int)
    p.add_argument("--width", type=positive_int, help="channels of the first stage (64 in the paper)")
    p.add_argument("--max-step", type=nonnegative_int, help="largest distance in frames between the four frames of a step")
    p.add_argument("--num-digits", type=positive_int)
    p.add_argument("--channels", choices=["grey", "per-digit", "rgb"],
                   help="channel mode of the data (Moving MNIST: grey or per-digit; video: grey or rgb)")
    p.add_argument("--image-size", type=image_size)
    p.add_argument("--normalize-content", dest="normalize_content", action="store_true", default=None)
    p.add_argument("--no-normalize-content", dest="normalize_content", action="store_false")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default=None, type=device, help="auto (default), cpu, cuda, mps")
    p.add_argument("--amp", action="store_true", default=None, help="mixed precision on CUDA: bfloat16 where supported, else float16 with a gradient scaler (T4)")
    p.add_argument("--data", "--root", dest="data", default=None,
                   help="the source's folder: Moving MNIST's MNIST folder (default: $DRNET_DATA or the user "
                   "cache); video: the decoded-frame cache (default: $DRNET_CACHE/video); KTH: the folder holding KTH/; "
                   "small NORB: its six files; turntable: where it keeps its traced views")
    p.add_argument("--compile", action="store_true", help="torch.compile the networks (optional, for long GPU runs)")


def _train_config(args: argparse.Namespace):
    from .presets import preset

    keys = ["steps", "batch_size", "lr", "lr_decay", "similarity_weight", "adversarial_weight", "motion_weight", "pose_dim", "content_dim",
            "width", "max_step", "num_digits", "channels", "image_size", "normalize_content", "seed", "device", "amp",
            "checkpoint_every", "videos", "tiles", "frame_step", "seq_len"]
    return preset(args.preset, **{k: getattr(args, k) for k in keys})


def cmd_train(args: argparse.Namespace) -> int:
    from .train import fit

    config = _train_config(args)
    out = Path(args.out or f"runs/{args.preset}")
    print(f"training {args.preset} for {config.steps} steps -> {out}")
    start = time.perf_counter()
    result = fit(config, out, resume=args.resume, overwrite=args.overwrite, data_root=args.data,
                 compile_model=args.compile)
    if result.step > config.steps:
        print(f"nothing to do: the run in {out} is already at step {result.step} (more than --steps)")
    last = result.history[-1] if result.history else {}
    figures = ", ".join(f"{k}={v}" if k == "step" else f"{k}={v:.4g}" for k, v in last.items())
    print(f"done in {time.perf_counter() - start:.0f} s: {figures}")
    print(f"checkpoint: {result.checkpoint}\nhistory:    {out / 'history.csv'}\npictures:   {out / 'images'}")
    return 0


def cmd_train_judge(args: argparse.Namespace) -> int:
    from .checkpoint import save_checkpoint
    from .judge import judge_payload, train_judge
    from .runs import acquire_lock, probe_folder, release_lock

    out = Path(args.out)
    if out.resolve() == SHIPPED_JUDGE.resolve():
        raise UsageError(f"--out {out} is the shipped judge; pass --replace-asset to replace it (only done when the "
                         f"new judge reaches {JUDGE_BAR:.0%})")
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} exists; pass --overwrite to replace it, or choose another --out")
    probe_folder(out.parent)
    lock = acquire_lock(out.parent)  # one judge training per folder at a time
    try:
        start = time.perf_counter()
        judge, accuracy = train_judge(epochs=args.epochs, seed=args.seed, root=args.data)
        payload = judge_payload(judge, accuracy, args.epochs, args.seed)
        save_checkpoint(payload, out)
        print(f"digit judge: {accuracy:.2%} on MNIST test, {time.perf_counter() - start:.0f} s -> {out}")
        if accuracy < JUDGE_BAR:
            kept = f"; {SHIPPED_JUDGE} was not replaced" if args.replace_asset else ""
            print(f"error: the judge did not reach the bar of {JUDGE_BAR:.0%}{kept}; train longer (--epochs)",
                  file=sys.stderr)
            return 1
        if args.replace_asset:
            save_checkpoint(payload, SHIPPED_JUDGE)
            print(f"replaced {SHIPPED_JUDGE}")
    finally:
        release_lock(lock)
    return 0


def format_table(results: dict) -> str:
    """The evaluation numbers as an aligned two-column table."""
    rows = [(k, v) for k, v in results.items()
            if isinstance(v, (int, float)) or (isinstance(v, list) and all(isinstance(x, int) for x in v))]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v:.4f}" if isinstance(v, float) else f"{k:<{width}}  {v}" for k, v in rows)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .atomic import write_json
    from .evaluate_frames import evaluate_frames
    from .train import load_drnet

    out = Path(args.out) if args.out else Path(args.checkpoint).with_name("metrics.json")
    json_file(str(out))
    model, config = load_drnet(args.checkpoint)
    start = time.perf_counter()
    if config.data.source == "turntable":  # the turntable's own table (probes, exact swaps)
        from .course import quick_mode
        from .experiments.turntable import evaluate_turntable, format_table as turntable_table

        results = evaluate_turntable(model, config, root=args.data, probe_count=args.probe_clips // 2 + 500,
                                     pairs=min(args.pairs, 256), quick=quick_mode())
        results["checkpoint"] = str(args.checkpoint)
        results["seconds"] = round(time.perf_counter() - start, 1)
        print(turntable_table(results))
        print(f"wrote {write_json(results, out)}")
        return 0
    if config.data.source == "moving-mnist":  # the digit judge and exact swap targets
        from .experiments.moving_mnist import evaluate
        from .judge import load_judge

        results = evaluate(model, config.data, load_judge(args.judge), root=args.data, pairs=args.pairs,
                           probe_clips=args.probe_clips)
    else:  # every source: reconstructions of held-out frames, probes where labels exist
        results = evaluate_frames(model, config.data, root=args.data, count=args.pairs, probe_clips=args.probe_clips)
        results.update(pairs=args.pairs, probe_clips=args.probe_clips)
    results["checkpoint"] = str(args.checkpoint)
    results["seconds"] = round(time.perf_counter() - start, 1)
    print(format_table(results))
    print(f"wrote {write_json(results, out)}")
    return 0


def format_curves(curves: dict, steps: int | None = None) -> str:
    """Per-step PSNR and SSIM of the three predictors, one row per predicted frame."""
    methods = [m for m in ("lstm", "oracle", "copy_last") if m in curves]
    metrics = [k for k in ("psnr", "ssim") if k in curves[methods[0]]]
    horizon = len(curves[methods[0]][metrics[0]])
    header = "step  " + "  ".join(f"{m + ' ' + k:>15}" for k in metrics for m in methods)
    rows = [header] + [f"t+{t + 1:<4}" + "".join(f"  {curves[m][k][t]:>15.4f}" for k in metrics for m in methods)
                       for t in range(min(horizon, steps or horizon))]
    return "\n".join(rows)


def cmd_export(args: argparse.Namespace) -> int:
    from .checkpoint import export_weights, load_checkpoint
    from .train import load_drnet
    from .train_lstm import load_pose_lstm

    if Path(args.out).exists() and Path(args.out).resolve() != Path(args.checkpoint).resolve() and not args.overwrite:
        raise UsageError(f"{args.out} exists; pass --overwrite to replace it, or choose another --out")
    out = export_weights(args.checkpoint, args.out, half=args.half)
    kind = load_checkpoint(out)["kind"]
    load_drnet(out) if kind == "drnet" else load_pose_lstm(out)  # check it loads
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB: {kind} weights and config, no optimiser state)")
    return 0


def _lstm_config(args: argparse.Namespace):
    from .presets import DEFAULT_LSTM_PRESET, lstm_preset

    if args.preset is None:  # the preset made for the DRNet's source
        from .checkpoint import load_checkpoint
        from .train import TrainConfig

        source = TrainConfig.from_dict(load_checkpoint(args.drnet, kind="drnet")["config"]).data.source
        args.preset = DEFAULT_LSTM_PRESET.get(source, "lstm-reference")
    keys = ["steps", "batch_size", "lr", "lr_decay", "hidden_size", "num_layers", "observed", "predicted",
            "bank_clips", "seed", "device", "checkpoint_every"]
    return lstm_preset(args.preset, **{k: getattr(args, k) for k in keys})


def cmd_train_lstm(args: argparse.Namespace) -> int:
    from .train_lstm import fit_lstm

    config = _lstm_config(args)
    out = Path(args.out or f"runs/{args.preset}")
    print(f"training the pose LSTM ({args.preset}) for {config.steps} steps on the frozen DRNet {args.drnet} -> {out}")
    start = time.perf_counter()
    result = fit_lstm(config, args.drnet, out, resume=args.resume, overwrite=args.overwrite, data_root=args.data)
    mse = result.history[-1]["mse"] if result.history else float("nan")
    print(f"done in {time.perf_counter() - start:.0f} s: teacher-forced pose MSE {mse:.5f}")
    print(f"checkpoint: {result.checkpoint}\nhistory:    {out / 'history.csv'}")
    return 0


def _load_pair(args: argparse.Namespace):
    """The LSTM of --checkpoint and the DRNet it was trained on (--drnet, else the path it recorded, else the shipped one)."""
    from .train import load_drnet
    from .train_lstm import check_drnet, load_pose_lstm

    lstm, lstm_config, record = load_pose_lstm(args.checkpoint)
    drnet_path = args.drnet
    if drnet_path is None:
        recorded = record.get("path", "")
        drnet_path = recorded if recorded and Path(recorded).is_file() else SHIPPED_DRNET
    drnet, drnet_config = load_drnet(drnet_path)
    check_drnet(record, drnet, args.checkpoint)
    return drnet, drnet_config, lstm, lstm_config


#: Future steps shown in the strip image (those within the horizon).
STRIP_STEPS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)


def video_file_clips(drnet_config, path: str, length: int, clips: int, start: int = 0, data_root=None) -> torch.Tensor:
    """Clips (clips, length, C, S, S) of one video file, read the way the DRNet's video source reads its videos
    (size, colour, crop, tiles, frame step): frames ``start .. start + length - 1`` of evenly spaced tiles."""
    import dataclasses

    from .data.video import VideoConfig, load_videos

    data = drnet_config.data
    if not isinstance(data, VideoConfig):
        data = VideoConfig(image_size=drnet_config.model.image_size,
                           channels="grey" if drnet_config.model.channels == 1 else "rgb")
    if drnet_config.model.channels != data.num_channels:
        raise ValueError(f"the DRNet reads {drnet_config.model.channels}-channel frames; a video gives 1 (grey) or 3 (rgb)")
    config = dataclasses.replace(data, videos=(str(path),), max_frames=0)
    _, arrays, _ = load_videos(config, data_root, progress=True, verbose=True)
    frames = torch.from_numpy(arrays[0].copy())  # (T, tiles, C, S, S) uint8
    if start < 0 or start + length > len(frames):
        raise ValueError(f"{path} gives {len(frames)} frames (after frame_step {config.frame_step}); frames {start} to "
                         f"{start + length - 1} are needed: use a smaller --start, --observe or --horizon")
    tiles = torch.linspace(0, frames.shape[1] - 1, min(clips, frames.shape[1])).round().long()
    return frames[start:start + length, tiles].transpose(0, 1).float().div_(255.0)


def write_rollout(drnet, drnet_config, lstm, out: Path, observe: int, horizon: int, clips: int = 4, seed: int = 0,
                  fps: float = 12.0, data_root=None, prefix: str = "", frames: torch.Tensor | None = None) -> list[Path]:
    """Roll ``clips`` fixed test clips of the DRNet's source out (or the given ``frames`` (B, T, C, S, S))
    and write ``<prefix>strip.png`` and ``<prefix>rollout.gif``."""
    from .evaluate_prediction import fixed_test_data
    from .predict import rollout
    from .viz import prediction_strip, save_gif, save_png

    if observe < 1 or horizon < 1:
        raise ValueError(f"--observe and --horizon must be at least 1, got {observe} and {horizon}")
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


def cmd_predict(args: argparse.Namespace) -> int:
    from .evaluate_prediction import check_standard_clips, standard_file_mse

    drnet, drnet_config, lstm, _ = _load_pair(args)
    video_frames = None
    if args.video:  # read before any picture is made
        video_frames = video_file_clips(drnet_config, args.video, args.observe + args.horizon, args.clips, args.start,
                                        args.data)
        print(f"{args.video}: {len(video_frames)} clip(s) of {video_frames.shape[1]} frames from frame {args.start}")
    frames = None
    if args.standard_file:  # every check of the file before any picture is made
        from .data import load_standard_test_set

        frames = load_standard_test_set(args.standard_file)
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
        result = standard_file_mse(drnet, lstm, frames, observe=args.observe)
        print(f"{args.standard_file}: {result['clips']} clips, {result['observed']} -> {result['predicted']}; "
              f"per-frame MSE (sum over pixels) {result['mse_sum']:.2f} (copy last frame: {result['copy_last_mse_sum']:.2f})")
        print("per step: " + " ".join(f"{v:.1f}" for v in result["mse_sum_per_frame"]))
        from .atomic import write_json
        print(f"wrote {write_json(result, out / 'standard_file_mse.json')}")
    return 0


def cmd_evaluate_lstm(args: argparse.Namespace) -> int:
    from matplotlib.figure import Figure  # no pyplot: the CLI only writes files, whatever the backend

    from .atomic import write_json
    from .evaluate_prediction import evaluate_prediction
    from .judge import load_judge
    from .checkpoint import portable_path
    from .viz import plot_prediction_curves

    out = Path(args.out) if args.out else Path(args.checkpoint).with_name("prediction_metrics.json")
    json_file(str(out))
    figure = Path(args.figure) if args.figure else out.with_suffix(".png")
    json_file(str(figure))
    drnet, drnet_config, lstm, _ = _load_pair(args)
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


def cmd_download(args: argparse.Namespace) -> int:
    if args.dataset == "kth":
        return cmd_download_kth(args)
    from .data.mnist import download_mnist

    if args.dataset == "norb":
        from .data.norb import download_norb

        print(f"small NORB is in {download_norb(args.data)}")
        return 0
    print(f"MNIST is in {download_mnist(args.data)}")
    return 0


def cmd_download_kth(args: argparse.Namespace) -> int:
    """KTH: the six action zips and 00sequences.txt into ROOT/KTH (resumable), then unpacked."""
    from .data.kth import MIN_ARCHIVE_BYTES, download_kth, extract_archives
    from .data.mnist import data_root

    root = data_root(args.data)
    start = time.perf_counter()
    min_bytes = MIN_ARCHIVE_BYTES if args.min_archive_mb is None else int(args.min_archive_mb * 2**20)
    report = download_kth(root, mirror=args.mirror, min_archive_bytes=min_bytes)
    print(f"KTH files in {report.folder}: {len(report.fetched)} downloaded, {len(report.present)} already there "
          f"({time.perf_counter() - start:.0f} s)")
    extracted = extract_archives(root)
    print(extracted.summary())
    print(f"next: python -m drnet_lite train --preset kth-64 --root {root} --out runs/kth-64 "
          "(the first run decodes the videos into the cache once)")
    return 0 if not extracted.failed else 1


def cmd_evaluate_kth(args: argparse.Namespace) -> int:
    """MCnet's protocol on the KTH test persons (per-step PSNR/SSIM: LSTM, oracle, copy-last) and the action probe."""
    from .data.kth import SEQUENCE_FILE, kth_dir, load_sequences
    from .data.kth_source import KTHSource
    from .data.source import for_split
    from .atomic import write_json
    from .experiments.kth import action_probe, format_curves, format_probe, protocol_curves

    drnet, drnet_config, lstm, _ = _load_pair(args)
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
    print(format_curves(result))
    train = KTHSource(for_split(data, "train", seq_len=args.probe_frames), root=args.data)
    probe_test = KTHSource(for_split(data, "test", seq_len=args.probe_frames), root=args.data)
    probe = action_probe(drnet, train, probe_test, clips=args.probe_clips, frames=args.probe_frames)
    print(format_probe(probe, name))
    out = Path(args.out) if args.out else Path(args.checkpoint).with_name("kth_metrics.json")
    print(f"wrote {write_json({**result, 'action_probe': probe}, out)}")
    return 0


def cmd_ablations(args: argparse.Namespace) -> int:
    from .ablations import ablation_table, run_ablations
    from .atomic import write_json

    overrides = {"steps": args.steps, "device": args.device}
    rows = run_ablations(base=args.preset, names=args.names, out_root=args.out, data_root=args.data, pairs=args.pairs,
                         probe_clips=args.probe_clips, overwrite=args.overwrite, **overrides)
    print(ablation_table(rows))
    if args.json:
        print(f"wrote {write_json({'preset': args.preset, 'rows': rows}, Path(args.json))}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .presets import PRESETS

    for name, make in PRESETS.items():
        print(f"{name}:\n{json.dumps(make().to_dict(), indent=2)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .data import MovingMNIST, MovingMNISTConfig, for_split, make_source
    from .swap import reconstruction_figure, swap_figure
    from .train import fit, load_drnet, preview_frames
    from .presets import preset
    from .data.mnist import MNISTNotFoundError, ensure_mnist
    from .viz import frame_grid, save_gif, save_png

    weights = Path(args.checkpoint) if args.checkpoint else SHIPPED_DRNET
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
    lstm_path = Path(args.lstm) if args.lstm else (SHIPPED_LSTM if weights == SHIPPED_DRNET else None)
    if lstm_path is not None and lstm_path.is_file():
        from .train_lstm import load_pose_lstm

        lstm, _, _ = load_pose_lstm(lstm_path, model)
        print(f"using the pose LSTM {lstm_path}")
        written += write_rollout(model, config, lstm, out, observe=10, horizon=args.horizon, data_root=args.data,
                                 prefix="prediction_")
    if not args.checkpoint and SHIPPED_DRNET2.is_file():  # the two-digit model too, on its own kind of frames
        model2, config2 = load_drnet(SHIPPED_DRNET2)
        print(f"using trained weights {SHIPPED_DRNET2}")
        content, pose = preview_frames(config2, root=args.data)
        written.append(save_png(reconstruction_figure(model2, content, pose), out / "reconstruction_two_digits.png", scale=2))
        written.append(save_png(swap_figure(model2, content, pose), out / "swap_two_digits.png", scale=2))
    print("wrote:\n  " + "\n  ".join(str(p) for p in written))
    print("swap.png: top row = pose frames, left column = content frames, cell = that content in that pose")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m drnet_lite", description=__doc__, epilog="datasets (sources): " + _dataset_help(),
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="pictures of the data, a model's reconstructions and swaps")
    p.add_argument("--out", default="outputs/demo", type=out_folder)
    p.add_argument("--steps", type=positive_int, default=300, help="training steps when no weights are shipped")
    p.add_argument("--checkpoint", default=None, type=existing("checkpoint"),
                   help="a DRNet checkpoint of any source (default: assets/mnist-lite.pt when it exists, else train briefly)")
    p.add_argument("--lstm", default=None, type=existing("pose LSTM checkpoint"),
                   help="a pose LSTM checkpoint trained on --checkpoint (default: the shipped one with the shipped DRNet)")
    p.add_argument("--horizon", type=positive_int, default=200, help="frames the pose LSTM predicts after 10 observed ones")
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train DRNet", epilog="datasets (sources): " + _dataset_help())
    _add_train_flags(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="measure disentanglement of a trained DRNet")
    p.add_argument("--checkpoint", required=True, type=existing("checkpoint"))
    p.add_argument("--judge", default=None, type=existing("digit judge"), help="digit judge weights (default: assets/digit_judge.pt)")
    p.add_argument("--pairs", type=positive_int, default=500, help="fixed (content, pose) test pairs")
    p.add_argument("--probe-clips", type=probe_clips, default=2000, help="test clips for the leakage probes")
    p.add_argument("--out", default=None, type=json_file, help="JSON file (default: metrics.json beside the checkpoint)")
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("export", help="slim copy of a checkpoint for shipping (no optimiser state)")
    p.add_argument("--checkpoint", required=True, type=existing("checkpoint"))
    p.add_argument("--out", required=True, type=json_file)
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the size; loaded as float32)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("train-lstm", help="train the pose LSTM on a frozen DRNet")
    p.add_argument("--drnet", default=str(SHIPPED_DRNET), type=existing("DRNet checkpoint"), help="DRNet checkpoint (default: the shipped mnist-lite)")
    p.add_argument("--preset", default=None, help="lstm-lite (Moving MNIST, CPU minutes), lstm-video (video-64) or "
                   "lstm-reference (the paper's settings); default: the one made for the DRNet's source")
    p.add_argument("--steps", type=positive_int)
    _add_run_flags(p)
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=positive_float)
    p.add_argument("--lr-decay", type=share, help="share of the steps at the end over which lr falls linearly to 0")
    p.add_argument("--hidden-size", type=positive_int)
    p.add_argument("--num-layers", type=positive_int)
    p.add_argument("--observed", type=positive_int, help="frames read before predicting")
    p.add_argument("--predicted", type=positive_int, help="frames predicted while training")
    p.add_argument("--bank-clips", type=nonnegative_int, help="0: fresh clips every step; N: train on windows of N pre-encoded clips")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default=None, type=device)
    p.add_argument("--data", default=None)
    p.add_argument("--root", dest="data", default=None, help="the data folder (same as --data; e.g. the one holding KTH/)")
    p.set_defaults(func=cmd_train_lstm)

    def add_pair(p: argparse.ArgumentParser) -> None:
        p.add_argument("--checkpoint", default=str(SHIPPED_LSTM), type=existing("checkpoint"), help="pose LSTM checkpoint (default: the shipped one)")
        p.add_argument("--drnet", default=None, type=existing("DRNet checkpoint"), help="its DRNet (default: the one it was trained on, else the shipped one)")
        p.add_argument("--observe", type=positive_int, default=10, help="observed frames")
        p.add_argument("--data", default=None)

    p = sub.add_parser("predict", help="roll the pose LSTM out: strip image and GIF")
    add_pair(p)
    p.add_argument("--horizon", type=positive_int, default=500, help="predicted frames")
    p.add_argument("--clips", type=positive_int, default=4, help="test clips to roll out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fps", type=fps, default=12.0)
    p.add_argument("--out", default="outputs/predict", type=out_folder)
    p.add_argument("--video", default=None, metavar="FILE", type=existing("video file"),
                   help="predict from this video file's frames (read like the DRNet's video source: size, tiles, ...)")
    p.add_argument("--start", type=nonnegative_int, default=0, help="with --video: the first frame of the clips")
    p.add_argument("--standard-file", default=None, type=existing("standard test file"),
                   help="a file in the standard Moving MNIST test format (mnist_test_seq.npy): report per-frame MSE")
    p.add_argument("--standard-clips", type=positive_int, default=None, help="use only the first N clips of that file")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate-lstm", help="measure future prediction on the fixed test set")
    add_pair(p)
    p.add_argument("--horizon", type=positive_int, default=50)
    p.add_argument("--clips", type=positive_int, default=300, help="fixed test clips for the per-step curves")
    p.add_argument("--long-clips", type=positive_int, default=200, help="fixed test clips for the long-horizon judge")
    p.add_argument("--long-at", type=positive_int, nargs="+", default=[100, 500], help="rollout frames to judge")
    p.add_argument("--judge", default=None, type=existing("digit judge"))
    p.add_argument("--out", default=None, type=json_file, help="JSON file (default: prediction_metrics.json beside the checkpoint)")
    p.add_argument("--figure", default=None, type=json_file, help="PNG of the per-step curves (default: the JSON's name with .png)")
    p.set_defaults(func=cmd_evaluate_lstm)

    p = sub.add_parser("train-judge", help="train the digit judge on MNIST")
    p.add_argument("--out", default="runs/digit-judge/digit_judge.pt", type=json_file,
                   help="where the new judge goes (default: a run folder; the shipped asset is replaced only with --replace-asset)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--replace-asset", action="store_true",
                   help=f"also replace the shipped assets/digit_judge.pt, if the new judge reaches {JUDGE_BAR:.0%}")
    p.add_argument("--epochs", type=positive_int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_train_judge)

    p = sub.add_parser("download", help="download MNIST (md5-checked), KTH (resumable, checked) or small NORB")
    p.add_argument("dataset", nargs="?", choices=["mnist", "kth", "norb"], default="mnist")
    p.add_argument("--data", "--root", dest="data", default=None,
                   help="data folder (MNIST/, KTH/ or small NORB go below it; default: $DRNET_DATA or the user cache)")
    p.add_argument("--mirror", default=None, help="KTH: base URL of a mirror or local copy (default: the KTH site, "
                   "then its legacy host)")
    p.add_argument("--min-archive-mb", type=float, default=None,
                   help="KTH: smallest plausible archive size in MB (default 20; lower it for a small mirror)")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("evaluate-kth", help="KTH: MCnet's prediction protocol and the action probe of an LSTM run")
    add_pair(p)
    p.add_argument("--root", dest="data", default=None, help="the folder holding KTH/ (same as --data)")
    p.add_argument("--horizon", type=int, default=20, help="predicted frames (MCnet: 20 after 10 observed)")
    p.add_argument("--max-windows", type=int, default=None, help="evenly spaced subset of the windows (quick runs)")
    p.add_argument("--probe-clips", type=int, default=2000)
    p.add_argument("--probe-frames", type=int, default=10)
    p.add_argument("--out", default=None, help="JSON file (default: kth_metrics.json beside the checkpoint)")
    p.set_defaults(func=cmd_evaluate_kth)

    from .ablations import ABLATIONS

    p = sub.add_parser("ablations", help="train and score the paper's ablations back to back: one table")
    p.add_argument("--preset", default="mnist-lab", help="the Moving MNIST preset every run starts from (default: mnist-lab)")
    p.add_argument("--names", nargs="+", default=None, choices=list(ABLATIONS), help="which ablations (default: all, in this order)")
    p.add_argument("--steps", type=positive_int, default=None, help="training steps of every run (default: the preset's)")
    p.add_argument("--out", required=True, type=out_folder, help="run folders go to OUT/<ablation>")
    p.add_argument("--overwrite", action="store_true", help="replace runs already in --out")
    p.add_argument("--json", default=None, type=json_file, help="also write the rows to this JSON file")
    p.add_argument("--pairs", type=positive_int, default=500, help="fixed (content, pose) test pairs")
    p.add_argument("--probe-clips", type=probe_clips, default=2000, help="test clips for the leakage probes")
    p.add_argument("--device", default=None, type=device)
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_ablations)

    p = sub.add_parser("presets", help="print the presets")
    p.set_defaults(func=cmd_presets)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error of the package's own kinds, and every file-system error, is reported
    as one line on stderr with exit status 2 (1 for a judge below its bar, 130 after Ctrl-C)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # a bad flag (already reported on one line), or --help
        return exc.code if isinstance(exc.code, int) else 2
    from .checkpoint import CheckpointError
    from .data.mnist import MNISTChecksumError, MNISTDownloadError, MNISTNotFoundError, MNISTUnreadableError
    from .data.kth import KTHError
    from .runs import Interrupted, RunFolderError, TrainingDiverged

    try:
        return args.func(args)
    except (MNISTNotFoundError, MNISTChecksumError, MNISTUnreadableError, MNISTDownloadError, CheckpointError,
            KTHError, RunFolderError, TrainingDiverged, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file in the way, a read-only folder, a full disk
        name = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"error:{name} {exc.strerror or exc}; check the path and its permissions", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint written is intact", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
