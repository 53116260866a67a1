"""Train turntable-lite with the adversary on/off and pose_dim 10 vs 2, evaluate each, write the table.

Run (each training under nice, one after another):
    python tools/turntable_ablation.py --out runs/turntable-ablation --steps 1500 --cache runs/turntable-cache
Prints the probe table of every run and writes ``RUN/metrics.json`` per run and ``ablation.json`` for all.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

from drnet_lite.atomic import write_json
from drnet_lite.experiments.turntable import evaluate_turntable, format_table
from drnet_lite.train import fit
from drnet_lite.presets import preset

VARIANTS = {"pose10-adv": (10, 0.1), "pose10-noadv": (10, 0.0), "pose2-noadv": (2, 0.0), "pose2-adv": (2, 0.1)}


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--cache", default=None, help="folder for the traced G-buffers (shared by the runs)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--only", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    out = Path(args.out)
    classifiers: dict = {}  # the object classifiers depend on the data only: trained once, shared by the runs
    for name in args.only:
        pose_dim, beta = VARIANTS[name]
        run = out / name
        if (run / "metrics.json").exists():
            print(f"{name}: done before, skipped")
            continue
        config = preset("turntable-lite", pose_dim=pose_dim, adversarial_weight=beta, steps=args.steps)
        wall, cpu = time.perf_counter(), cpu_seconds()
        result = fit(config, out_dir=run, data_root=args.cache, progress=False, resume=(run / "checkpoint.pt").exists())
        train_wall, train_cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        start = time.perf_counter()
        metrics = evaluate_turntable(result.model, config, root=args.cache, classifiers=classifiers)
        metrics["timing_eval_s"] = round(time.perf_counter() - start, 1)
        metrics["timing"] = {"train_wall_s": round(train_wall, 1), "train_cpu_s": round(train_cpu, 1),
                             "threads": int(os.environ.get("OMP_NUM_THREADS", "0") or 0)}
        write_json(metrics, run / "metrics.json")  # atomic: a Ctrl-C never leaves half a file
        print(f"== {name}: pose_dim {pose_dim}, adversarial_weight {beta}, {config.steps} steps, "
              f"{train_wall:.0f} s wall, {train_cpu:.0f} CPU s", flush=True)
        print(format_table(metrics), flush=True)
    runs = {name: json.loads((out / name / "metrics.json").read_text()) for name in VARIANTS
            if (out / name / "metrics.json").exists()}
    command = "python tools/turntable_ablation.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items()
                                                              if v is not None and k != "only")
    write_json({"command": command, "runs": runs}, out / "ablation.json")


if __name__ == "__main__":
    main()
