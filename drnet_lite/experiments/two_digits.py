"""Two digits in their own colour channels (the paper's Moving MNIST): what a run learns, step by step.

* :class:`Snapshots`: a ``fit`` callback that keeps the weights every N steps (to score a run's curve later);
* :func:`measure`: per digit, what the codes of a (frozen) model say at one moment of training
  (content -> digit, pose -> position R^2 of each digit, the reconstruction error of each channel, the
  scene discriminator's accuracy on same-clip vs shuffled pairs);
* :class:`DiagnosisLogger`: a ``fit`` callback that calls :func:`measure` every N steps and writes the rows;

Run ``python -m drnet_lite.experiments.two_digits --help``.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ..atomic import write_text
from ..checkpoint import save_checkpoint
from ..models import DRNet


class Snapshots:
    """``fit`` callback: every ``every`` steps save the model's weights to ``folder/step_NNNNNN.pt`` (a DRNet file)."""

    def __init__(self, folder: str | Path, config: Any, every: int) -> None:
        self.folder, self.config, self.every = Path(folder), config, every

    def __call__(self, step: int, history: list[dict[str, float]], model: DRNet) -> None:
        if step % self.every:
            return
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_checkpoint({"kind": "drnet", "config": self.config.to_dict(), "state": state, "step": step,
                         "elapsed": history[-1]["time"] if history else 0.0, "cpu": time.process_time()},
                        self.folder / f"step_{step:06d}.pt")


@torch.no_grad()
def measure(model: DRNet, data_config: Any, judge: Any = None, clips: int = 500, pairs: int = 200,
            root: str | None = None) -> dict[str, float]:
    """What ``model`` knows now, per digit k, on fixed Moving MNIST test clips (the model is left as it was found).

    ``content_to_digit_k``: MLP probe accuracy of digit k's class from h_c (half the clips train it);
    ``pose_to_digit_k``: the same from h_p (a leak; chance about 10%);
    ``pose_to_position_r2_k``: MLP probe R^2 of digit k's position from h_p (pose should locate it);
    ``rec_mse_channel_k``: mean squared error of channel k of ``D(h_c(x_0), h_p(x_t))`` against x_t, next to
    ``blank_mse_channel_k``, the error of an all-black channel k (a model that draws nothing scores that);
    ``scene_acc``: the model's own scene discriminator on same-clip vs shuffled pose pairs;
    ``swap_accuracy_digit_k`` (with a ``judge``): the share of ``pairs`` fixed swaps whose digit k the judge
    reads as the content clip's.
    """
    from ..data import MovingMNIST
    from ..evaluate_frames import fit_probe
    from .moving_mnist import encode_clips, evaluate_swaps, test_config
    from ..losses import scene_discriminator_loss, shuffled_partner

    was_training, rng = model.training, torch.get_rng_state()
    try:
        model.eval()
        data = MovingMNIST(test_config(data_config), root=root)
        content, pose, sample = encode_clips(model, data, clips, seed=2018)
        half, digits = clips // 2, data_config.num_digits
        labels = sample.labels.cpu()
        position = sample.positions[:, 0].float().cpu() / max(1, data.config.max_position)  # (N, K, 2)
        row: dict[str, float] = {}
        for k in range(digits):
            row[f"content_to_digit_{k}"] = fit_probe(content[:half, 0], labels[:half, k], content[half:, 0], labels[half:, k], 10, 128)
            row[f"pose_to_digit_{k}"] = fit_probe(pose[:half, 0], labels[:half, k], pose[half:, 0], labels[half:, k], 10, 128)
            row[f"pose_to_position_r2_{k}"] = fit_probe(pose[:half, 0], position[:half, k], pose[half:, 0], position[half:, k], None, 128)
        frames = sample.frames.cpu()
        decoded = model.decode(content[:, 0], pose[:, 1]).cpu()  # content of frame a, pose of frame b, target b
        error = (decoded - frames[:, 1]).square().mean(dim=(0, 2, 3))
        blank = frames[:, 1].square().mean(dim=(0, 2, 3))
        for k in range(frames.shape[2]):
            row[f"rec_mse_channel_{k}"], row[f"blank_mse_channel_{k}"] = float(error[k]), float(blank[k])
        same = model.scene_discriminator(pose[:, 0], pose[:, 1])
        shuffled = model.scene_discriminator(pose[:, 0], shuffled_partner(pose[:, 1], 1))
        row["scene_acc"] = float(scene_discriminator_loss(same, shuffled)[1])
        if judge is not None:
            swaps = evaluate_swaps(model, data, judge, count=pairs)
            row.update({f"swap_accuracy_digit_{k}": swaps[f"swap_accuracy_digit_{k}"] for k in range(digits)})
        return row
    finally:
        torch.set_rng_state(rng)
        model.train(was_training)


