"""``evaluate``: the numbers of a trained DRNet on the fixed test set of its own source (Moving MNIST: swaps
scored by the digit judge and leakage probes; the turntable: its probe table and exact swaps; any other
source: reconstructions of held-out frames and probes where labels exist)."""
from __future__ import annotations

import argparse
import time

from .common import Shipped, add_command, format_table
from .flags import check_output, default_output, existing, json_file, positive_int, probe_clips


def add_evaluate(sub, shipped: Shipped) -> None:
    p = add_command(sub, "evaluate", "measure disentanglement of a trained DRNet",
                    "--checkpoint runs/lite/checkpoint.pt    # table + metrics.json beside it")
    p.add_argument("--checkpoint", required=True, type=existing("checkpoint"), help="the DRNet checkpoint to score (train writes RUN/checkpoint.pt)")
    p.add_argument("--judge", default=None, type=existing("digit judge"), help="digit judge weights (default: assets/digit_judge.pt)")
    p.add_argument("--pairs", type=positive_int, default=500, help="fixed (content, pose) test pairs")
    p.add_argument("--probe-clips", type=probe_clips, default=2000, help="test clips for the leakage probes")
    p.add_argument("--out", default=None, type=json_file, help="JSON file (default: metrics.json beside the checkpoint; for a shipped one in assets/, "
                   "runs/<its name>/metrics.json)")
    p.add_argument("--data", default=None, help="the data folder (MNIST/, KTH/, ... below it; default: $DRNET_DATA, else the user cache)")
    p.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from ..atomic import write_json
    from ..evaluate_frames import evaluate_frames
    from ..train import load_drnet

    out = check_output(args.out or default_output(args.checkpoint, "metrics.json"))
    model, config = load_drnet(args.checkpoint)
    start = time.perf_counter()
    if config.data.source == "turntable":  # the turntable's own table (probes, exact swaps)
        from ..course import quick_mode
        from ..experiments.turntable import evaluate_turntable, format_table as turntable_table

        results = evaluate_turntable(model, config, root=args.data, probe_count=args.probe_clips // 2 + 500,
                                     pairs=min(args.pairs, 256), quick=quick_mode())
        results["checkpoint"] = str(args.checkpoint)
        results["seconds"] = round(time.perf_counter() - start, 1)
        print(turntable_table(results))
        print(f"wrote {write_json(results, out)}")
        return 0
    if config.data.source == "moving-mnist":  # the digit judge and exact swap targets
        from ..experiments.moving_mnist import evaluate
        from ..judge import load_judge

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


COMMANDS = {"evaluate": add_evaluate}
