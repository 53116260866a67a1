"""Two digits, one colour channel each: train with the per-digit diagnosis logger, and draw its curves.

    python tools/two_digit_diagnosis.py diagnose --preset mnist2-joint --steps 3000 --every 100 --out runs/diag-joint
    python tools/two_digit_diagnosis.py figure "both channels at once=runs/diag-joint/diagnosis.csv" \
        --out assets/figures/two_digits_diagnosis.png

``diagnose`` hands :class:`~drnet_lite.experiments.moving_mnist.DiagnosisLogger` to ``fit`` as its callback
(every ``--every`` steps: content -> digit k, pose -> digit k, pose -> position R^2 of digit k, the reconstruction
error of channel k, the scene discriminator's accuracy, the swaps' digit k read by the judge); use one thread
(``OMP_NUM_THREADS=1``) on a shared machine. ``figure`` draws one or more such CSVs, one line style each.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from drnet_lite.experiments.moving_mnist import PRESETS, DiagnosisLogger, diagnosis_figure, read_rows
from drnet_lite.judge import load_judge
from drnet_lite.train import fit, with_overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/two_digit_diagnosis.py", description=__doc__.split("\n")[0])
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
