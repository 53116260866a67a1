"""Commands that train DRNet: ``train`` (one run from a preset), ``ablations`` (the paper's ablations, one
table) and ``presets`` (the settings each preset stands for)."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .common import Shipped, UsageError, add_command, dataset_help
from .flags import (add_run_flags, batch_size, device, image_size, json_file, nonnegative_float, nonnegative_int,
                    out_folder, positive_float, positive_int, probe_clips, share)


# --- train ---

def add_train(sub, shipped: Shipped) -> None:
    from ..presets import PRESETS

    p = add_command(sub, "train", "train DRNet", "--preset mnist-lite --steps 4000 --out runs/lite",
                    notes="datasets (sources): " + dataset_help())
    p.add_argument("--preset", default="mnist-lite", choices=sorted(PRESETS),
                   help="mnist-lite (Moving MNIST, CPU minutes), mnist-lab (the same in about 5 minutes), "
                        "mnist2-lite (two coloured digits), mnist-paper (Moving MNIST, reference) or "
                        "video-64 (real video: a skip DRNet on tiles of vtest.avi, or of --videos)")
    p.add_argument("--videos", nargs="+", metavar="PATH",
                   help="video files or folders for a video preset (default: Debian opencv-doc's vtest.avi)")
    p.add_argument("--tiles", type=positive_int, nargs=2, metavar=("ROWS", "COLS"),
                   help="video: cut frames into this grid of scenes")
    p.add_argument("--frame-step", type=positive_int, help="video: keep every n-th frame")
    p.add_argument("--seq-len", type=positive_int, help="frames per clip")
    p.add_argument("--steps", type=positive_int, help="total training steps")
    add_run_flags(p)
    p.add_argument("--batch-size", type=batch_size, help="clips per step, at least 2 (default: the preset's)")
    p.add_argument("--lr", type=positive_float, help="Adam learning rate (default: the preset's)")
    p.add_argument("--lr-decay", type=share, help="share of the steps at the end over which lr falls linearly to 0 (default 0: constant)")
    p.add_argument("--similarity-weight", "--alpha", dest="similarity_weight", type=nonnegative_float, help="alpha")
    p.add_argument("--adversarial-weight", "--beta", dest="adversarial_weight", type=nonnegative_float,
                   help="beta; 0 switches the adversary off (ablation)")
    p.add_argument("--motion-weight", type=nonnegative_float,
                   help="lambda: weight pixels that moved between content and pose frame by 1 + lambda |x_p - x_c| in L_rec (default 0)")
    p.add_argument("--pose-noise", type=nonnegative_float,
                   help="std of Gaussian noise on the pose vector the decoder reads while training (a capacity limit; default 0)")
    p.add_argument("--swap-weight", type=nonnegative_float,
                   help="gamma of L_swap: the pose encoder must read back another clip's pose from a swap (not in the paper; default 0: off)")
    p.add_argument("--kernel-weight", type=nonnegative_float,
                   help="weight of L_kernel: pose vectors of one clip may be no closer than those of two (not in the paper; default 0: off)")
    p.add_argument("--classifier-weight", type=nonnegative_float,
                   help="weight of the scene classifier's confusion term (an adversary on one pose vector that reads the clips' "
                   "scene labels; not in the paper; needs --scene-classes; default 0: off)")
    p.add_argument("--scene-classes", type=nonnegative_int,
                   help="outputs of the scene classifier: more than the largest scene label (turntable-lite: 30, video-64: 12)")
    p.add_argument("--dependence-weight", type=nonnegative_float,
                   help="weight of L_dep: the kernel alignment of pose with its clip's content (not in the paper; default 0: off)")
    p.add_argument("--partner", choices=["clip", "scene"],
                   help="scene discriminator: shuffled partners from another clip of the batch (the paper) or another scene")
    p.add_argument("--scene-positives", dest="scene_positives", action="store_true", default=None,
                   help="scene discriminator: its 'same' pairs are two clips of one scene, not two frames of one clip")
    p.add_argument("--discriminator", choices=["mlp", "siamese"], help="scene discriminator: the paper's MLP or a siamese comparator")
    p.add_argument("--discriminator-steps", type=positive_int, help="updates of the scene discriminator per step (default 1)")
    p.add_argument("--discriminator-norm", dest="discriminator_norm", action="store_true", default=None,
                   help="scene discriminator: standardise each pose dimension over the batch before reading it")
    p.add_argument("--pose-dim", type=positive_int, help="size of the pose vector h_p")
    p.add_argument("--content-dim", type=positive_int, help="size of the content vector h_c")
    p.add_argument("--width", type=positive_int, help="channels of the first stage (64 in the paper)")
    p.add_argument("--max-step", type=nonnegative_int, help="largest distance in frames between the four frames of a step")
    p.add_argument("--num-digits", type=positive_int, help="Moving MNIST: digits per clip")
    p.add_argument("--channels", choices=["grey", "per-digit", "rgb"],
                   help="channel mode of the data (Moving MNIST: grey or per-digit; video: grey or rgb)")
    p.add_argument("--image-size", type=image_size, help="frame size, a power of two (32, 64, 128)")
    p.add_argument("--normalize-content", dest="normalize_content", action="store_true", default=None,
                   help="normalise the content vector over the batch (no collapse to a constant)")
    p.add_argument("--no-normalize-content", dest="normalize_content", action="store_false",
                   help="the paper's plain content head")
    p.add_argument("--per-channel", dest="per_channel", action="store_true", default=None,
                   help="one set of networks applied to each colour channel alone (content/pose dims: the whole vectors)")
    p.add_argument("--no-per-channel", dest="per_channel", action="store_false",
                   help="the networks take all channels at once (the default but for mnist2-lite)")
    p.add_argument("--init-from", dest="init_from", metavar="CHECKPOINT",
                   help="start the networks from this DRNet file or shipped asset (mnist2-lite: mnist-lite.pt); '' = from scratch")
    p.add_argument("--seed", type=int, help="seed of the weights and the batches (default: the preset's)")
    p.add_argument("--device", default=None, type=device, help="auto (default), cpu, cuda, mps")
    p.add_argument("--amp", action="store_true", default=None, help="mixed precision: bfloat16 on CUDA and on CPUs with native bf16 (AVX512-BF16/AMX; about 1.6x faster on one core, close to but not equal to float32), else float16 with a gradient scaler on older GPUs (T4)")
    p.add_argument("--data", "--root", dest="data", default=None,
                   help="the source's folder: Moving MNIST's MNIST folder (default: $DRNET_DATA or the user "
                   "cache); video: the decoded-frame cache (default: $DRNET_CACHE/video); KTH: the folder holding KTH/; "
                   "small NORB: its six files; turntable: where it keeps its traced views")
    p.add_argument("--compile", action="store_true", help="torch.compile the networks (optional, for long GPU runs)")
    p.set_defaults(func=run_train)


#: The flags that set the training config (flat names of :func:`drnet_lite.train.with_overrides`).
CONFIG_FLAGS = ["steps", "batch_size", "lr", "lr_decay", "similarity_weight", "adversarial_weight", "motion_weight",
                "pose_noise", "swap_weight", "kernel_weight", "classifier_weight", "scene_classes", "dependence_weight", "partner", "scene_positives", "discriminator", "discriminator_steps", "discriminator_norm",
                "pose_dim", "content_dim", "width", "max_step", "num_digits", "channels", "image_size",
                "normalize_content", "per_channel", "init_from", "seed", "device", "amp", "checkpoint_every", "videos",
                "tiles", "frame_step", "seq_len"]


def train_config(args: argparse.Namespace):
    """The preset named by ``--preset`` with the flags given."""
    from ..presets import preset

    return preset(args.preset, **{k: getattr(args, k) for k in CONFIG_FLAGS})


def flat_value(config, name: str):
    """The value of the flat setting ``name`` in a TrainConfig (its own fields, then its data's, then its model's)."""
    for part in (config, config.data, config.model):
        if hasattr(part, name):
            return getattr(part, name)
    return None


def resume_config(args: argparse.Namespace, checkpoint: Path):
    """A resumed run's config: the one its checkpoint stores, with the flags that may change on a resume
    (--steps, --device, --checkpoint-every) applied. A flag given with a value that differs from the stored
    one is an error naming it; a flag that repeats the stored value is fine."""
    from ..checkpoint import RESUMABLE_CHANGES, load_checkpoint, read_config
    from ..train import TrainConfig, with_overrides

    stored = read_config(load_checkpoint(checkpoint, kind="drnet"), checkpoint, TrainConfig.from_dict)
    given = {k: getattr(args, k) for k in CONFIG_FLAGS if getattr(args, k) is not None}
    fixed = [k for k in given if k not in RESUMABLE_CHANGES and with_overrides(stored, **{k: given[k]}) != stored]
    if fixed:
        named = ", ".join(f"--{k.replace('_', '-')} {given[k]} (the run has {flat_value(stored, k)})" for k in fixed)
        allowed = ", ".join(f"--{k.replace('_', '-')}" for k in RESUMABLE_CHANGES if k in CONFIG_FLAGS)
        raise UsageError(f"--resume: {named}: a resumed run keeps the config stored in {checkpoint}; only {allowed} "
                         "may change. Leave those flags out, or start a new run in another --out")
    return with_overrides(stored, **{k: v for k, v in given.items() if k in RESUMABLE_CHANGES})


def run_train(args: argparse.Namespace) -> int:
    from ..runs import CHECKPOINT_NAME
    from ..train import fit

    out = Path(args.out or f"runs/{args.preset}")
    if args.resume and (out / CHECKPOINT_NAME).is_file():  # its stored config, not the preset's
        config = resume_config(args, out / CHECKPOINT_NAME)
        print(f"resuming the run in {out} with the config its checkpoint stores")
    else:
        config = train_config(args)
    print(f"training {'the resumed run' if args.resume else args.preset} for {config.steps} steps -> {out}")
    start = time.perf_counter()
    result = fit(config, out, resume=args.resume, overwrite=args.overwrite, data_root=args.data,
                 compile_model=args.compile)
    if result.step > config.steps:
        print(f"nothing to do: the run in {out} is already at step {result.step} (more than --steps)")
    last = result.history[-1] if result.history else {}
    figures = ", ".join(f"{k}={v}" if k == "step" else f"{k}={v:.4g}" for k, v in last.items())
    print(f"done in {time.perf_counter() - start:.0f} s: {figures}")
    print(f"checkpoint: {result.checkpoint}\nhistory:    {out / 'history.csv'}\npictures:   {out / 'images'}")
    return 0


# --- ablations ---

def add_ablations(sub, shipped: Shipped) -> None:
    from ..ablations import ABLATIONS

    p = add_command(sub, "ablations", "train and score the paper's ablations back to back: one table",
                    "--preset mnist-lab --out runs/ablations --json runs/ablations/table.json")
    p.add_argument("--preset", default="mnist-lab", help="the Moving MNIST preset every run starts from (default: mnist-lab)")
    p.add_argument("--names", nargs="+", default=None, choices=list(ABLATIONS), help="which ablations (default: all, in this order)")
    p.add_argument("--steps", type=positive_int, default=None, help="training steps of every run (default: the preset's)")
    p.add_argument("--out", required=True, type=out_folder, help="run folders go to OUT/<ablation>")
    p.add_argument("--overwrite", action="store_true", help="replace runs already in --out")
    p.add_argument("--json", default=None, type=json_file, help="also write the rows to this JSON file")
    p.add_argument("--pairs", type=positive_int, default=500, help="fixed (content, pose) test pairs")
    p.add_argument("--probe-clips", type=probe_clips, default=2000, help="test clips for the leakage probes")
    p.add_argument("--device", default=None, type=device, help="cpu, cuda, cuda:N, mps or auto (default: the best there is)")
    p.add_argument("--data", default=None, help="the data folder (MNIST/, KTH/, ... below it; default: $DRNET_DATA, else the user cache)")
    p.set_defaults(func=run_ablations)


def run_ablations(args: argparse.Namespace) -> int:
    from ..ablations import ablation_table, run_ablations as train_and_score
    from ..atomic import write_json

    overrides = {"steps": args.steps, "device": args.device}
    rows = train_and_score(base=args.preset, names=args.names, out_root=args.out, data_root=args.data, pairs=args.pairs,
                           probe_clips=args.probe_clips, overwrite=args.overwrite, **overrides)
    print(ablation_table(rows))
    if args.json:
        print(f"wrote {write_json({'preset': args.preset, 'rows': rows}, Path(args.json))}")
    return 0


# --- presets ---

def add_presets(sub, shipped: Shipped) -> None:
    p = add_command(sub, "presets", "print the presets", "")
    p.set_defaults(func=run_presets)


def run_presets(args: argparse.Namespace) -> int:
    from ..presets import PRESETS

    for name, make in PRESETS.items():
        print(f"{name}:\n{json.dumps(make().to_dict(), indent=2)}")
    return 0


COMMANDS = {"train": add_train, "ablations": add_ablations, "presets": add_presets}
