"""Command line: ``python -m drnet_lite <command>``.

Commands:
    demo          Moving MNIST pictures, then a DRNet (shipped weights, or a short
                  lite training run) and its reconstruction and swap pictures, and
                  a rollout of the shipped pose LSTM; the same on real video.
    train         train DRNet from a preset, with flags for the paper's ablations.
    evaluate      swap fidelity, swap content accuracy and leakage probes of a checkpoint.
    swap          the content of some clips in the pose of others (your videos, or the
                  checkpoint's own source): a swap matrix PNG and GIFs.
    ablations     train and score the paper's ablations back to back: one table.
    export        a slim copy of a checkpoint (weights and config) for shipping.
    train-lstm    train the pose LSTM on a frozen DRNet (future prediction).
    predict       roll a trained pose LSTM out: a strip image and an animated GIF.
    evaluate-lstm per-step PSNR/SSIM against two baselines, long-horizon judge accuracy.
    train-judge   train the digit classifier used to score swaps.
    download      fetch MNIST (md5-checked), KTH or small NORB into the data folder.
    presets       list the training presets and their settings.
"""
from __future__ import annotations

# One module per group of commands; each holds its commands' parsers and bodies side by side. Shared flag
# types are in flags.py, the parser class, the shipped files and the tables in common.py.
import argparse
import sys

from ..assets import REPO_ASSETS
from . import demo, evaluate, files, judge, prediction, swap, train
from .common import Parser, Shipped, dataset_help

#: The shipped files the commands fall back on (read when the parser is built and when a command runs,
#: so a test can point them elsewhere).
SHIPPED_DRNET = REPO_ASSETS / "mnist-lite.pt"
SHIPPED_LSTM = REPO_ASSETS / "mnist-lite-lstm.pt"
SHIPPED_DRNET2 = REPO_ASSETS / "mnist2-lite.pt"
SHIPPED_JUDGE = REPO_ASSETS / "digit_judge.pt"
SHIPPED_VIDEO = REPO_ASSETS / "video-64.pt"
SHIPPED_VIDEO_LSTM = REPO_ASSETS / "video-64-lstm.pt"

#: The groups, in the order their commands appear in ``--help``.
GROUPS = (demo, train, evaluate, swap, files, prediction, judge)


def shipped() -> Shipped:
    return Shipped(drnet=SHIPPED_DRNET, lstm=SHIPPED_LSTM, drnet2=SHIPPED_DRNET2, judge=SHIPPED_JUDGE,
                   video=SHIPPED_VIDEO, video_lstm=SHIPPED_VIDEO_LSTM)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m drnet_lite", description=__doc__, epilog="datasets (sources): " + dataset_help(),
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    files_now = shipped()
    for order in COMMAND_ORDER:
        ADDERS[order](sub, files_now)
    return parser


#: Every command's parser, by name, in the order of ``--help``.
ADDERS = {name: add for group in GROUPS for name, add in group.COMMANDS.items()}
COMMAND_ORDER = ("demo", "train", "evaluate", "swap", "export", "train-lstm", "predict", "evaluate-lstm", "train-judge",
                 "download", "evaluate-kth", "ablations", "presets")


def describe_os_error(exc: OSError) -> str:
    """One line for a file-system or network error, with the hint that fits it."""
    import errno

    from ..atomic import NO_SPACE

    if exc.errno in NO_SPACE:  # the message already names the path and what was kept
        return str(exc.strerror or exc)
    name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
    what = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{name}{what}; choose a place you can write to, or fix its permissions"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST):
        return f"{name}{what}; check the path"
    if getattr(exc, "filename", None) is None:  # no file involved: a network error (no connection, a timeout)
        return f"{what}; check the network connection (or copy the files by hand: see --help)"
    return f"{name}{what}; check the path and its permissions"


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every error of the package's own kinds, and every file-system error, is reported
    as one line on stderr with exit status 2 (1 for a judge below its bar, 130 after Ctrl-C)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # a bad flag (already reported on one line), or --help
        return exc.code if isinstance(exc.code, int) else 2
    from ..checkpoint import CheckpointError
    from ..data.kth import KTHError
    from ..data.mnist import MNISTChecksumError, MNISTDownloadError, MNISTNotFoundError, MNISTUnreadableError
    from ..data.norb import NORBNotFoundError
    from ..runs import Interrupted, RunFolderError, TrainingDiverged

    args.shipped = shipped()
    try:
        return args.func(args)
    except (MNISTNotFoundError, MNISTChecksumError, MNISTUnreadableError, MNISTDownloadError, CheckpointError,
            KTHError, NORBNotFoundError, RunFolderError, TrainingDiverged, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file in the way, a read-only folder, a full disk, no network
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint written is intact", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
