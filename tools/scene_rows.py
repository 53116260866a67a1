"""One row per trained run of the scene-discriminator study: the issue's numbers, measured the same way for every run.

Turntable runs: the probe table of :func:`drnet_lite.experiments.turntable.probe_table` (1,500 clips per split),
the viewpoint that pose holds once the toy is known (:func:`~drnet_lite.experiments.turntable.viewpoint_given_toy`)
and swaps against the exact target on seen and unseen toys (256 pairs each, no classifier), plus a fresh scene
discriminator. Video runs: :func:`drnet_lite.evaluate_frames.evaluate_frames` (500 clips, 1,000 probe clips).

    OMP_NUM_THREADS=1 python tools/scene_rows.py runs/a runs/b --data CACHE --out rows.json
Each RUN is a folder holding ``checkpoint.pt`` (or ``run/checkpoint.pt``) and, if the curves tool made it,
``curves.json`` (its training CPU seconds are copied into the row). ``untrained:PRESET`` instead scores the
preset's networks as they start (its seed, DCGAN init, no step taken): the leak a pose encoder has before
any training.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from drnet_lite.atomic import write_json
from drnet_lite.data import for_split, make_source
from drnet_lite.evaluate_frames import encode_frames, evaluate_frames, fresh_scene_discriminator
from drnet_lite.train import load_drnet


def checkpoint_of(run: Path) -> Path:
    for path in (run / "checkpoint.pt", run / "run" / "checkpoint.pt", run):
        if path.is_file():
            return path
    raise FileNotFoundError(f"no checkpoint.pt in {run}")


def turntable_row(model, config, root) -> dict:
    from drnet_lite.experiments.turntable import probe_table, swap_scores, viewpoint_given_toy

    row: dict = {"probes": probe_table(model, config.data, count=1500, root=root),
                 "viewpoint_given_toy": viewpoint_given_toy(model, config.data, count=1500, root=root)}
    for split in ("train", "test"):
        row[f"swaps_{split}_toys"] = swap_scores(model, make_source(for_split(config.data, split), root=root), pairs=256)
    source = make_source(for_split(config.data, "train"), root=root)
    _, pose, _ = encode_frames(model, source, 1000, seed=2018)
    row["fresh_scene_discriminator_accuracy"] = fresh_scene_discriminator(pose, 500, model.config.pose_dim,
                                                                           model.config.discriminator_hidden)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    rows = json.loads(out.read_text()) if out.exists() else {}
    for name in args.runs:
        run = Path(name)
        start = time.process_time()
        if name.startswith("untrained:"):
            from drnet_lite.presets import preset
            from drnet_lite.train import build_model

            config = preset(name.split(":", 1)[1], device="cpu")
            model = build_model(config).eval()  # seeded by config.seed
        else:
            model, config = load_drnet(checkpoint_of(run))
        with torch.no_grad():
            if config.data.source == "video":
                row = evaluate_frames(model, config.data, root=args.data, count=500, probe_clips=1000)
            else:
                row = turntable_row(model, config, args.data)
        row["config"] = {k: v for k, v in config.to_dict().items() if k not in ("data",)}
        curves = run / "curves.json"
        if curves.exists():
            c = json.loads(curves.read_text())
            row["train_cpu_s"] = c.get("train_cpu_s")
            row["overrides"] = c.get("overrides")
        row["eval_cpu_s"] = round(time.process_time() - start, 1)
        rows[str(run)] = row
        write_json(rows, out)
        print(name, json.dumps({k: v for k, v in row.items() if k not in ("config", "data")})[:3000], flush=True)


if __name__ == "__main__":
    main()
