"""Commands that fetch or write files: ``download`` (MNIST, KTH, small NORB) and ``export`` (a slim copy of
a checkpoint for shipping)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from .common import Shipped, UsageError, add_command
from .flags import check_output, existing, json_file, positive_float


# --- download ---

def add_download(sub, shipped: Shipped) -> None:
    p = add_command(sub, "download", "download MNIST (md5-checked), KTH (resumable, checked) or small NORB",
                    "kth --root data --mirror http://localhost:8000/kth/ --min-archive-mb 1",
                    notes="mnist, kth or norb. Offline, the error names the files, where they come from and the "
                          "folder to put them in, so they can be copied there by hand. --mirror and "
                          "--min-archive-mb apply to KTH: a mirror (a base URL holding the same file names, "
                          "used instead of the KTH site), and the smallest size an archive may have before it counts "
                          "as an error page (lower it for a small test mirror).")
    p.add_argument("dataset", nargs="?", choices=["mnist", "kth", "norb"], default="mnist",
                   help="mnist: the four MNIST files (about 11 MB, md5-checked; the default); kth: the six KTH "
                   "action zips and 00sequences.txt into KTH/ (hundreds of MB, resumable, size-checked, then "
                   "unpacked); norb: the six small NORB files into NORB/ (the turntable's real photographs)")
    p.add_argument("--data", "--root", dest="data", default=None,
                   help="data folder (MNIST/, KTH/ or small NORB go below it; default: $DRNET_DATA or the user cache)")
    p.add_argument("--mirror", default=None, help="KTH: base URL of a mirror or local copy (default: the KTH site, "
                   "then its legacy host)")
    p.add_argument("--min-archive-mb", type=positive_float, default=None,
                   help="KTH: smallest plausible archive size in MB (default 20; lower it for a small mirror)")
    p.set_defaults(func=run_download)


def run_download(args: argparse.Namespace) -> int:
    if args.dataset == "kth":
        return download_kth(args)
    from ..data.mnist import download_mnist

    if args.dataset == "norb":
        from ..data.norb import download_norb

        print(f"small NORB is in {download_norb(args.data)}")
        return 0
    print(f"MNIST is in {download_mnist(args.data)}")
    return 0


def download_kth(args: argparse.Namespace) -> int:
    """KTH: the six action zips and 00sequences.txt into ROOT/KTH (resumable), then unpacked."""
    from ..data.kth import MIN_ARCHIVE_BYTES, download_kth as fetch_kth, extract_archives
    from ..data.mnist import data_root

    root = data_root(args.data)
    start = time.perf_counter()
    min_bytes = MIN_ARCHIVE_BYTES if args.min_archive_mb is None else int(args.min_archive_mb * 2**20)
    report = fetch_kth(root, mirror=args.mirror, min_archive_bytes=min_bytes)
    print(f"KTH files in {report.folder}: {len(report.fetched)} downloaded, {len(report.present)} already there "
          f"({time.perf_counter() - start:.0f} s)")
    extracted = extract_archives(root)
    print(extracted.summary())
    print(f"next: python -m drnet_lite train --preset kth-64 --root {root} --out runs/kth-64 "
          "(the first run decodes the videos into the cache once)")
    return 0 if not extracted.failed else 1


# --- export ---

def add_export(sub, shipped: Shipped) -> None:
    p = add_command(sub, "export", "slim copy of a checkpoint for shipping (no optimiser state)",
                    "--checkpoint runs/lite/checkpoint.pt --out assets/mnist-lite.pt --half")
    p.add_argument("--checkpoint", required=True, type=existing("checkpoint"), help="a training checkpoint (RUN/checkpoint.pt)")
    p.add_argument("--out", required=True, type=json_file, help="the slim copy to write (a .pt file; not the checkpoint itself)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the size; loaded as float32)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from ..checkpoint import export_weights, load_checkpoint
    from ..train import load_drnet
    from ..train_lstm import load_pose_lstm

    if Path(args.out).exists() and Path(args.out).resolve() != Path(args.checkpoint).resolve() and not args.overwrite:
        raise UsageError(f"{args.out} exists; pass --overwrite to replace it, or choose another --out")
    check_output(args.out)
    out = export_weights(args.checkpoint, args.out, half=args.half)
    kind = load_checkpoint(out)["kind"]
    load_drnet(out) if kind == "drnet" else load_pose_lstm(out)  # check it loads
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB: {kind} weights and config, no optimiser state)")
    return 0


COMMANDS = {"download": add_download, "export": add_export}
