"""Curves over training of the scene discriminator against what a probe reads from pose.

Trains one preset (with flat overrides) and, every ``--every`` steps, freezes a copy of the encoders and
measures on fixed held-out clips (video: the test split; turntable: fresh clips of the training toys):

* ``pose_to_scene_mlp`` / ``_linear``: which scene (tile, toy) an MLP / linear probe reads from pose
  (standardised inputs, as in :mod:`drnet_lite.evaluate_frames`), and ``content_to_scene_mlp``;
* ``fresh_C``: a fresh scene discriminator on frozen pose pairs, exactly as ``evaluate`` trains it;
* ``fresh_C_other_scene``: the same, its shuffled partners drawn from another scene only;
* ``fresh_C_standardised``: the same as ``fresh_C`` on pose standardised per dimension (what the probe sees);
* ``model_C_same_clip`` / ``model_C_other_scene``: the training discriminator's own accuracy on those pairs;

and, from the training log, the discriminator's accuracy and ``L_adv`` (its maximum-entropy value is
ln 2 = 0.693: the encoders' loss is ln 2 exactly when C says 1/2). Writes ``curves.json`` and
``curves.png`` into ``--out``.

    OMP_NUM_THREADS=1 python tools/scene_curves.py --preset turntable-lite --out runs/tt-curves --data runs/turntable-cache
    OMP_NUM_THREADS=1 python tools/scene_curves.py --preset video-64 --steps 2000 --out runs/v64-curves --set partner=scene
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import time
from pathlib import Path

import torch

from drnet_lite.atomic import write_json
from drnet_lite.data import for_split, make_source
from drnet_lite.evaluate_frames import encode_frames, fit_probe, fresh_scene_discriminator
from drnet_lite.losses import scene_discriminator_loss, shuffled_partner
from drnet_lite.presets import preset
from drnet_lite.train import build_model, fit


def scene_of(clips) -> torch.Tensor:
    """The scene label of every clip: ``scene`` (video) or the toy (turntable)."""
    for name in ("scene", "object_id"):
        if getattr(clips, name, None) is not None:
            return getattr(clips, name).cpu()
    raise ValueError("these clips carry no scene label")


def other_scene_rows(scene: torch.Tensor) -> torch.Tensor:
    """For every row the next row (cyclically) of another scene (deterministic, for scoring)."""
    n = len(scene)
    order = torch.arange(n)
    out = torch.empty(n, dtype=torch.long)
    for i in range(n):
        for k in range(1, n):
            j = (i + k) % n
            if scene[j] != scene[i]:
                out[i] = j
                break
        else:
            out[i] = (i + 1) % n
    return out


def fresh_C_other_scene(pose: torch.Tensor, scene: torch.Tensor, split: int, pose_dim: int, hidden: int,
                        steps: int = 1000, seed: int = 0) -> float:
    """:func:`fresh_scene_discriminator` whose shuffled partners always come from another scene."""
    from drnet_lite.models import SceneDiscriminator

    torch.manual_seed(seed)
    disc = SceneDiscriminator(pose_dim, hidden)
    opt = torch.optim.Adam(disc.parameters(), lr=1e-3)
    train, test = pose[:split], pose[split:]
    s_train, s_test = scene[:split], scene[split:]
    g = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        for _ in range(steps):
            idx = torch.randperm(len(train), generator=g)[:100]
            a, b, s = train[idx, 0], train[idx, 1], s_train[idx]
            partner = other_scene_rows(s)
            loss, _ = scene_discriminator_loss(disc(a, b), disc(a, b[partner]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        partner = other_scene_rows(s_test)
        _, acc = scene_discriminator_loss(disc(test[:, 0], test[:, 1]), disc(test[:, 0], test[partner, 1]))
    return float(acc)


def measure(model, source, count: int, seed: int = 4242) -> dict[str, float]:
    was_training = model.training
    rng = torch.get_rng_state()
    try:
        content, pose, clips = encode_frames(model, source, count, seed)
        scene = scene_of(clips)
        _, label = torch.unique(scene, return_inverse=True)
        classes = int(label.max()) + 1
        half = count // 2
        out = {"chance": float(torch.bincount(label[half:], minlength=classes).max()) / (count - half),
               "same_scene_partner_share": float((scene[half:] == scene[half:].roll(1)).float().mean())}
        out["pose_to_scene_mlp"] = fit_probe(pose[:half, 0], label[:half], pose[half:, 0], label[half:], classes, 128)
        out["pose_to_scene_linear"] = fit_probe(pose[:half, 0], label[:half], pose[half:, 0], label[half:], classes, None)
        out["content_to_scene_mlp"] = fit_probe(content[:half, 0], label[:half], content[half:, 0], label[half:], classes, 128)
        dim, hidden = model.config.pose_dim, model.config.discriminator_hidden
        out["fresh_C"] = fresh_scene_discriminator(pose, half, dim, hidden)
        out["fresh_C_other_scene"] = fresh_C_other_scene(pose, scene, half, dim, hidden)
        std = (pose - pose[:half].flatten(0, 1).mean(0)) / (pose[:half].flatten(0, 1).std(0) + 1e-6)
        out["fresh_C_standardised"] = fresh_scene_discriminator(std, half, dim, hidden)
        out["pose_std_min"] = float(pose[:half].flatten(0, 1).std(0).min())
        out["pose_std_max"] = float(pose[:half].flatten(0, 1).std(0).max())
        with torch.no_grad():
            disc = model.scene_discriminator.eval()
            a, b = pose[half:, 0], pose[half:, 1]
            same = disc(a, b)
            _, out["model_C_same_clip"] = [float(v) for v in scene_discriminator_loss(same, disc(a, shuffled_partner(b, 1)))]
            _, out["model_C_other_scene"] = [float(v) for v in scene_discriminator_loss(same, disc(a, b[other_scene_rows(scene[half:])]))]
            out["model_C_mean_prob_same"] = float(torch.sigmoid(same).mean())
    finally:
        torch.set_rng_state(rng)
        model.train(was_training)
    return out


def parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def plot(curves: list[dict], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [c["step"] for c in curves]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for key, label in (("train_C_acc", "C accuracy while training"), ("pose_to_scene_mlp", "pose -> scene, MLP probe"),
                       ("fresh_C", "fresh C (evaluate)"), ("fresh_C_other_scene", "fresh C, partners of another scene"),
                       ("content_to_scene_mlp", "content -> scene, MLP probe")):
        ax.plot(steps, [math.nan if c.get(key) is None else c[key] for c in curves], marker="o", ms=3, label=label)
    ax.plot(steps, [2 * c["chance"] for c in curves], "k:", label="2 x chance (probe target)")
    ax.set_xlabel("step")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=6)
    ax = axes[1]
    ax.plot(steps, [math.nan if c["train_adv"] is None else c["train_adv"] for c in curves], marker="o", ms=3, label="L_adv (encoders' BCE to 1/2)")
    ax.plot(steps, [math.nan if c["train_scene"] is None else c["train_scene"] for c in curves], marker="o", ms=3, label="L_C (discriminator)")
    ax.axhline(math.log(2), color="k", ls=":", label="ln 2 (max. entropy)")
    ax.set_xlabel("step")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare(runs: list[Path], path: Path, title: str, floor: float | None = None) -> None:
    """One figure for several runs: pose -> scene probe, fresh C, C's accuracy while training and L_adv."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    panels = (("pose_to_scene_mlp", "pose -> scene, MLP probe"), ("fresh_C", "fresh C on frozen pose pairs"),
              ("train_C_acc", "C's accuracy while training"), ("train_adv", "L_adv (ln 2: C says 1/2)"))
    for run in runs:
        saved = json.loads((run / "curves.json").read_text())
        curves = saved["curves"]
        label = run.name
        for ax, (key, name) in zip(axes, panels):
            points = [(c["step"], c[key]) for c in curves if c.get(key) is not None]
            ax.plot(*zip(*points), marker="o", ms=3, label=label)
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("step")
    chance = json.loads((runs[0] / "curves.json").read_text())["curves"][0]["chance"]
    axes[0].axhline(2 * chance, color="k", ls=":", label="2 x chance")
    if floor is not None:
        axes[0].axhline(floor, color="grey", ls="--", label="where things moved -> scene (floor)")
    axes[3].axhline(math.log(2), color="k", ls=":", label="ln 2")
    for ax in axes[:3]:
        ax.set_ylim(0, 1.02)
    axes[0].legend(fontsize=7)
    axes[3].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--count", type=int, default=600, help="held-out clips per measurement")
    parser.add_argument("--data", default=None, help="the source's data/cache folder")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="flat overrides of the preset")
    parser.add_argument("--plot-only", action="store_true", help="only draw curves.png from an existing curves.json")
    parser.add_argument("--compare", nargs="*", default=None, metavar="RUN",
                        help="draw the curves of these runs (folders with curves.json) into --out (a .png) and stop")
    parser.add_argument("--floor", type=float, default=None,
                        help="with --compare: a line in the probe panel (tools/video_pose_floor.py's reading)")
    args = parser.parse_args()
    if args.compare:
        compare([Path(r) for r in args.compare], Path(args.out), f"{args.preset}: probe, fresh C and C while training",
                args.floor)
        return
    if args.plot_only:
        saved = json.loads((Path(args.out) / "curves.json").read_text())
        plot(saved["curves"], Path(args.out) / "curves.png", f"{saved['preset']} {saved['overrides']}")
        return
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    config = preset(args.preset, steps=args.steps, log_every=25, **overrides)
    split = "test" if config.data.source == "video" else "train"
    source = make_source(for_split(config.data, split), root=args.data)
    out = Path(args.out)
    curves: list[dict] = []
    start_cpu = time.process_time()
    measured_cpu = [0.0]

    def callback(step, history, model):
        if step % args.every and step != config.steps:
            return
        t0 = time.process_time()
        rows = history[-max(1, args.every // config.log_every):]
        row = {"step": step, "train_cpu_s": round(t0 - start_cpu - measured_cpu[0], 1),
               "train_C_acc": sum(r["scene_acc"] for r in rows) / len(rows),
               "train_adv": sum(r["adv"] for r in rows) / len(rows),
               "train_scene": sum(r["scene"] for r in rows) / len(rows),
               "train_rec": sum(r["rec"] for r in rows) / len(rows)}
        row.update(measure(model, source, args.count))
        measured_cpu[0] += time.process_time() - t0
        curves.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
        write_json({"preset": args.preset, "overrides": overrides, "steps": config.steps, "curves": curves},
                   out / "curves.json")

    initial = {"step": 0, "train_cpu_s": 0.0, "train_C_acc": None, "train_adv": None, "train_scene": None, "train_rec": None}
    t0 = time.process_time()
    curves.append({**initial, **measure(build_model(config), source, args.count)})
    measured_cpu[0] += time.process_time() - t0
    fit(config, out_dir=out / "run", data_root=args.data, progress=False, callback=callback, overwrite=True)
    summary = {"preset": args.preset, "overrides": overrides, "steps": config.steps,
               "train_cpu_s": round(time.process_time() - start_cpu - measured_cpu[0], 1),
               "measure_cpu_s": round(measured_cpu[0], 1), "curves": curves}
    write_json(summary, out / "curves.json")
    plot(curves, out / "curves.png", f"{args.preset} {overrides}")


if __name__ == "__main__":
    main()