class DiagnosisLogger:
    """``fit`` callback: every ``every`` steps, :func:`measure` the model and append a row to the CSV ``path``.

    The training loop knows nothing of it (it is handed to ``fit(callback=...)``). Each row also holds the
    training step, the training CPU seconds so far (the measurements' own CPU time subtracted) and the
    measurement's CPU seconds.
    """

    def __init__(self, path: str | Path, config: Any, every: int, judge: Any = None, clips: int = 500,
                 pairs: int = 200, root: str | None = None) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1 step, got {every}")
        self.path, self.config, self.every = Path(path), config, every
        self.judge, self.clips, self.pairs, self.root = judge, clips, pairs, root
        self.rows: list[dict[str, float]] = []
        self.start, self.spent = time.process_time(), 0.0

    def __call__(self, step: int, history: list[dict[str, float]], model: DRNet) -> None:
        if step % self.every:
            return
        tick = time.process_time()
        model_device = next(model.parameters()).device
        row = {"step": step, "train_cpu_s": round(tick - self.start - self.spent, 2)}
        row.update(measure(model, self.config.data, self.judge, self.clips, self.pairs, self.root))
        if history:
            row.update({"train_rec": history[-1]["rec"], "train_scene_acc": history[-1]["scene_acc"]})
        self.spent += time.process_time() - tick
        row["measure_cpu_s"] = round(time.process_time() - tick, 2)
        self.rows.append(row)
        header = list(self.rows[0])
        lines = [",".join(header)] + [",".join(f"{r.get(h, float('nan')):.6g}" for h in header) for r in self.rows]
        write_text(self.path, "\n".join(lines) + "\n")
        assert next(model.parameters()).device == model_device



def read_rows(path: str | Path) -> list[dict[str, float]]:
    """The rows of a :class:`DiagnosisLogger` CSV."""
    lines = Path(path).read_text().split()
    header = lines[0].split(",")
    return [dict(zip(header, map(float, line.split(",")))) for line in lines[1:]]


def diagnosis_figure(runs: dict[str, list[dict[str, float]]]):
    """A matplotlib Figure of :class:`DiagnosisLogger` rows against training steps, one line style per run.

    Panels: content -> digit k, the swaps' digit k (judge), pose -> position R^2 of digit k, the
    reconstruction error of channel k as a share of an all-black channel's, the scene discriminator's accuracy.
    Dotted: chance (10% for a digit, 50% for the discriminator).
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(16, 3.4), layout="constrained")
    axes = figure.subplots(1, 5)
    colours = ("tab:red", "tab:cyan")
    for (name, rows), style in zip(runs.items(), ("-", "--", ":")):
        steps = [r["step"] for r in rows]
        for k, colour in enumerate(colours):
            label = f"{name}, digit {k}"
            axes[0].plot(steps, [r[f"content_to_digit_{k}"] for r in rows], style, color=colour, label=label)
            if f"swap_accuracy_digit_{k}" in rows[0]:
                axes[1].plot(steps, [r[f"swap_accuracy_digit_{k}"] for r in rows], style, color=colour, label=label)
            axes[2].plot(steps, [r[f"pose_to_position_r2_{k}"] for r in rows], style, color=colour, label=label)
            axes[3].plot(steps, [r[f"rec_mse_channel_{k}"] / r[f"blank_mse_channel_{k}"] for r in rows], style,
                         color=colour, label=label)
        axes[4].plot(steps, [r["scene_acc"] for r in rows], style, color="black", label=name)
    titles = ("content -> digit k (MLP probe)", "swaps: judge reads digit k right", "pose -> position of digit k (R$^2$)",
              "reconstruction error, channel k\n(share of an all-black channel's)",
              "scene discriminator accuracy\n(same clip vs shuffled pairs)")
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    for ax in axes[:2]:
        ax.axhline(0.1, color="grey", lw=0.8, ls=":")
        ax.set_ylim(0, 1)
    axes[2].set_ylim(-0.2, 1)
    axes[3].set_ylim(0, 1.05)
    axes[4].set_ylim(0.3, 1)
    axes[4].axhline(0.5, color="grey", lw=0.8, ls=":")
    axes[0].legend(fontsize=7)
    axes[4].legend(fontsize=7)
    return figure


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m drnet_lite.experiments.two_digits", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("diagnose", help="train a preset with the DiagnosisLogger (writes OUT/diagnosis.csv)")
    run.add_argument("--preset", default="mnist2-joint")
    run.add_argument("--steps", type=int, default=3000)
    run.add_argument("--every", type=int, default=100, help="measure every this many steps (a multiple of the preset's log_every)")
    run.add_argument("--out", required=True)
    run.add_argument("--data", default=None, help="the MNIST folder (default: $DRNET_DATA or the cache)")
    fig = sub.add_parser("figure", help="draw diagnosis CSVs (NAME=PATH ...) into one PNG")
    fig.add_argument("runs", nargs="+", help="NAME=path/to/diagnosis.csv")
    fig.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.command == "figure":
        pairs = [r.split("=", 1) for r in args.runs]
        if any(len(p) != 2 for p in pairs):
            parser.error("give runs as NAME=path/to/diagnosis.csv")
        diagnosis_figure({name: read_rows(path) for name, path in pairs}).savefig(args.out, dpi=110)
        print(f"wrote {args.out}")
        return 0
    from ..judge import load_judge
    from ..train import fit, with_overrides
    from .moving_mnist import PRESETS

    if args.preset not in PRESETS:
        parser.error(f"unknown Moving MNIST preset {args.preset!r}; choose one of {sorted(PRESETS)}")
    config = with_overrides(PRESETS[args.preset](), steps=args.steps)
    if args.every % config.log_every:
        parser.error(f"--every must be a multiple of the preset's log_every ({config.log_every}): the logger runs at logs")
    logger = DiagnosisLogger(Path(args.out) / "diagnosis.csv", config, args.every, judge=load_judge(), root=args.data)
    fit(config, Path(args.out) / "run", data_root=args.data, callback=logger, overwrite=True)
    print(f"wrote {logger.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
