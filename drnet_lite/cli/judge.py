"""``train-judge``: the digit classifier that reads swapped and predicted frames (:mod:`drnet_lite.judge`)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .common import Shipped, UsageError, add_command
from .flags import json_file, positive_int

#: The judge's accuracy bar on MNIST test (see drnet_lite.judge).
JUDGE_BAR = 0.99


def add_train_judge(sub, shipped: Shipped) -> None:
    p = add_command(sub, "train-judge", "train the digit judge on MNIST",
                    "--replace-asset    # runs/digit-judge/; the shipped asset only if it reaches the bar")
    p.add_argument("--out", default="runs/digit-judge/digit_judge.pt", type=json_file,
                   help="where the new judge goes (default: a run folder; the shipped asset is replaced only with --replace-asset)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--replace-asset", action="store_true",  # "%%": argparse formats help with %
                   help=f"also replace the shipped assets/digit_judge.pt, if the new judge reaches {JUDGE_BAR:.0%}%")
    p.add_argument("--epochs", type=positive_int, default=3, help="passes over the MNIST training set (default 3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order (default 0)")
    p.add_argument("--data", default=None, help="the data folder (MNIST/, KTH/, ... below it; default: $DRNET_DATA, else the user cache)")
    p.set_defaults(func=run_train_judge)


def run_train_judge(args: argparse.Namespace) -> int:
    from ..checkpoint import save_checkpoint
    from ..judge import judge_payload, train_judge
    from ..runs import acquire_lock, probe_folder, release_lock

    shipped = args.shipped.judge
    out = Path(args.out)
    if out.resolve() == shipped.resolve():
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
            kept = f"; {shipped} was not replaced" if args.replace_asset else ""
            print(f"error: the judge did not reach the bar of {JUDGE_BAR:.0%}{kept}; train longer (--epochs)",
                  file=sys.stderr)
            return 1
        if args.replace_asset:
            save_checkpoint(payload, shipped)
            print(f"replaced {shipped}")
    finally:
        release_lock(lock)
    return 0


COMMANDS = {"train-judge": add_train_judge}
