"""Command line: ``python -m drnet_lite <command>``.

Commands:
    demo          Moving MNIST pictures, then a DRNet (shipped weights, or a short
                  lite training run) and its reconstruction and swap pictures, and
                  a rollout of the shipped pose LSTM.
    train         train DRNet from a preset, with flags for the paper's ablations.
    evaluate      swap fidelity, swap content accuracy and leakage probes of a checkpoint.
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
import json
import sys
import time
from pathlib import Path

import torch

from .assets import REPO_ASSETS

SHIPPED_DRNET = REPO_ASSETS / "mnist-lite.pt"
SHIPPED_LSTM = REPO_ASSETS / "mnist-lite-lstm.pt"


def _add_train_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="mnist-lite", help="mnist-lite (CPU minutes) or mnist-paper (reference)")
    p.add_argument("--steps", type=int, help="total training steps")
    p.add_argument("--out", default=None, help="run folder (checkpoint.pt, history.csv, images/)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--lr-decay", type=float, help="share of the steps at the end over which lr falls linearly to 0 (default 0: constant)")
    p.add_argument("--similarity-weight", "--alpha", dest="similarity_weight", type=float, help="alpha")
    p.add_argument("--adversarial-weight", "--beta", dest="adversarial_weight", type=float,
                   help="beta; 0 switches the adversary off (ablation)")
    p.add_argument("--pose-dim", type=int)
    p.add_argument("--content-dim", type=int)
    p.add_argument("--width", type=int, help="channels of the first stage (64 in the paper)")
    p.add_argument("--max-step", type=int, help="largest distance in frames between the four frames of a step")
    p.add_argument("--num-digits", type=int)
    p.add_argument("--channels", choices=["grey", "per-digit"], help="channel mode of the data")
    p.add_argument("--image-size", type=int)
    p.add_argument("--normalize-content", dest="normalize_content", action="store_true", default=None)
    p.add_argument("--no-normalize-content", dest="normalize_content", action="store_false")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, mps")
    p.add_argument("--amp", action="store_true", default=None, help="mixed precision on CUDA: bfloat16 where supported, else float16 with a gradient scaler (T4)")
    p.add_argument("--data", default=None, help="MNIST folder (default: $DRNET_DATA or the user cache)")
    p.add_argument("--compile", action="store_true", help="torch.compile the networks (optional, for long GPU runs)")


def _train_config(args: argparse.Namespace):
    from .train import preset

    keys = ["steps", "batch_size", "lr", "lr_decay", "similarity_weight", "adversarial_weight", "pose_dim", "content_dim",
            "width", "max_step", "num_digits", "channels", "image_size", "normalize_content", "seed", "device", "amp"]
    return preset(args.preset, **{k: getattr(args, k) for k in keys})


def cmd_train(args: argparse.Namespace) -> int:
    from .train import fit

    config = _train_config(args)
    out = Path(args.out or f"runs/{args.preset}")
    print(f"training {args.preset} for {config.steps} steps -> {out}")
    start = time.perf_counter()
    result = fit(config, out, resume=args.resume, data_root=args.data, compile_model=args.compile)
    last = result.history[-1] if result.history else {}
    figures = ", ".join(f"{k}={v}" if k == "step" else f"{k}={v:.4g}" for k, v in last.items())
    print(f"done in {time.perf_counter() - start:.0f} s: {figures}")
    print(f"checkpoint: {result.checkpoint}\nhistory:    {out / 'history.csv'}\npictures:   {out / 'images'}")
    return 0


def cmd_train_judge(args: argparse.Namespace) -> int:
    from .judge import train_judge

    start = time.perf_counter()
    _, accuracy = train_judge(epochs=args.epochs, seed=args.seed, root=args.data, out=args.out)
    print(f"digit judge: {accuracy:.2%} on MNIST test, {time.perf_counter() - start:.0f} s -> {args.out}")
    return 0 if accuracy >= 0.99 else 1


def format_table(results: dict) -> str:
    """The evaluation numbers as an aligned two-column table."""
    rows = [(k, v) for k, v in results.items()
            if isinstance(v, (int, float)) or (isinstance(v, list) and all(isinstance(x, int) for x in v))]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v:.4f}" if isinstance(v, float) else f"{k:<{width}}  {v}" for k, v in rows)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, write_json
    from .judge import load_judge
    from .train import load_drnet

    model, config = load_drnet(args.checkpoint)
    start = time.perf_counter()
    results = evaluate(model, config.data, load_judge(args.judge), root=args.data, pairs=args.pairs,
                       probe_clips=args.probe_clips)
    results["checkpoint"] = str(args.checkpoint)
    results["seconds"] = round(time.perf_counter() - start, 1)
    print(format_table(results))
    out = Path(args.out) if args.out else Path(args.checkpoint).with_name("metrics.json")
    print(f"wrote {write_json(results, out)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .checkpoint import export_weights, load_checkpoint
    from .train import load_drnet
    from .train_lstm import load_pose_lstm

    out = export_weights(args.checkpoint, args.out)
    kind = load_checkpoint(out)["kind"]
    load_drnet(out) if kind == "drnet" else load_pose_lstm(out)  # check it loads
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB: {kind} weights and config, no optimiser state)")
    return 0


def _lstm_config(args: argparse.Namespace):
    from .predict import lstm_preset

    keys = ["steps", "batch_size", "lr", "lr_decay", "hidden_size", "num_layers", "observed", "predicted",
            "bank_clips", "seed", "device"]
    return lstm_preset(args.preset, **{k: getattr(args, k) for k in keys})


def cmd_train_lstm(args: argparse.Namespace) -> int:
    from .train_lstm import fit_lstm

    config = _lstm_config(args)
    out = Path(args.out or f"runs/{args.preset}")
    print(f"training the pose LSTM ({args.preset}) for {config.steps} steps on the frozen DRNet {args.drnet} -> {out}")
    start = time.perf_counter()
    result = fit_lstm(config, args.drnet, out, resume=args.resume, data_root=args.data)
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


def write_rollout(drnet, drnet_config, lstm, out: Path, observe: int, horizon: int, clips: int = 4, seed: int = 0,
                  fps: float = 12.0, data_root=None, prefix: str = "") -> list[Path]:
    """Roll ``clips`` fixed test clips out and write ``<prefix>strip.png`` and ``<prefix>rollout.gif``."""
    from .evaluate_prediction import fixed_test_data
    from .predict import rollout
    from .viz import prediction_strip, save_gif, save_png

    if observe < 1 or horizon < 1:
        raise ValueError(f"--observe and --horizon must be at least 1, got {observe} and {horizon}")
    data = fixed_test_data(drnet_config.data, observe + horizon, root=data_root)
    sample = data.sample(clips, seed=seed)
    observed, future = sample.frames[:, :observe], sample.frames[:, observe:]
    start = time.perf_counter()
    predicted = rollout(drnet, lstm, observed, horizon).frames
    print(f"rolled {clips} clips out for {horizon} frames in {time.perf_counter() - start:.1f} s")
    steps = [k for k in STRIP_STEPS if k <= horizon] or [horizon]
    index = [k - 1 for k in steps]
    written = [save_png(prediction_strip(observed, future[:, index], predicted[:, index]), out / f"{prefix}strip.png", scale=2)]
    both = torch.stack([sample.frames, torch.cat([observed, predicted], 1)], dim=1).flatten(0, 1)
    written.append(save_gif(both, out / f"{prefix}rollout.gif", fps=fps, ncols=2))
    print(f"{prefix}strip.png: per clip, truth above prediction; the last 3 observed frames, then t+{', t+'.join(map(str, steps))}")
    print(f"{prefix}rollout.gif: per clip, truth (left) and prediction (right)")
    return written


def cmd_predict(args: argparse.Namespace) -> int:
    from .evaluate_prediction import standard_file_mse

    drnet, drnet_config, lstm, _ = _load_pair(args)
    out = Path(args.out)
    written = write_rollout(drnet, drnet_config, lstm, out, args.observe, args.horizon, args.clips, args.seed,
                            args.fps, args.data)
    print("wrote:\n  " + "\n  ".join(str(p) for p in written))
    if args.standard_file:
        from .data import load_standard_test_set

        frames = load_standard_test_set(args.standard_file)
        if args.standard_clips:
            frames = frames[:args.standard_clips]
        result = standard_file_mse(drnet, lstm, frames, observe=args.observe)
        print(f"{args.standard_file}: {result['clips']} clips, {result['observed']} -> {result['predicted']}; "
              f"per-frame MSE (sum over pixels) {result['mse_sum']:.2f} (copy last frame: {result['copy_last_mse_sum']:.2f})")
        print("per step: " + " ".join(f"{v:.1f}" for v in result["mse_sum_per_frame"]))
        from .evaluate import write_json
        print(f"wrote {write_json(result, out / 'standard_file_mse.json')}")
    return 0


def cmd_evaluate_lstm(args: argparse.Namespace) -> int:
    from matplotlib.figure import Figure  # no pyplot: the CLI only writes files, whatever the backend

    from .evaluate import write_json
    from .evaluate_prediction import evaluate_prediction
    from .judge import load_judge
    from .checkpoint import portable_path
    from .viz import plot_prediction_curves

    drnet, drnet_config, lstm, _ = _load_pair(args)
    start = time.perf_counter()
    results = evaluate_prediction(drnet, drnet_config.data, lstm, load_judge(args.judge), root=args.data,
                                  clips=args.clips, observe=args.observe, horizon=args.horizon,
                                  long_clips=args.long_clips, long_at=args.long_at)
    results["checkpoint"] = portable_path(args.checkpoint)
    results["seconds"] = round(time.perf_counter() - start, 1)
    print(format_table(results))
    out = Path(args.out) if args.out else Path(args.checkpoint).with_name("prediction_metrics.json")
    print(f"wrote {write_json(results, out)}")
    fig = Figure(figsize=(12, 3.6))
    axes = fig.subplots(1, 2)
    plot_prediction_curves(results["curves"], "window_ssim", axes[0])
    plot_prediction_curves(results["curves"], "psnr", axes[1])
    fig.tight_layout()
    figure = Path(args.figure) if args.figure else out.with_suffix(".png")
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=100)
    print(f"wrote {figure}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from .data.mnist import download_mnist

    print(f"MNIST is in {download_mnist(args.data)}")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .train import PRESETS

    for name, make in PRESETS.items():
        print(f"{name}:\n{json.dumps(make().to_dict(), indent=2)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .data import MovingMNIST, MovingMNISTConfig
    from .swap import reconstruction_figure, swap_figure
    from .train import fit, load_drnet, preset, preview_frames
    from .viz import frame_grid, save_gif, save_png

    from .data.mnist import MNISTNotFoundError, ensure_mnist

    try:
        ensure_mnist(args.data)  # a fresh machine: fetch MNIST first
    except MNISTNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for mode in ("grey", "per-digit"):
        data = MovingMNIST(MovingMNISTConfig(num_digits=2, channels=mode, split="test"), root=args.data)
        clips = data.sample(8, seed=0)
        written.append(save_png(frame_grid(clips.frames[:, ::2].reshape(-1, *clips.frames.shape[2:]), ncols=10),
                                out / f"moving_mnist_{mode}.png", scale=2))
        written.append(save_gif(clips.frames, out / f"moving_mnist_{mode}.gif", ncols=4))

    weights = Path(args.checkpoint) if args.checkpoint else SHIPPED_DRNET
    if weights.is_file():
        model, config = load_drnet(weights)
        print(f"using trained weights {weights}")
    else:
        config = preset("mnist-lite", steps=args.steps, image_every=10**9, checkpoint_every=10**9)
        print(f"no shipped weights yet: training the mnist-lite preset for {args.steps} steps (about a minute on a laptop CPU)")
        model = fit(config, out / "run", data_root=args.data).model
    content, pose = preview_frames(config, root=args.data)
    written.append(save_png(reconstruction_figure(model, content, pose), out / "reconstruction.png", scale=2))
    written.append(save_png(swap_figure(model, content, pose), out / "swap.png", scale=2))
    if weights == SHIPPED_DRNET and SHIPPED_LSTM.is_file():
        from .train_lstm import load_pose_lstm

        lstm, _, _ = load_pose_lstm(SHIPPED_LSTM, model)
        print(f"using the shipped pose LSTM {SHIPPED_LSTM}")
        written += write_rollout(model, config, lstm, out, observe=10, horizon=args.horizon, data_root=args.data,
                                 prefix="prediction_")
    print("wrote:\n  " + "\n  ".join(str(p) for p in written))
    print("swap.png: top row = pose frames, left column = content frames, cell = that content in that pose")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m drnet_lite", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="pictures of the data, a model's reconstructions and swaps")
    p.add_argument("--out", default="outputs/demo")
    p.add_argument("--steps", type=int, default=300, help="training steps when no weights are shipped")
    p.add_argument("--checkpoint", default=None, help="a DRNet checkpoint (default: assets/mnist-lite.pt when it exists, else train briefly)")
    p.add_argument("--horizon", type=int, default=200, help="frames the shipped pose LSTM predicts after 10 observed ones")
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train DRNet")
    _add_train_flags(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="measure disentanglement of a trained DRNet")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--judge", default=None, help="digit judge weights (default: assets/digit_judge.pt)")
    p.add_argument("--pairs", type=int, default=500, help="fixed (content, pose) test pairs")
    p.add_argument("--probe-clips", type=int, default=2000, help="test clips for the leakage probes")
    p.add_argument("--out", default=None, help="JSON file (default: metrics.json beside the checkpoint)")
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("export", help="slim copy of a checkpoint for shipping (no optimiser state)")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("train-lstm", help="train the pose LSTM on a frozen DRNet")
    p.add_argument("--drnet", default=str(SHIPPED_DRNET), help="DRNet checkpoint (default: the shipped mnist-lite)")
    p.add_argument("--preset", default="lstm-lite", help="lstm-lite (CPU minutes) or lstm-reference (DRNET.md)")
    p.add_argument("--steps", type=int)
    p.add_argument("--out", default=None, help="run folder (checkpoint.pt, history.csv)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--lr-decay", type=float, help="share of the steps at the end over which lr falls linearly to 0")
    p.add_argument("--hidden-size", type=int)
    p.add_argument("--num-layers", type=int)
    p.add_argument("--observed", type=int, help="frames read before predicting")
    p.add_argument("--predicted", type=int, help="frames predicted while training")
    p.add_argument("--bank-clips", type=int, help="0: fresh clips every step; N: train on windows of N pre-encoded clips")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", default=None)
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_train_lstm)

    def add_pair(p: argparse.ArgumentParser) -> None:
        p.add_argument("--checkpoint", default=str(SHIPPED_LSTM), help="pose LSTM checkpoint (default: the shipped one)")
        p.add_argument("--drnet", default=None, help="its DRNet (default: the one it was trained on, else the shipped one)")
        p.add_argument("--observe", type=int, default=10, help="observed frames")
        p.add_argument("--data", default=None)

    p = sub.add_parser("predict", help="roll the pose LSTM out: strip image and GIF")
    add_pair(p)
    p.add_argument("--horizon", type=int, default=500, help="predicted frames")
    p.add_argument("--clips", type=int, default=4, help="test clips to roll out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fps", type=float, default=12.0)
    p.add_argument("--out", default="outputs/predict")
    p.add_argument("--standard-file", default=None,
                   help="a file in the standard Moving MNIST test format (mnist_test_seq.npy): report per-frame MSE")
    p.add_argument("--standard-clips", type=int, default=None, help="use only the first N clips of that file")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate-lstm", help="measure future prediction on the fixed test set")
    add_pair(p)
    p.add_argument("--horizon", type=int, default=50)
    p.add_argument("--clips", type=int, default=300, help="fixed test clips for the per-step curves")
    p.add_argument("--long-clips", type=int, default=200, help="fixed test clips for the long-horizon judge")
    p.add_argument("--long-at", type=int, nargs="+", default=[100, 500], help="rollout frames to judge")
    p.add_argument("--judge", default=None)
    p.add_argument("--out", default=None, help="JSON file (default: prediction_metrics.json beside the checkpoint)")
    p.add_argument("--figure", default=None, help="PNG of the per-step curves (default: the JSON's name with .png)")
    p.set_defaults(func=cmd_evaluate_lstm)

    p = sub.add_parser("train-judge", help="train the digit judge on MNIST")
    p.add_argument("--out", default="assets/digit_judge.pt")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_train_judge)

    p = sub.add_parser("download", help="download MNIST (md5-checked)")
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("presets", help="print the presets")
    p.set_defaults(func=cmd_presets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .data.mnist import MNISTChecksumError, MNISTNotFoundError
    from .checkpoint import CheckpointError
    from .train import TrainingDiverged

    try:
        return args.func(args)
    except (MNISTNotFoundError, MNISTChecksumError, CheckpointError, TrainingDiverged, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint written is intact", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
